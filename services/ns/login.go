package ns

import (
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// cmdVER negotiates the protocol: "VER trid MSNPnn" with the best of
// msnp.Versions the client offers, or "VER trid 0" and close when there is
// no common version (pidgin 2.4.3 offers "MSNP14 MSNP13 CVR0" and accepts
// only MSNP13; pidgin 2.10.1 offers "MSNP16 MSNP15 CVR0" and gets MSNP15,
// NS_CLIENT_FACTS.md).
func (ss *session) cmdVER(c msnp.Command) bool {
	v, ok := msnp.NegotiateVersion(c.Args[1:], msnp.Versions)
	if !ok {
		ss.line("VER", c.TrID(), "0")
		return false
	}
	ss.ver = v
	return ss.line("VER", c.TrID(), msnp.VersionName(v))
}

// cmdCVR answers the client version report: MSNP13+ with the versions the
// captured clients accepted (clients/captures/*/ns.log), MSNP8–12 with the
// client's own version (msnp.CVRFor).
func (ss *session) cmdCVR(c msnp.Command) bool {
	if ss.ver == 0 {
		return ss.fail(msnp.ErrNotExpectedCVR, c.TrID())
	}
	return ss.line("CVR", append([]string{c.TrID()}, msnp.CVRFor(c.Args, ss.ver).Args()...)...)
}

// cmdUSR runs both halves of TWN (MSNP13, PROTOCOL.md §6.4) and SSO
// (MSNP15, RST_OIM.md §1.1): "I" names the account and gets the challenge,
// "S" presents the ticket. Any failure is 911 and the connection closes.
func (ss *session) cmdUSR(c msnp.Command) bool {
	trid, method, stage := c.TrID(), c.Arg(1), c.Arg(2)
	if ss.ver == 0 {
		ss.fail(msnp.ErrNotExpectedCVR, trid)
		return false
	}
	if ss.u != nil {
		return ss.fail(msnp.ErrAlreadyLoggedIn, trid)
	}
	if method != "TWN" && method != "SSO" || method == "SSO" && msnp.SYNEra(ss.ver) {
		// MSNP8–12 sign in with Passport 1.4 (TWN) only.
		ss.fail(msnp.ErrAuthFailed, trid)
		return false
	}
	switch stage {
	case "I":
		return ss.usrInitial(trid, method, c.Arg(3))
	case "S":
		if ss.email == "" || method != ss.method {
			ss.fail(msnp.ErrAuthFailed, trid)
			return false
		}
		return ss.usrTicket(trid, c.Arg(3), c.Arg(4))
	}
	ss.fail(msnp.ErrAuthFailed, trid)
	return false
}

// usrInitial answers "USR trid TWN|SSO I email": a redirect to another NS
// when this listener dispatches (MSNP13 "XFR trid NS addr U D", seed), else
// the TWN policy string (then the MSNP13 GCF policies, as the seed shows
// them right after it) or the SSO nonce.
func (ss *session) usrInitial(trid, method, email string) bool {
	if !strings.Contains(email, "@") || len(email) > 320 {
		ss.fail(msnp.ErrAuthFailed, trid)
		return false
	}
	if addr := ss.srv.nextRedirect(); addr != "" {
		ss.line("XFR", append([]string{trid}, msnp.XFRNSArgs(addr, ss.conn.LocalAddr().String(), ss.ver)...)...)
		return false
	}
	ss.email, ss.method = email, method
	if method == "TWN" {
		ss.line("USR", trid, "TWN", "S", msnp.NewTWNChallenge(time.Now().Unix()).String())
		if ss.ver == 13 {
			ss.payload("GCF", []string{"0"}, msnp.GCFShields())
		}
		return true
	}
	ss.nonce = msnp.NewSSONonce()
	return ss.line("USR", trid, "SSO", "S", msnp.SSOPolicy, ss.nonce)
}

// nextRedirect returns the next ABCH_MSNP_REDIRECT address, or "".
func (s *Server) nextRedirect() string {
	if len(s.cfg.Redirect) == 0 {
		return ""
	}
	n := s.redirect.Add(1)
	return s.cfg.Redirect[int(n-1)%len(s.cfg.Redirect)]
}

// usrTicket checks the ticket (and the SSO answer) through the NS API and
// signs the user in. A refused ticket is 911; an NS API that cannot be
// reached is 500 ("service temporarily unavailable" in pidgin's error.c).
func (ss *session) usrTicket(trid, ticket, answer string) bool {
	in := nsclient.SignIn{Ticket: ticket, Email: ss.email}
	if ss.method == "SSO" {
		if answer == "" {
			ss.fail(msnp.ErrAuthFailed, trid)
			return false
		}
		in.SSONonce, in.SSOResponse = ss.nonce, answer
	}
	if ticket == "" {
		ss.fail(msnp.ErrAuthFailed, trid)
		return false
	}
	ctx, cancel := ss.srv.apiCtx()
	info, err := ss.srv.cfg.API.VerifySignIn(ctx, in)
	cancel()
	if err != nil {
		var ae *nsclient.APIError
		if errors.As(err, &ae) && ae.Status/100 == 4 {
			ss.fail(msnp.ErrAuthFailed, trid)
		} else {
			ss.srv.cfg.Log.Warn("ns: ticket check", "error", err)
			ss.fail(msnp.ErrInternal, trid)
		}
		return false
	}
	if err := ss.signIn(trid, info); err != nil {
		ss.srv.cfg.Log.Warn("ns: sign-in", "email", ss.email, "error", err)
		ss.fail(msnp.ErrInternal, trid)
		return false
	}
	return true
}

// signInData is what the NS API gives at sign-in (PROTOCOL.md §8 B3–B9).
type signInData struct {
	profile *nsclient.Profile
	mail    json.RawMessage
	lists   *nsclient.Lists
}

// load reads the profile (BLP included), mail data and lists in parallel;
// the lists give both the FL and the watchers (linksOf).
func (s *Server) load(email string) (signInData, error) {
	ctx, cancel := s.apiCtx()
	defer cancel()
	var d signInData
	var errs [3]error
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); d.profile, errs[0] = s.cfg.API.Profile(ctx, email) }()
	go func() { defer wg.Done(); d.mail, errs[1] = s.cfg.API.MailData(ctx, email) }()
	go func() { defer wg.Done(); d.lists, errs[2] = s.cfg.API.Lists(ctx, email) }()
	wg.Wait()
	return d, errors.Join(errs[:]...)
}

