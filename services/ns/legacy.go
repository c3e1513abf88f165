package ns

// SYN-era sessions (MSNP8–12): their command table, SYN, and the MSNP8
// miscellany (SDC, SND, PAG) of seeds/msnp8-miscellaneous.txt. The list
// commands (ADD/ADC, REM, ADG, RMG, REG, REA, SBP, GTC, BLP) register
// themselves here from their own file (registerLegacy); the contract is
// /work/wt/SYN_NS.md and docs/ns.md.

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// legacyCommand is a command of a signed-in MSNP8–12 session.
type legacyCommand struct {
	from, to int  // the protocol versions that have it
	api      bool // it calls the NS API: run it off the reader's stack
	run      func(*session, msnp.Command) bool
}

// legacyCommands are the commands of a signed-in SYN-era session, looked
// up instead of the MSNP13 table (commands.go).
var legacyCommands = map[string]legacyCommand{}

// registerLegacy adds a command for signed-in sessions of protocol versions
// from…to (within MSNP8–12); sessions of other versions get 200. api runs
// it off the reader goroutine's stack (it makes NS API calls), on the
// user's event worker (user.serial): events that arrive meanwhile are
// handled after it, so its answer reaches the client before their lines. A
// handler returns false to end the session once what is queued is written.
func registerLegacy(name string, from, to int, api bool, run func(*session, msnp.Command) bool) {
	legacyCommands[name] = legacyCommand{from: from, to: to, api: api, run: run}
}

func init() {
	const p8, p11, p12 = msnp.MSNP8, msnp.MSNP11, msnp.MSNP12
	registerLegacy("SYN", p8, p12, true, (*session).cmdSYN)
	registerLegacy("CHG", p8, p12, false, (*session).cmdCHG)
	registerLegacy("PRP", p8, p12, true, (*session).cmdLegacyPRP)
	registerLegacy("UUX", p11, p12, false, (*session).cmdUUX)
	registerLegacy("URL", p8, p12, false, (*session).cmdURL)
	registerLegacy("QRY", p8, p12, false, (*session).cmdQRY)
	registerLegacy("XFR", p8, p12, false, (*session).cmdXFR)
	registerLegacy("IMS", p8, p12, false, (*session).cmdIMS)
	registerLegacy("SDC", p8, p12, false, (*session).cmdSDC)
	registerLegacy("SND", p8, p12, false, (*session).cmdSND)
	registerLegacy("PAG", p8, p12, false, (*session).cmdPAG)
}

// cmdLegacyPRP: MSNP8–9 PRP sets phone numbers (cmdPRPPhone); MSNP10
// replaced REA with "PRP trid MFN name" (cmdPRP, as for MSNP13).
func (ss *session) cmdLegacyPRP(c msnp.Command) bool {
	if ss.ver <= msnp.MSNP9 {
		return ss.cmdPRPPhone(c)
	}
	return ss.cmdPRP(c)
}

// dispatchLegacy runs a command of a signed-in SYN-era session.
func (ss *session) dispatchLegacy(c msnp.Command) bool {
	lc, ok := legacyCommands[c.Name]
	if !ok || ss.ver < lc.from || ss.ver > lc.to {
		return ss.fail(msnp.ErrSyntax, c.TrID())
	}
	if !lc.api {
		return lc.run(ss, c)
	}
	// Off the reader's stack, and in order with the user's events
	// (user.serial): an event caused by this very command is handled
	// after its answer.
	var keep bool
	if !ss.u.serial(func() { keep = lc.run(ss, c) }) {
		return false
	}
	return keep
}

