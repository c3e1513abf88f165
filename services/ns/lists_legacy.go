package ns

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// The list commands of SYN-era sessions (MSNP8–12). Each one is one NS API
// call standing for the SOAP operation (PROTOCOL.md §4.1: ADD/ADC FL =
// ABContactAdd, with a group ABGroupContactAdd; ADD/ADC AL|BL = AddMember;
// REM = ABContactDelete / ABGroupContactDelete / DeleteMember; ADG/RMG/REG
// = ABGroup*; SBP/REA = ABContactUpdate; GTC/BLP = the Me annotations), so
// the lists an MSNP13 client then reads through ABFindAll/FindMembership
// are exactly what the SYN-era client changed, and the events are the
// SOAP operation's. The answer carries the new list version (MSNP8–9) in
// the forms of msnp/listcmd.go; a refusal is the NS API's MSNP error
// number, an NS API failure 500.

func init() {
	registerLegacy("ADD", msnp.MSNP8, msnp.MSNP9, true, (*session).cmdADD)
	registerLegacy("ADC", msnp.MSNP10, msnp.MSNP12, true, (*session).cmdADC)
	registerLegacy("REM", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdREM)
	registerLegacy("ADG", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdADG)
	registerLegacy("RMG", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdRMG)
	registerLegacy("REG", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdREG)
	registerLegacy("REA", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdREA)
	registerLegacy("SBP", msnp.MSNP10, msnp.MSNP12, true, (*session).cmdSBP)
	registerLegacy("GTC", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdGTC)
	registerLegacy("BLP", msnp.MSNP8, msnp.MSNP12, true, (*session).cmdLegacyBLP)
	legacyListEvent = legacyEventLines
}

// listFail answers a refused or failed list write: the NS API's MSNP error
// number, a codec error's number, else 500 (pidgin: "Service temporarily
// unavailable", and add_error removes the buddy it showed).
func (ss *session) listFail(err error, trid string) bool {
	var pe *msnp.Error
	if errors.As(err, &pe) {
		return ss.fail(pe.Code, trid)
	}
	if code := nsclient.MSNPError(err); code != 0 {
		return ss.fail(code, trid)
	}
	ss.srv.cfg.Log.Warn("ns: list write", "email", ss.u.email, "error", err)
	return ss.fail(msnp.ErrInternal, trid)
}

// writeList runs an AddToList/RemoveFromList call and records the version.
func (ss *session) writeList(remove bool, w nsclient.ListWrite) (*nsclient.ListWriteResult, error) {
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	call := ss.srv.cfg.API.AddToList
	if remove {
		call = ss.srv.cfg.API.RemoveFromList
	}
	res, err := call(ctx, ss.u.email, w)
	if err != nil {
		return nil, err
	}
	ss.noteListVersion(res.Version)
	ss.view.put(res.Entry)
	return res, nil
}

// noteListVersion records a list version an answer or a pushed line
// carried; versions only grow (an event handled after a newer answer does
// not take the session back).
func (ss *session) noteListVersion(v int64) {
	for {
		old := ss.listVer.Load()
		if v <= old || ss.listVer.CompareAndSwap(old, v) {
			return
		}
	}
}

// knownGroup checks an MSNP8–9 group id against the ids this session was
// given (LSG, ADG): 0 always exists; another account's or a stale id is 224.
func (ss *session) knownGroup(group string) error {
	if group == "" || msnp.GroupGUIDs(ss.ver) {
		return nil
	}
	id, _ := msnp.GroupNumber(group)
	if _, ok := ss.u.groupGUID(id); !ok {
		return &msnp.Error{Code: msnp.ErrInvalidGroup, Msg: "unknown group " + group}
	}
	return nil
}

