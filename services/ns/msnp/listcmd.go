package msnp

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/models"
)

// The list commands of SYN-era clients (MSNP8–12): ADD (MSNP8–9) and ADC
// (MSNP10–12), REM, ADG, RMG, REG, REA, SBP, GTC and BLP. MSNP8–9 name
// contacts by address and groups by small integers and carry the list
// version in every answer; MSNP10–12 name FL contacts and groups by GUID
// and carry no version. Sources (facts only): pidgin 2.2.2
// notification.c (add_cmd, rem_cmd, adg_cmd, reg_cmd, rmg_cmd, rea_cmd read
// params[1..5]), msn.c and userlist.c (what the client sends); the jml
// library's Incoming{ADD,ADC,ADG,REG,RMG,REM,REA,SBP,BLP} (the MSNP10 forms).

// ListOp is a parsed ADD, ADC or REM.
type ListOp struct {
	List  string // FL AL BL (ADD, ADC); FL AL BL PL (REM)
	Email string // the address as sent (ADD, ADC N=, REM AL/BL/PL, MSNP8–9 REM FL)
	GUID  string // the contact GUID (ADC C=, MSNP10–12 REM FL)
	// Nick is the decoded friendly name (ADD, ADC F=); NickArg as sent.
	Nick, NickArg string
	// Group is the group id as sent: an integer in MSNP8–9 ("0" is the
	// no-group group), a GUID in MSNP10–12; "" when absent.
	Group string
}

// clientLists are the lists a client may name; RL is written by the
// server only (pidgin never sends it; Escargot closes the connection).
var clientLists = map[string]bool{"FL": true, "AL": true, "BL": true}

func listArgErr(msg string) error { return &Error{Code: ErrInvalidParameter, Msg: msg} }

// badAddress refuses a malformed sign-in name with 208, the NS API's number
// for it (pidgin 2.2.2 add_error: "… is not a valid passport account").
var badAddress error = &Error{Code: ErrInvalidUsername, Msg: "malformed address"}

// ParseADD parses the arguments after the trid of MSNP8–9
// "ADD trid FL|AL|BL email nick [gid]" (pidgin 2.2.2
// msn_notification_add_buddy; a missing nick takes the address). Errors are
// *Error: 201 for a bad list or group id, 208 for a malformed address, 209
// for a bad nick.
func ParseADD(args []string) (ListOp, error) {
	if len(args) < 2 || len(args) > 4 {
		return ListOp{}, &Error{Code: ErrSyntax, Msg: "ADD: wrong number of arguments"}
	}
	op := ListOp{List: args[0], Email: args[1], NickArg: args[1]}
	if !clientLists[op.List] {
		return op, listArgErr("ADD: list " + op.List)
	}
	if len(args) >= 3 {
		op.NickArg = args[2]
	}
	if len(args) == 4 {
		op.Group = args[3]
		if _, ok := GroupNumber(op.Group); !ok || op.List != "FL" {
			return op, listArgErr("ADD: group " + op.Group)
		}
	}
	return op, op.check()
}

// ParseADC parses the arguments after the trid of MSNP10–12
// "ADC trid FL N=email F=nick", "ADC trid AL|BL N=email" and
// "ADC trid FL C=guid groupguid" (jml IncomingADC).
func ParseADC(args []string) (ListOp, error) {
	if len(args) < 2 || len(args) > 3 {
		return ListOp{}, &Error{Code: ErrSyntax, Msg: "ADC: wrong number of arguments"}
	}
	op := ListOp{List: args[0]}
	if !clientLists[op.List] {
		return op, listArgErr("ADC: list " + op.List)
	}
	if guid, ok := strings.CutPrefix(args[1], "C="); ok {
		if op.List != "FL" || len(args) != 3 || !ValidGUID(guid) || !ValidGUID(args[2]) {
			return op, listArgErr("ADC: C= form")
		}
		op.GUID, op.Group = guid, args[2]
		return op, nil
	}
	email, ok := strings.CutPrefix(args[1], "N=")
	if !ok {
		return op, listArgErr("ADC: neither N= nor C=")
	}
	op.Email, op.NickArg = email, email
	if len(args) == 3 {
		nick, ok := strings.CutPrefix(args[2], "F=")
		if !ok || op.List != "FL" {
			return op, listArgErr("ADC: third argument")
		}
		op.NickArg = nick
	}
	return op, op.check()
}

