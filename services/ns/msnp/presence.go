package msnp

import (
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/models"
)

// Presence statuses. A client sets one of the settable ones with CHG; FLN
// is what watchers see of a user who is offline or hidden.
const (
	StatusOnline    = "NLN"
	StatusBusy      = "BSY"
	StatusIdle      = "IDL"
	StatusBRB       = "BRB"
	StatusAway      = "AWY"
	StatusPhone     = "PHN"
	StatusLunch     = "LUN"
	StatusHidden    = "HDN" // appear offline: watchers get FLN
	StatusOffline   = "FLN"
	StatusInvisible = StatusHidden
)

// ValidStatus reports whether s is a status a client may set with CHG
// (NLN BSY IDL BRB AWY PHN LUN HDN; pidgin's state.c table).
func ValidStatus(s string) bool {
	switch s {
	case StatusOnline, StatusBusy, StatusIdle, StatusBRB, StatusAway, StatusPhone, StatusLunch, StatusHidden:
		return true
	}
	return false
}

// Visible reports whether watchers see status s as online (every settable
// status but HDN).
func Visible(s string) bool { return ValidStatus(s) && s != StatusHidden }

// Client capability bits of the CHG/NLN client id (the low bits; pidgin's
// msn.h MsnClientCaps, the same values in papyon and MSNPSharp).
const (
	CapMobile       uint32 = 0x00000001 // client is a mobile device
	CapMSN8User     uint32 = 0x00000002 // via MSN Explorer 8 ("Texas")
	CapInkGIF       uint32 = 0x00000004
	CapInkISF       uint32 = 0x00000008
	CapWebcam       uint32 = 0x00000010
	CapMultiPacket  uint32 = 0x00000020 // multi-packet messages
	CapMobileOn     uint32 = 0x00000040 // MSN Mobile enabled (pidgin shows the user as mobile)
	CapDirectDevice uint32 = 0x00000080
	CapActivities   uint32 = 0x00000100
	CapWebIM        uint32 = 0x00000200
	CapMobileDevice uint32 = 0x00000400
	CapFederated    uint32 = 0x00000800
	CapSpace        uint32 = 0x00001000 // has an MSN Space
	CapMCE          uint32 = 0x00002000
	CapDirectIM     uint32 = 0x00004000
	CapWinks        uint32 = 0x00008000
	CapSearch       uint32 = 0x00010000
	CapBot          uint32 = 0x00020000
	CapVoiceIM      uint32 = 0x00040000
	CapSChannel     uint32 = 0x00080000
	CapSIPInvite    uint32 = 0x00100000
	CapMultiVV      uint32 = 0x00200000
	CapSDrive       uint32 = 0x00400000
	CapOneCare      uint32 = 0x01000000
	CapP2PTURN      uint32 = 0x02000000
	CapP2PBootstrap uint32 = 0x04000000
	CapAliased      uint32 = 0x08000000
	CapMSNCMask     uint32 = 0xF0000000 // MSNC (P2P) version in the top nibble
	CapMSNCShift           = 28
)

// MSNCVersion returns the MSNC (P2P protocol) version in a client id: 0 for
// MSN 5, 1 for MSN 6.0, … 9 for WLM 8.5 (0x9xxxxxxx), 10 for WLM 2009.
func MSNCVersion(clientID uint32) int { return int(clientID >> CapMSNCShift) }

// ClientID is a parsed CHG/NLN client id: Caps, and from MSNP16 on the
// extended capabilities after a colon ("2789003324:48").
type ClientID struct {
	Caps    uint32 // Cap* bits and the MSNC version
	ExtCaps uint32 // extended capabilities (MSNP16)
	HasExt  bool   // the id had ":ext"
}