// cmdADD is MSNP8–9 "ADD trid FL|AL|BL email nick [gid]": answered
// "ADD trid list ver email nick [gid]" (pidgin 2.2.2 add_cmd). "ADD … FL
// email nick 0" puts a contact in no group (NS_CLIENT_FACTS.md); an FL
// contact already listed is added to the named group.
func (ss *session) cmdADD(c msnp.Command) bool {
	trid := c.TrID()
	op, err := msnp.ParseADD(c.Args[1:])
	if err == nil {
		err = ss.knownGroup(op.Group)
	}
	if err != nil {
		return ss.listFail(err, trid)
	}
	res, err := ss.writeList(false, nsclient.ListWrite{List: op.List, Address: op.Email, Nickname: op.Nick, Group: op.Group})
	if err != nil {
		return ss.listFail(err, trid)
	}
	return ss.line("ADD", msnp.ADDArgs(trid, op.List, res.Version, op.Email, answerName(op, res), op.Group)...)
}

// answerName is the name an ADD/ADC FL answer carries: the contact's name
// as stored (what the next SYN's LST shows; pidgin add_cmd takes it as the
// buddy's alias), else the nick as sent.
func answerName(op msnp.ListOp, res *nsclient.ListWriteResult) string {
	if op.List == "FL" && res.Entry.DisplayName != "" {
		return msnp.URLEncodeName(res.Entry.DisplayName)
	}
	return op.NickArg
}

// cmdADC is MSNP10–12 "ADC trid FL N=email F=nick", "ADC trid AL|BL
// N=email" and "ADC trid FL C=guid groupguid" (jml IncomingADC).
func (ss *session) cmdADC(c msnp.Command) bool {
	trid := c.TrID()
	op, err := msnp.ParseADC(c.Args[1:])
	if err != nil {
		return ss.listFail(err, trid)
	}
	res, err := ss.writeList(false, nsclient.ListWrite{List: op.List, Address: op.Email, Contact: op.GUID, Nickname: op.Nick, Group: op.Group})
	if err != nil {
		return ss.listFail(err, trid)
	}
	guid := op.GUID
	if guid == "" {
		guid = res.Entry.ContactGUID
	}
	op.NickArg = answerName(op, res)
	return ss.line("ADC", msnp.ADCArgs(trid, op, guid)...)
}

// cmdREM is "REM trid FL|AL|BL|PL id [gid]": FL by address (MSNP8–9) or
// contact GUID (MSNP10–12), from one group or from the list; in MSNP8–9
// removing a contact from its last group (0 included) takes it off the FL
// (NS_CLIENT_FACTS.md, pidgin sends "REM 8 FL bob@example.com 0").
func (ss *session) cmdREM(c msnp.Command) bool {
	trid := c.TrID()
	op, err := msnp.ParseREM(c.Args[1:], ss.ver)
	if err == nil {
		err = ss.knownGroup(op.Group)
	}
	if err != nil {
		return ss.listFail(err, trid)
	}
	res, err := ss.writeList(true, nsclient.ListWrite{List: op.List, Address: op.Email, Contact: op.GUID, Group: op.Group})
	if err != nil {
		return ss.listFail(err, trid)
	}
	id := op.Email
	if op.GUID != "" {
		id = op.GUID
	}
	return ss.line("REM", msnp.REMArgs(ss.ver, trid, op.List, res.Version, id, op.Group)...)
}

// groupArg returns the group argument at i: an id this session knows
// (MSNP8–9; 0 is 230, group zero cannot be removed or renamed) or a GUID
// (MSNP10–12), as the NS API's group path.
func (ss *session) groupArg(c msnp.Command, i int) (string, error) {
	g := c.Arg(i)
	if msnp.GroupGUIDs(ss.ver) {
		if !msnp.ValidGUID(g) {
			return "", &msnp.Error{Code: msnp.ErrInvalidGroup, Msg: "bad group guid"}
		}
		return g, nil
	}
	id, ok := msnp.GroupNumber(g)
	if !ok {
		return "", &msnp.Error{Code: msnp.ErrInvalidGroup, Msg: "bad group id"}
	}
	if id == 0 {
		return "", &msnp.Error{Code: msnp.ErrGroupZero, Msg: "group 0"}
	}
	if err := ss.knownGroup(g); err != nil {
		return "", err
	}
	return g, nil
}