// validAddress reports whether s is a sign-in name exactly as written
// (models.NormalizeEmail would also accept it with surrounding spaces).
func validAddress(s string) bool {
	n, err := models.NormalizeEmail(s)
	return err == nil && strings.EqualFold(n, s)
}

// check validates the address and decodes the nick.
func (op *ListOp) check() error {
	if !validAddress(op.Email) {
		return badAddress
	}
	nick, err := DecodeName(op.NickArg)
	if err != nil {
		return err
	}
	op.Nick = nick
	return nil
}

// ParseREM parses the arguments after the trid of "REM trid list id [gid]"
// for a session of protocol version: id is the address, except for FL in
// MSNP10–12 where it is the contact GUID (jml IncomingREM). PL is allowed
// (declining a pending invitation).
func ParseREM(args []string, version int) (ListOp, error) {
	if len(args) < 2 || len(args) > 3 {
		return ListOp{}, &Error{Code: ErrSyntax, Msg: "REM: wrong number of arguments"}
	}
	op := ListOp{List: args[0]}
	if !clientLists[op.List] && op.List != "PL" {
		return op, listArgErr("REM: list " + op.List)
	}
	if len(args) == 3 {
		op.Group = args[2]
		if op.List != "FL" || !validGroupID(op.Group, version) {
			return op, listArgErr("REM: group " + op.Group)
		}
	}
	if op.List == "FL" && GroupGUIDs(version) {
		op.GUID = args[1]
		if !ValidGUID(op.GUID) {
			return op, listArgErr("REM: contact id")
		}
		return op, nil
	}
	op.Email = args[1]
	if !validAddress(op.Email) {
		return op, badAddress
	}
	return op, nil
}

// validGroupID reports whether s names a group in the session's form.
func validGroupID(s string, version int) bool {
	if GroupGUIDs(version) {
		return ValidGUID(s)
	}
	_, ok := GroupNumber(s)
	return ok
}

// GroupNumber parses an MSNP8–9 group id: a decimal integer 0–999999 with
// no sign or leading zeros (LSG ids; 0 is the no-group group).
func GroupNumber(s string) (int, bool) {
	if len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	return parseLength(s) // digits only, not empty
}

// ValidGUID reports whether s is a bare GUID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
// in hex digits of either case (contact and group ids of MSNP10–12).
func ValidGUID(s string) bool { return models.IsGUID(s) }

// MaxGroupName is the longest decoded group name (bytes of UTF-8) the codec
// passes on; the NS API applies the exact limit (229 beyond it).
const MaxGroupName = 1024

// DecodeGroupName decodes an ADG/REG name argument (URL-encoded, as pidgin's
// purple_url_encode writes it). Bad encoding, an empty name, invalid UTF-8
// or control characters are 201.
func DecodeGroupName(arg string) (string, error) {
	s, err := url.PathUnescape(arg)
	if err != nil || s == "" || len(s) > MaxGroupName || !utf8.ValidString(s) {
		return "", listArgErr("bad group name")
	}
	if bad := badText([]byte(s)); bad != "" {
		return "", listArgErr(bad + " in group name")
	}
	return s, nil
}

// withVersion is [trid] + [list version] (MSNP8–9 only) + rest.
func withVersion(version int, trid string, listVer int64, rest ...string) []string {
	out := make([]string, 0, 2+len(rest))
	out = append(out, trid)
	if ListVersionInts(version) {
		out = append(out, strconv.FormatInt(listVer, 10))
	}
	return append(out, rest...)
}

// ADDArgs are the arguments of MSNP8–9 "ADD trid list ver email nick [gid]"
// (pidgin add_cmd: params[1] list, [3] address, [4] nick, [5] group).
func ADDArgs(trid, list string, listVer int64, email, nickArg, group string) []string {
	out := []string{trid, list, strconv.FormatInt(listVer, 10), email, nickArg}
	if group != "" {
		out = append(out, group)
	}
	return out
}