// ParseClientID parses a client id argument. version decides whether the
// MSNP16 "caps:extcaps" form is allowed. Errors are *Error ErrInvalidParameter.
func ParseClientID(s string, version int) (ClientID, error) {
	var c ClientID
	capsStr, ext, hasExt := strings.Cut(s, ":")
	if hasExt && version < 16 {
		return c, &Error{Code: ErrInvalidParameter, Msg: "extended capabilities before MSNP16"}
	}
	caps, err := strconv.ParseUint(capsStr, 10, 32)
	if err != nil || capsStr == "" || capsStr[0] == '+' {
		return c, &Error{Code: ErrInvalidParameter, Msg: "bad client id"}
	}
	c.Caps = uint32(caps)
	if hasExt {
		e, err := strconv.ParseUint(ext, 10, 32)
		if err != nil || ext == "" || ext[0] == '+' {
			return c, &Error{Code: ErrInvalidParameter, Msg: "bad extended capabilities"}
		}
		c.ExtCaps, c.HasExt = uint32(e), true
	}
	return c, nil
}

// String writes c back as sent ("caps" or "caps:extcaps").
func (c ClientID) String() string {
	s := strconv.FormatUint(uint64(c.Caps), 10)
	if c.HasExt {
		s += ":" + strconv.FormatUint(uint64(c.ExtCaps), 10)
	}
	return s
}

// MSNObject is the display-picture (or emoticon, background …) descriptor
// a client sends URL-encoded as the last CHG argument:
//
//	<msnobj Creator="a@b.c" Size="1234" Type="3" Location="TFR2C2.tmp" Friendly="AAA=" SHA1D="…" SHA1C="…"/>
//
// Raw is the decoded XML exactly as sent; relays send Raw URL-encoded again.
type MSNObject struct {
	Creator  string // account that owns the object
	Size     int    // bytes of the object
	Type     int    // 3 display picture, 2 emoticon, 5 background …
	Location string // the sender's file name
	Friendly string // base64 of the UTF-16 friendly name
	SHA1D    string // base64 SHA-1 of the data
	SHA1C    string // base64 SHA-1 of the other attributes (optional)
	Raw      string // the decoded XML as sent
}

// MaxMSNObject bounds a decoded MSNObject (a real one is about 250 bytes):
// URL-encoded it must stay under pidgin's 2048-byte purple_url_decode
// buffer (util.c BUF_LEN; a longer argument decodes to NULL), and each byte
// may take three.
const MaxMSNObject = 600

// ParseMSNObject decodes and validates the URL-encoded MSNObject argument
// of CHG. It requires what pidgin needs to use an object (object.c
// msn_object_new_from_string: "<msnobj " prefix, double-quoted Creator,
// Size > 0, Type > 0, Location, Friendly and SHA1D; SHA1C optional), SHA1D
// and SHA1C as base64 of 20 bytes, Creator a valid address, the known
// attributes (Url and Url1 may stand in for Location and Friendly on a
// display picture) plus all-lower-case ones of later clients, and no '<',
// '>', '&' or '"' inside values, so relaying Raw cannot break a client's
// parser. A Creator that is not the session's user is the
// caller's check. Errors are *Error ErrInvalidParameter.
func ParseMSNObject(arg string) (MSNObject, error) {
	var o MSNObject
	bad := func(msg string) (MSNObject, error) {
		return MSNObject{}, &Error{Code: ErrInvalidParameter, Msg: "msnobj: " + msg}
	}
	raw, err := url.PathUnescape(arg)
	if err != nil {
		return bad("bad URL encoding")
	}
	if len(raw) > MaxMSNObject || !utf8.ValidString(raw) {
		return bad("too long or not UTF-8")
	}
	o.Raw = raw
	s, ok := strings.CutPrefix(raw, "<msnobj ")
	if !ok {
		return bad("not an <msnobj> element")
	}
	s = strings.TrimRight(s, " ")
	s, ok = strings.CutSuffix(s, "/>")
	if !ok {
		return bad("not an empty element")
	}
	seen := map[string]bool{}
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		name, val, rest, msg := nextMSNObjectAttr(s)
		if msg != "" {
			return bad(msg)
		}
		s = rest
		if seen[name] {
			return bad("duplicate attribute " + name)
		}
		seen[name] = true
		if msg := o.setAttr(name, val); msg != "" {
			return bad(msg)
		}
	}
	if o.Creator == "" || o.Size == 0 || o.Type == 0 || o.SHA1D == "" {
		return bad("missing attribute")
	}
	// pidgin 2.10.1 accepts a display picture (Type 3) with Url and Url1
	// instead of Location and Friendly (object.c).
	if !(seen["Location"] && seen["Friendly"]) && !(o.Type == 3 && seen["Url"] && seen["Url1"]) {
		return bad("missing Location or Friendly")
	}
	return o, nil
}