// groupCall runs one NS API group call and records the new version.
func (ss *session) groupCall(f func() (*nsclient.GroupResult, error)) (*nsclient.GroupResult, error) {
	res, err := f()
	if err != nil {
		return nil, err
	}
	ss.noteListVersion(res.Version)
	return res, nil
}

// cmdADG is "ADG trid name [0]": the new group's id is one this session
// has never used (ids already sent are never renumbered,
// NS_CLIENT_FACTS.md). Answered "ADG trid ver name gid 0" (MSNP8–9) or
// "ADG trid name guid" (MSNP10–12).
func (ss *session) cmdADG(c msnp.Command) bool {
	trid, nameArg := c.TrID(), c.Arg(1)
	if len(c.Args) < 2 || len(c.Args) > 3 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	name, err := msnp.DecodeGroupName(nameArg)
	if err != nil {
		return ss.listFail(err, trid)
	}
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	res, err := ss.groupCall(func() (*nsclient.GroupResult, error) { return ss.srv.cfg.API.AddGroup(ctx, ss.u.email, name) })
	if err != nil {
		return ss.listFail(err, trid)
	}
	group := res.Group.GUID
	if !msnp.GroupGUIDs(ss.ver) {
		group = strconv.Itoa(ss.u.addGroup(res.Group.GUID, res.Group.ID))
	}
	ss.view.putGroup(res.Group)
	return ss.line("ADG", msnp.ADGArgs(ss.ver, trid, res.Version, nameArg, group)...)
}

// cmdRMG is "RMG trid gid": the group is deleted, its contacts stay on the
// FL (ABGroupDelete). Answered "RMG trid [ver] gid".
func (ss *session) cmdRMG(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) != 2 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	group, err := ss.groupArg(c, 1)
	if err != nil {
		return ss.listFail(err, trid)
	}
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	res, err := ss.groupCall(func() (*nsclient.GroupResult, error) { return ss.srv.cfg.API.RemoveGroup(ctx, ss.u.email, group) })
	if err != nil {
		return ss.listFail(err, trid)
	}
	guid := group
	if !msnp.GroupGUIDs(ss.ver) {
		id, _ := msnp.GroupNumber(group)
		guid, _ = ss.u.groupGUID(id)
		ss.u.removeGroup(id)
	}
	ss.view.dropGroup(guid)
	return ss.line("RMG", msnp.RMGArgs(ss.ver, trid, res.Version, group)...)
}

// cmdREG is "REG trid gid name [0]" (pidgin msn_rename_group sends the
// trailing 0). Answered "REG trid ver gid name 0" (MSNP8–9) or
// "REG trid guid name" (MSNP10–12).
func (ss *session) cmdREG(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) < 3 || len(c.Args) > 4 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	group, err := ss.groupArg(c, 1)
	if err != nil {
		return ss.listFail(err, trid)
	}
	name, err := msnp.DecodeGroupName(c.Arg(2))
	if err != nil {
		return ss.listFail(err, trid)
	}
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	res, err := ss.groupCall(func() (*nsclient.GroupResult, error) {
		return ss.srv.cfg.API.RenameGroup(ctx, ss.u.email, group, name)
	})
	if err != nil {
		return ss.listFail(err, trid)
	}
	ss.view.putGroup(res.Group)
	return ss.line("REG", msnp.REGArgs(ss.ver, trid, res.Version, group, c.Arg(2))...)
}