// ADCArgs are the arguments of the MSNP10–12 ADC answer: "trid FL N=email
// F=nick C=guid" for a new FL contact, "trid FL C=guid groupguid" for a
// group add, "trid AL|BL N=email" otherwise (jml IncomingADC syntaxes 1–3).
func ADCArgs(trid string, op ListOp, guid string) []string {
	switch {
	case op.List == "FL" && op.Group != "":
		return []string{trid, "FL", "C=" + guid, op.Group}
	case op.List == "FL":
		return []string{trid, "FL", "N=" + op.Email, "F=" + op.NickArg, "C=" + guid}
	}
	return []string{trid, op.List, "N=" + op.Email}
}

// REMArgs are the arguments of the REM answer: MSNP8–9
// "trid list ver id [gid]", MSNP10–12 "trid list id [gid]" (jml IncomingREM).
func REMArgs(version int, trid, list string, listVer int64, id, group string) []string {
	out := []string{trid, list}
	if ListVersionInts(version) {
		out = append(out, strconv.FormatInt(listVer, 10))
	}
	out = append(out, id)
	if group != "" {
		out = append(out, group)
	}
	return out
}

// ADGArgs are the arguments of the ADG answer: MSNP8–9
// "trid ver name gid 0" (pidgin adg_cmd: params[2] name, [3] id),
// MSNP10–12 "trid name groupguid" (jml IncomingADG).
func ADGArgs(version int, trid string, listVer int64, nameArg, group string) []string {
	if GroupGUIDs(version) {
		return []string{trid, nameArg, group}
	}
	return withVersion(version, trid, listVer, nameArg, group, "0")
}

// RMGArgs are the arguments of the RMG answer: "trid [ver] gid".
func RMGArgs(version int, trid string, listVer int64, group string) []string {
	return withVersion(version, trid, listVer, group)
}

// REGArgs are the arguments of the REG answer: MSNP8–9
// "trid ver gid name 0" (pidgin reg_cmd: params[2] id, [3] name),
// MSNP10–12 "trid groupguid name" (jml IncomingREG).
func REGArgs(version int, trid string, listVer int64, group, nameArg string) []string {
	if GroupGUIDs(version) {
		return []string{trid, group, nameArg}
	}
	return withVersion(version, trid, listVer, group, nameArg, "0")
}

// REAArgs are the arguments of the MSNP8–9 REA answer
// "trid ver email name" (pidgin rea_cmd: params[3] name).
func REAArgs(trid string, listVer int64, email, nameArg string) []string {
	return []string{trid, strconv.FormatInt(listVer, 10), email, nameArg}
}

// SettingArgs are the arguments of the GTC and BLP answers:
// "trid [ver] value" (jml IncomingBLP syntax 2; no version from MSNP10).
func SettingArgs(version int, trid string, listVer int64, value string) []string {
	return withVersion(version, trid, listVer, value)
}

// AppendReverseAdded appends the line that tells a SYN-era session that
// email (display name name, decoded) put it on their FL: MSNP8–9
// "ADD 0 RL ver email name" (pidgin add_cmd with list RL), MSNP10–12
// "ADC 0 RL N=email F=name" (jml IncomingADC syntax 4). An empty name
// shows the address.
func AppendReverseAdded(dst []byte, version int, listVer int64, email, name string) []byte {
	if name == "" {
		name = email
	}
	if GroupGUIDs(version) {
		return AppendLine(dst, "ADC", "0", "RL", "N="+email, "F="+URLEncodeName(name))
	}
	return AppendLine(dst, "ADD", ADDArgs("0", "RL", listVer, email, URLEncodeName(name), "")...)
}

// AppendReverseRemoved appends "REM 0 RL [ver] email": email took the
// session's user off their FL (jml IncomingREM syntax 2).
func AppendReverseRemoved(dst []byte, version int, listVer int64, email string) []byte {
	return AppendLine(dst, "REM", REMArgs(version, "0", "RL", listVer, email, "")...)
}