// cmdSYN answers "SYN trid ver" (MSNP8–9) or "SYN trid ts ts" (MSNP10–12)
// from the NS API's lists: the short answer when the client holds the
// current version, else the whole list (msnp.AppendSYN). The integer group
// ids MSNP8–9 clients get are the API's SYN ids, kept in the session's map
// (groups.go). A second SYN in a session is answered the same way.
func (ss *session) cmdSYN(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) < 2 || msnp.GroupGUIDs(ss.ver) && len(c.Args) < 3 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	u := ss.u
	ctx, cancel := ss.srv.apiCtx()
	l, err := ss.srv.cfg.API.Lists(ctx, u.email)
	var p *nsclient.Profile
	if err == nil {
		p, err = ss.srv.cfg.API.Profile(ctx, u.email)
	}
	cancel()
	if err != nil {
		ss.srv.cfg.Log.Warn("ns: SYN", "email", u.email, "error", err)
		return ss.fail(msnp.ErrInternal, trid)
	}
	syn := ss.synList(l, p)
	// The presence lists (u.links) stay as sign-in read them: events
	// move them (refresh), so what watchers were told stays consistent.
	ss.listVer.Store(max(l.Version, 1))
	ss.synVer.Store(l.Version)
	ss.view = newListView(l)
	if msnp.SYNUpToDate(c.Args[1:], syn, ss.ver) {
		return ss.send(msnp.AppendSYNShort(nil, trid, syn, ss.ver))
	}
	return ss.send(msnp.AppendSYN(nil, trid, syn, ss.ver))
}

// synList turns the NS API's lists into what SYN writes for the session's
// version. MSNP10–12 get the list revision (the lastChange form) as both
// timestamps; MSNP8–9 the integer version (at least 1: 0 means "no list"
// to clients).
func (ss *session) synList(l *nsclient.Lists, p *nsclient.Profile) msnp.SYNList {
	syn := msnp.SYNList{GTC: l.GTC, BLP: l.BLP, Name: p.DisplayName}
	if syn.BLP == "" {
		syn.BLP = p.BLP
	}
	if syn.GTC == "" {
		syn.GTC = p.GTC
	}
	guids := msnp.GroupGUIDs(ss.ver)
	if guids {
		rev := l.Revision
		if rev == "" {
			rev = p.Revision
		}
		if rev == "" || strings.ContainsAny(rev, " \r\n") {
			rev = "0"
		}
		syn.Version, syn.Settings = rev, rev
	} else {
		syn.Version = strconv.FormatInt(max(l.Version, 1), 10)
	}
	refs := make([]groupRef, len(l.Groups))
	for i, g := range l.Groups {
		refs[i] = groupRef{guid: g.GUID, id: g.ID}
	}
	var ids []int
	if !guids {
		ids = ss.u.mapGroups(refs)
	}
	byGUID := make(map[string]int, len(l.Groups))
	for i, g := range l.Groups {
		sg := msnp.SYNGroup{GUID: g.GUID, Name: g.Name}
		if !guids {
			sg.ID = ids[i]
			byGUID[g.GUID] = ids[i]
		}
		syn.Groups = append(syn.Groups, sg)
	}
	for _, c := range l.Contacts {
		if strings.EqualFold(c.Email, ss.u.email) {
			continue
		}
		name := c.DisplayName
		if name == "" {
			name = c.NickName
		}
		sc := msnp.SYNContact{Email: c.Email, Name: name, GUID: c.ContactGUID, Lists: c.Lists, Network: c.Network}
		if c.Lists&nsclient.FL != 0 {
			sc.Groups = contactGroups(c, guids, byGUID)
		}
		syn.Contacts = append(syn.Contacts, sc)
	}
	return syn
}

// contactGroups are an FL contact's groups as the session's client names
// them: GUIDs for MSNP10–12; for MSNP8–9 the API's SYN ids (SynGroups,
// which include 0 for "no group") when it gives them, else the session's
// ids of the contact's groups ("0" when none).
func contactGroups(c nsclient.ListEntry, guids bool, byGUID map[string]int) []string {
	var out []string
	if guids {
		for _, g := range c.Groups {
			out = append(out, g.GUID)
		}
		return out
	}
	if len(c.SynGroups) > 0 {
		for _, id := range c.SynGroups {
			out = append(out, strconv.Itoa(id))
		}
		return out
	}
	for _, g := range c.Groups {
		if id, ok := byGUID[g.GUID]; ok {
			out = append(out, strconv.Itoa(id))
		}
	}
	if len(out) == 0 {
		out = []string{"0"}
	}
	return out
}