// cmdREA is MSNP8–9 "REA trid email name": on the user's own address the
// friendly name (as PRP MFN; watchers get it in NLN), on a contact's its
// stored name (ABContactUpdate, as SBP MFN). Answered "REA trid ver email
// name" (pidgin rea_cmd). MSNP10 replaced it with PRP MFN / SBP: 502.
func (ss *session) cmdREA(c msnp.Command) bool {
	trid := c.TrID()
	if msnp.GroupGUIDs(ss.ver) {
		return ss.fail(msnp.ErrCommandDisabled, trid)
	}
	if len(c.Args) != 3 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	email, nameArg := c.Arg(1), c.Arg(2)
	name, err := msnp.DecodeName(nameArg)
	if err != nil {
		return ss.listFail(err, trid)
	}
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	var ver int64
	if strings.EqualFold(email, ss.u.email) {
		p, err := ss.srv.cfg.API.SetDisplayName(ctx, ss.u.email, name)
		if err != nil {
			return ss.nameFail(err, trid)
		}
		ver = p.ListVersion
		ss.srv.setPresence(ss.u, func(p *presence) { p.Name = name })
	} else {
		res, err := ss.srv.cfg.API.SetContactName(ctx, ss.u.email, email, name)
		if err != nil {
			return ss.nameFail(err, trid)
		}
		ver = res.Version
	}
	ss.noteListVersion(ver)
	return ss.line("REA", msnp.REAArgs(trid, ver, email, nameArg)...)
}

// nameFail answers a refused name change: the API's MSNP number, 209 for
// a refused name without one (PUT …/profile answers 400), else 500.
func (ss *session) nameFail(err error, trid string) bool {
	var ae *nsclient.APIError
	if nsclient.MSNPError(err) == 0 && errors.As(err, &ae) && ae.Status == 400 {
		return ss.fail(msnp.ErrInvalidFriendly, trid)
	}
	return ss.listFail(err, trid)
}

// cmdSBP is MSNP10–12 "SBP trid guid MFN name": the contact's stored name
// (ABContactUpdate DisplayName), echoed as sent (jml IncomingSBP). Other
// properties are echoed without being stored (as PRP phones).
func (ss *session) cmdSBP(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) != 4 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	guid, prop, value := c.Arg(1), c.Arg(2), c.Arg(3)
	if !msnp.ValidGUID(guid) {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	if prop == "MFN" {
		name, err := msnp.DecodeName(value)
		if err != nil {
			return ss.listFail(err, trid)
		}
		ctx, cancel := ss.srv.apiCtx()
		defer cancel()
		res, err := ss.srv.cfg.API.SetContactName(ctx, ss.u.email, guid, name)
		if err != nil {
			return ss.nameFail(err, trid)
		}
		ss.noteListVersion(res.Version)
	}
	return ss.line("SBP", c.Args...)
}

// setting stores GTC or BLP through PUT …/privacy (an unchanged value
// writes nothing) and answers "NAME trid [ver] value".
func (ss *session) setting(c msnp.Command, p nsclient.Privacy, value string) bool {
	trid := c.TrID()
	ctx, cancel := ss.srv.apiCtx()
	defer cancel()
	got, err := ss.srv.cfg.API.SetPrivacy(ctx, ss.u.email, p)
	if err != nil {
		return ss.listFail(err, trid)
	}
	if p.BLP != "" {
		ss.u.mu.Lock()
		ss.u.blp = p.BLP
		ss.u.mu.Unlock()
	}
	ss.noteListVersion(got.Version)
	return ss.line(c.Name, msnp.SettingArgs(ss.ver, trid, got.Version, value)...)
}

// cmdGTC is "GTC trid A|N" (prompt when someone adds me; the Me
// annotation MSN.IM.GTC).
func (ss *session) cmdGTC(c msnp.Command) bool {
	v := c.Arg(1)
	if len(c.Args) != 2 || (v != "A" && v != "N") {
		return ss.fail(msnp.ErrInvalidParameter, c.TrID())
	}
	return ss.setting(c, nsclient.Privacy{GTC: v}, v)
}