// signIn registers the account (older sessions get OUT OTH), subscribes to
// its events before reading its state (nothing falls in between), then
// sends USR OK, SBS, the profile MSG and the initial mail data (§8).
func (ss *session) signIn(trid string, info *nsclient.SignInInfo) error {
	s := ss.srv
	u := &user{
		srv: s, ss: ss, email: info.Email, key: strings.ToLower(info.Email),
		cid: info.CID, puid: info.PUID, since: time.Now().UnixNano(),
	}
	if err := s.register(u); err != nil {
		s.signOut(u, ss)
		return err
	}
	d, err := s.load(u.email)
	if err != nil {
		s.signOut(u, ss)
		return err
	}
	u.mu.Lock()
	u.pres.Name = d.profile.DisplayName
	u.blp = d.profile.BLP
	u.links = linksOf(d.lists, u.blp)
	u.mu.Unlock()
	ss.u = u
	if msnp.SYNEra(ss.ver) {
		// MSNP8–9: "USR trid OK email friendly 1 0" (pidgin 2.2.2 takes
		// its display name from params[3]); MSNP10–12 "OK email 1 0".
		// No SBS (an MSNP13 addition), the profile for the version, then
		// the initial e-mail notification (no OIM mail data before
		// MSNP13).
		name := d.profile.DisplayName
		if name == "" {
			name = u.email
		}
		ss.line("USR", append([]string{trid}, msnp.USROKArgs(u.email, name, true, ss.ver)...)...)
		ss.payload("MSG", msnp.HotmailArgs, profilePayload(d.profile, ss.conn.RemoteAddr(), ss.ver))
		ss.payload("MSG", msnp.HotmailArgs, msnp.InitialEmailPayload())
		u.start()
		ss.armChallenge()
		return nil
	}
	ss.line("USR", append([]string{trid}, msnp.USROKArgs(u.email, "", true, ss.ver)...)...)
	ss.out("SBS 0 null\r\n")
	ss.payload("MSG", msnp.HotmailArgs, profilePayload(d.profile, ss.conn.RemoteAddr(), ss.ver))
	if p := mailPayload(d.mail); p != nil {
		ss.payload("MSG", msnp.HotmailArgs, p)
	}
	u.start()
	ss.armChallenge()
	return nil
}

// mailPayload extracts the initial mail-data MSG body from the NS API's
// maildata answer ({"payload": …}, services/nsapi/mail.go).
func mailPayload(raw json.RawMessage) []byte {
	var m struct {
		Payload string `json:"payload"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Payload == "" {
		return nil
	}
	return []byte(m.Payload)
}

// profilePayload is the text/x-msmsgsprofile MSG body for a user signing
// in from peer: the captured fixed fields (msnp.DefaultProfile), the
// account's member ids and MSPAuth (pidgin 2.4.3's AB cookie; pidgin 2.2.2
// signs its Hotmail URL form with it) and the client's address as this
// server sees it, in the form of protocol version ver.
func profilePayload(p *nsclient.Profile, peer net.Addr, ver int) []byte {
	f := msnp.DefaultProfile()
	if msnp.SYNEra(ver) {
		f.Version = ver
	}
	f.LoginTime = time.Now().Unix()
	f.MemberIDHigh, f.MemberIDLow = p.MemberIDHigh, p.MemberIDLow
	f.MSPAuth = p.MSPAuth
	f.ClientIP, f.ClientPort = "127.0.0.1", 0
	if host, port, err := net.SplitHostPort(peer.String()); err == nil {
		n, _ := strconv.ParseUint(port, 10, 16)
		f.ClientIP, f.ClientPort = host, uint16(n)
	}
	return msnp.ProfilePayload(f)
}

// armChallenge schedules the server's CHL (Config.ChallengeAfter).
func (ss *session) armChallenge() {
	d := ss.srv.cfg.ChallengeAfter
	if d <= 0 {
		return
	}
	ss.chlTimer = time.AfterFunc(d, func() { ss.srv.challenge(ss) })
}