// nextMSNObjectAttr splits the attribute at the start of s (name="value",
// then a space or the end) from the rest; msg says what is wrong, if
// anything. Values may not hold '<', '>', '&', '"' or characters XML
// forbids.
func nextMSNObjectAttr(s string) (name, val, rest, msg string) {
	eq := strings.Index(s, `="`)
	if eq <= 0 {
		return "", "", "", "bad attribute"
	}
	name, s = s[:eq], s[eq+2:]
	end := strings.IndexByte(s, '"')
	if end < 0 {
		return "", "", "", "unterminated attribute"
	}
	val, rest = s[:end], s[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", "", "attributes not separated"
	}
	if strings.ContainsAny(val, "<>&\"") || badText([]byte(val)) != "" {
		return "", "", "", "bad character in " + name
	}
	return name, val, rest, ""
}

// setAttr checks one MSNObject attribute and keeps the ones abch uses; it
// returns what is wrong, or "".
func (o *MSNObject) setAttr(name, val string) string {
	switch name {
	case "Creator":
		if _, err := models.NormalizeEmail(val); err != nil {
			return "bad Creator"
		}
		o.Creator = val
	case "Size":
		n, ok := parseLength(val)
		if !ok || n <= 0 {
			return "bad Size"
		}
		o.Size = n
	case "Type":
		n, ok := parseLength(val)
		if !ok || n <= 0 || n > 99 {
			return "bad Type"
		}
		o.Type = n
	case "Location":
		o.Location = val
	case "Friendly":
		o.Friendly = val
	case "SHA1D", "SHA1C":
		if !sha1Base64(val) {
			return "bad " + name
		}
		if name == "SHA1D" {
			o.SHA1D = val
		} else {
			o.SHA1C = val
		}
	case "Url", "Url1":
	default:
		// Later clients add lower-case attributes (contenttype,
		// contentid, stamp, avatarid …). Only all-lower-case names are
		// let through: pidgin finds attributes with strstr(`Creator="`)
		// (object.c GET_STRING_TAG), so a name like xCreator placed
		// first could pass off another creator.
		if !lowerName(name) {
			return "unknown attribute " + name
		}
	}
	return ""
}

// lowerName reports whether s is 1 to 32 lower-case ASCII letters and
// digits.
func lowerName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}

// Arg returns the object URL-encoded for a CHG/NLN/ILN argument.
func (o MSNObject) Arg() string { return URLEncodeName(o.Raw) }

func sha1Base64(s string) bool {
	b, err := base64.StdEncoding.DecodeString(s)
	return err == nil && len(b) == 20
}

// URLEncodeName encodes a friendly name (or MSNObject) for a command
// argument: every byte but ASCII letters, digits and "-_.~" becomes %XX
// with upper-case hex (UTF-8 bytes one by one), so the argument has no
// space, no control character and no '%' of its own. This is what pidgin's
// own purple_url_encode writes (util.c). Clients decode it with
// purple_url_decode (pidgin), HttpUtility.UrlDecode (MSNPSharp) or
// urllib.unquote (papyon); all turn %XX back into bytes.
func URLEncodeName(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	return string(appendEncodedName(make([]byte, 0, len(s)+2*n), s))
}