// cmdLegacyBLP is "BLP trid AL|BL" for SYN-era sessions: as MSNP13's BLP,
// with the list version in the MSNP8–9 answer (jml IncomingBLP).
func (ss *session) cmdLegacyBLP(c msnp.Command) bool {
	v := c.Arg(1)
	if len(c.Args) != 2 || !msnp.ValidPrivacy(v) {
		return ss.fail(msnp.ErrInvalidParameter, c.TrID())
	}
	return ss.setting(c, nsclient.Privacy{BLP: v}, v)
}

// legacyEventLines turns an event into the lines SYN-era clients parse:
// the RL bit of an ADL 0/RML 0 ("someone added/removed you") becomes
// "ADD 0 RL ver email name" / "ADC 0 RL N=email F=name" and
// "REM 0 RL [ver] email"; a change of the user's own FL/AL/BL or groups
// (addressbook.changed, membership.changed: by another client, the web,
// an operator, or a deleted account) becomes the ADD/ADC/REM/ADG/RMG/REG
// lines of the difference from what the client was told (lists_view.go).
// The version is the recipient's list version after the change; an event
// the session's SYN already covered writes nothing.
func legacyEventLines(u *user, ev nsclient.Event) [][]byte {
	if ev.ListVersion > 0 && ev.ListVersion <= u.ss.synVer.Load() {
		// Committed before the session's SYN read the lists (an event
		// relayed after sign-in): the client already lists it.
		return nil
	}
	out := reverseListLines(u, ev)
	if ev.Type == "addressbook.changed" || ev.Type == "membership.changed" {
		out = append(out, u.srv.syncView(u)...)
	}
	return out
}

// reverseListLines are the RL lines of an event's ADL 0/RML 0.
func reverseListLines(u *user, ev nsclient.Event) [][]byte {
	var out [][]byte
	ver := int64(-1)
	for _, c := range ev.NS {
		if (c.Command != "ADL" && c.Command != "RML") || c.Args != "0" {
			continue
		}
		ml, err := msnp.ParseMLKind([]byte(c.Payload), msnp.MLServer)
		if err != nil {
			u.srv.cfg.Log.Warn("ns: undecodable event ML", "type", ev.Type, "error", err)
			continue
		}
		if ver < 0 {
			ver = u.srv.eventListVersion(u, ev)
		}
		for _, d := range ml.Domains {
			for _, mc := range d.Contacts {
				out = append(out, legacyListLines(u.ss.ver, ver, c.Command == "ADL", mc.Name+"@"+d.Name, mc)...)
			}
		}
	}
	return out
}

// legacyListLines are the lines for one contact of an event's ML.
func legacyListLines(version int, ver int64, added bool, email string, c msnp.MLContact) [][]byte {
	if added {
		if c.L&msnp.ListRL == 0 {
			return nil
		}
		name, err := url.PathUnescape(c.F)
		if err != nil {
			name = ""
		}
		return [][]byte{msnp.AppendReverseAdded(nil, version, ver, email, name)}
	}
	if c.L&msnp.ListRL == 0 {
		return nil // FL/AL/BL: the view's difference (syncView)
	}
	return [][]byte{msnp.AppendReverseRemoved(nil, version, ver, email)}
}

// eventListVersion is the recipient's list version after the event: the
// event's list_version (docs/events.md §4) when it carries one, else read
// from the NS API, else the version the session holds.
func (s *Server) eventListVersion(u *user, ev nsclient.Event) int64 {
	if ev.ListVersion > 0 {
		u.ss.noteListVersion(ev.ListVersion)
		return ev.ListVersion
	}
	ctx, cancel := s.apiCtx()
	defer cancel()
	p, err := s.cfg.API.Profile(ctx, u.email)
	if err != nil {
		return u.ss.listVer.Load()
	}
	u.ss.noteListVersion(p.ListVersion)
	return p.ListVersion
}