// cmdPRPPhone answers MSNP8–9 "PRP trid PHH|PHW|PHM|MOB|MBE [value]" with
// "PRP trid ver …" (sync.c / notification.c prp_cmd read the type at
// params[2]). abch stores no phone numbers (no mobile service; BPR has
// none to send), so the value is echoed and not kept. MFN is not an
// MSNP8–9 property (REA sets the name): 502 like any disabled command.
func (ss *session) cmdPRPPhone(c msnp.Command) bool {
	trid, prop := c.TrID(), c.Arg(1)
	switch prop {
	case "PHH", "PHW", "PHM", "MOB", "MBE", "WWE":
	case "MFN":
		return ss.fail(msnp.ErrCommandDisabled, trid)
	default:
		return ss.fail(msnp.ErrSyntax, trid)
	}
	if len(c.Args) > 3 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	if v := c.Arg(2); len(v) > 96 {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	args := append([]string{trid, strconv.FormatInt(max(ss.listVer.Load(), 1), 10)}, c.Args[1:]...)
	return ss.line("PRP", args...)
}

// InviteSubjectPrefix starts the NATS subject on which the NS publishes
// the e-mail invitations of SDC and SND: "abch.ns.invite.<cid>" (the
// sender's CID). abch sends no mail itself; an operator's mailer may
// subscribe to "abch.ns.invite.>" (docs/ns.md).
const InviteSubjectPrefix = "abch.ns.invite."

// Invite is the JSON of an invitation event (docs/ns.md).
type Invite struct {
	Command  string    `json:"command"` // "SDC" or "SND"
	From     string    `json:"from"`    // the sender's address
	FromCID  int64     `json:"from_cid"`
	FromName string    `json:"from_name"` // SDC: the name for the subject line (decoded); SND: ""
	To       string    `json:"to"`        // the invited address
	Locale   string    `json:"locale"`    // as sent, e.g. "0x0409"
	Message  string    `json:"message"`   // SDC: the payload text; SND: ""
	Time     time.Time `json:"time"`
}

// maxInviteMessage bounds an SDC payload (the client's text box).
const maxInviteMessage = 1024

// cmdSDC: "SDC trid email locale MSMSGS WindowsMessenger X X name len" +
// text → "SDC trid OK" once the invitation is published (seed). Malformed
// arguments are 201.
func (ss *session) cmdSDC(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) != 8 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	to, ok := inviteAddress(c.Arg(1))
	name, err := msnp.DecodeName(c.Arg(7))
	if !ok || !validLocale(c.Arg(2)) || err != nil || len(c.Payload) > maxInviteMessage {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	return ss.invite(trid, Invite{Command: "SDC", To: to, Locale: c.Arg(2), FromName: name, Message: string(c.Payload)})
}

// cmdSND: "SND trid email locale MSMSGS MSMSGS" → "SND trid OK" once the
// invitation is published (seed).
func (ss *session) cmdSND(c msnp.Command) bool {
	trid := c.TrID()
	if len(c.Args) < 3 || len(c.Args) > 5 {
		return ss.fail(msnp.ErrSyntax, trid)
	}
	to, ok := inviteAddress(c.Arg(1))
	if !ok || !validLocale(c.Arg(2)) {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	return ss.invite(trid, Invite{Command: "SND", To: to, Locale: c.Arg(2)})
}

// invite publishes an invitation and answers "<cmd> trid OK"; an NS
// without NATS, or a failed publish, is 500 (nothing was sent).
func (ss *session) invite(trid string, inv Invite) bool {
	u := ss.u
	inv.From, inv.FromCID, inv.Time = u.email, u.cid, time.Now().UTC()
	nc := ss.srv.cfg.NATS
	data, _ := json.Marshal(inv)
	if nc == nil || nc.Publish(InviteSubjectPrefix+strconv.FormatInt(u.cid, 10), data) != nil {
		return ss.fail(msnp.ErrInternal, trid)
	}
	return ss.line(inv.Command, trid, "OK")
}

// inviteAddress checks an invitation's address.
func inviteAddress(s string) (string, bool) {
	e, err := models.NormalizeEmail(s)
	return e, err == nil
}

// validLocale accepts a locale id as clients send it: "0x0409", "0x409".
func validLocale(s string) bool {
	h, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok || h == "" || len(h) > 4 {
		return false
	}
	_, err := strconv.ParseUint(h, 16, 16)
	return err == nil
}

// cmdPAG: "PAG trid email len" + page. Nobody has an MSN Mobile device
// here (no BPR MOB Y is ever sent), so no page can be delivered: the seed's
// answer for a PAG the sender may not send is 220; a malformed PAG (bad
// address, empty page) gets the same.
func (ss *session) cmdPAG(c msnp.Command) bool {
	return ss.fail(msnp.ErrPageRefused, c.TrID())
}