// appendEncodedName appends URLEncodeName(s) to dst.
func appendEncodedName(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// MaxFriendlyName is the longest decoded friendly name accepted (bytes of
// UTF-8), the NS API's limit for PRP MFN (docs/events.md).
const MaxFriendlyName = 387

// DecodeName decodes a URL-encoded friendly name argument (PRP MFN): %XX
// escapes only ('+' stays '+', as purple_url_decode leaves it). The result
// must be 1–MaxFriendlyName bytes of valid UTF-8 with no control
// characters. Errors are *Error ErrInvalidFriendly (209).
func DecodeName(arg string) (string, error) {
	s, err := url.PathUnescape(arg)
	if err != nil {
		return "", &Error{Code: ErrInvalidFriendly, Msg: "bad URL encoding"}
	}
	if s == "" || len(s) > MaxFriendlyName {
		return "", &Error{Code: ErrInvalidFriendly, Msg: "friendly name empty or too long"}
	}
	if bad := badText([]byte(s)); bad != "" {
		return "", &Error{Code: ErrInvalidFriendly, Msg: bad + " in friendly name"}
	}
	return s, nil
}

// Presence is what a watcher is told about a user in ILN/NLN.
type Presence struct {
	Status   string   // NLN BSY IDL BRB AWY PHN LUN
	Email    string   // the user's address
	Network  int      // models.NetworkPassport when 0
	Friendly string   // decoded; encoded on the wire with URLEncodeName
	ClientID ClientID // capabilities as the user sent them
	MSNObj   string   // decoded MSNObject XML, "" for none
}

// NLNArgs returns the arguments of "NLN <args>" for protocol version:
//
//	MSNP8–12: status email friendly clientid [msnobj]
//	MSNP13+:  status email network friendly clientid [msnobj]
//
// The network id is written from MSNP13 on: pidgin 2.4.3 speaks MSNP13
// with its MSNP14 parser and reads params[2] as the network
// (notification.c nln_cmd; clients/NS_CLIENT_FACTS.md). From MSNP13 on a
// user without an MSNObject gets "0" in its place, so the line always has
// the long form (NS_CLIENT_FACTS.md: pidgin 2.4.3 crashes on the short one);
// "0" is not "<msnobj …", so pidgin's msn_object_new_from_string (object.c)
// returns NULL and clears the picture. Before MSNP13 it is left out.
func (p Presence) NLNArgs(version int) []string {
	args := make([]string, 0, 6)
	args = append(args, p.Status, p.Email)
	if version >= 13 {
		n := p.Network
		if n == 0 {
			n = models.NetworkPassport
		}
		args = append(args, strconv.Itoa(n))
	}
	args = append(args, URLEncodeName(p.Friendly), p.ClientID.String())
	switch {
	case p.MSNObj != "" && version >= 9:
		args = append(args, URLEncodeName(p.MSNObj))
	case version >= 13:
		args = append(args, "0")
	}
	return args
}

// ILNArgs returns the arguments of "ILN <trid> <…>": the trid of the
// CHG (or ADL) that caused it, then NLNArgs.
func (p Presence) ILNArgs(trid string, version int) []string {
	return append([]string{trid}, p.NLNArgs(version)...)
}

// FLNArgs returns the arguments of "FLN <args>": the e-mail, and from
// MSNP14 on the network id (pidgin reads only params[0]).
func FLNArgs(email string, network, version int) []string {
	if version >= 14 {
		if network == 0 {
			network = models.NetworkPassport
		}
		return []string{email, strconv.Itoa(network)}
	}
	return []string{email}
}

// Privacy modes of BLP: AL lets everyone not blocked see the user, BL only
// those allowed (PROTOCOL.md §5.4).
const (
	PrivacyAllow = "AL"
	PrivacyBlock = "BL"
)

// ValidPrivacy reports whether s is a BLP argument (AL or BL).
func ValidPrivacy(s string) bool { return s == PrivacyAllow || s == PrivacyBlock }
