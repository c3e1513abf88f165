package ns

// The NS half of the switchboard (services/sb, docs/sb.md): XFR SB with a
// signed cookie, IMS ON/OFF, the switchboard's requests on the user
// subject (who is this user, ring this user) and the sign-out notice that
// ends the user's switchboard connections.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
	"github.com/abch-im/abch/services/ns/sbwire"
)

// sbCookieLifetime is how long an XFR SB cookie may be presented.
const sbCookieLifetime = 2 * time.Minute

// sbCookie is the XFR SB cookie of an account: "<cid>.<expiry>.<nonce>.<mac>",
// the MAC covering the switchboard address, the lower-cased address, the CID,
// the expiry and the nonce. The switchboard checks it, and takes each nonce
// once.
func (s *Server) sbCookie(email string, cid int64) string {
	exp := strconv.FormatInt(time.Now().Add(sbCookieLifetime).Unix(), 10)
	var n [8]byte
	_, _ = rand.Read(n[:])
	nonce := hex.EncodeToString(n[:])
	id := strconv.FormatInt(cid, 10)
	mac := sbwire.CookieMAC(sbwire.CookieKey(s.cfg.API.Key), s.cfg.Switchboard, email, id, exp, nonce)
	return id + "." + exp + "." + nonce + "." + hex.EncodeToString(mac)
}

// cmdXFR: "XFR trid SB" → "XFR trid SB addr CKI cookie U messenger.msn.com"
// (MSNP8–12: "XFR trid SB addr CKI cookie", pidgin 2.2.2 xfr_cmd;
// MSNP13 added "U messenger.msn.com"; MSNP14 added the direct-connect flag
// "1"; pidgin reads the address and the cookie, params 2 and 4). Hidden
// users get 913 (pidgin: "not allowed while invisible"), an IMS OFF
// session 502, and 280 when no switchboard is configured.
func (ss *session) cmdXFR(c msnp.Command) bool {
	if c.Arg(1) != "SB" {
		return ss.fail(msnp.ErrSyntax, c.TrID())
	}
	u := ss.u
	if p := u.snapshot(); !p.visible() {
		return ss.fail(msnp.ErrNotAllowedOffline, c.TrID())
	}
	if u.imsOff.Load() {
		return ss.fail(msnp.ErrCommandDisabled, c.TrID())
	}
	addr := ss.srv.cfg.Switchboard
	if addr == "" {
		return ss.fail(msnp.ErrSwitchboardFailed, c.TrID())
	}
	args := []string{c.TrID(), "SB", addr, "CKI", ss.srv.sbCookie(u.email, u.cid)}
	if ss.ver >= 13 {
		args = append(args, "U", "messenger.msn.com")
	}
	if ss.ver >= 14 {
		args = append(args, "1")
	}
	return ss.line("XFR", args...)
}

// cmdIMS turns instant messages off and on (msnp8-miscellaneous seed:
// "IMS trid OFF" → "IMS trid 0 OFF"): while off, no RNG reaches the
// session and XFR SB is refused.
func (ss *session) cmdIMS(c msnp.Command) bool {
	switch v := c.Arg(1); v {
	case "ON", "OFF":
		ss.u.imsOff.Store(v == "OFF")
		return ss.line("IMS", c.TrID(), "0", v)
	}
	return ss.fail(msnp.ErrInvalidParameter, c.TrID())
}

// sbRespond answers a switchboard request.
func sbRespond(m *nats.Msg, r sbwire.Member) {
	data, _ := json.Marshal(r)
	_ = m.Respond(data)
}

// whoReply describes u to a switchboard.
func whoReply(u *user) sbwire.Member {
	p := u.snapshot()
	return sbwire.Member{OK: true, Email: u.email, Name: p.Name, Caps: p.Caps, Ver: u.ss.ver,
		NSID: u.ss.sessionName(), Visible: p.visible()}
}

// onSBRequest handles a switchboard's request (a NATS message with a reply
// subject on the user subject of cid): "who" is answered at once, "ring"
// on the user's worker (the privacy check may call the NS API).
func (s *Server) onSBRequest(m *nats.Msg, cid int64) {
	var req sbwire.Request
	u := s.local(cid)
	if json.Unmarshal(m.Data, &req) != nil || u == nil {
		sbRespond(m, sbwire.Member{Code: msnp.ErrNotOnline})
		return
	}
	switch req.Kind {
	case sbwire.KindWho:
		sbRespond(m, whoReply(u))
	case sbwire.KindRing:
		u.enqueue(func() { s.ring(u, req, m) })
	default:
		sbRespond(m, sbwire.Member{Code: msnp.ErrSyntax})
	}
}

// ring sends "RNG sessid addr CKI cookie inviter name U messenger.hotmail.com"
// ("U messenger.hotmail.com" from MSNP13 only, pidgin 2.2.2 rng_cmd reads
// six parameters; plus "1" from MSNP14; RNG params 0, 1, 3 and 4 are what pidgin reads, and
// MSNPSharp parses the session id as an int32) when u may be called by
// req.From: u is online and visible, has IMs on, and lets the caller see
// it (PROTOCOL.md §5.4). Anything else is 217, so a blocked caller cannot
// tell blocked from offline.
func (s *Server) ring(u *user, req sbwire.Request, m *nats.Msg) {
	if p := u.snapshot(); !p.visible() || u.imsOff.Load() || !s.mayCall(u, req.From, req.FromCID) {
		sbRespond(m, sbwire.Member{Code: msnp.ErrNotOnline})
		return
	}
	args := []string{req.Session, req.Addr, "CKI", req.Cookie, req.From, msnp.URLEncodeName(req.FromName)}
	if u.ss.ver >= 13 {
		args = append(args, "U", "messenger.hotmail.com")
	}
	if u.ss.ver >= 14 {
		args = append(args, "1")
	}
	if !u.ss.line("RNG", args...) {
		sbRespond(m, sbwire.Member{Code: msnp.ErrNotOnline})
		return
	}
	sbRespond(m, whoReply(u))
}

// mayCall applies the visibility rule to a caller: a watcher (on u's RL)
// as u's lists say, anyone else from u's lists through the NS API (caller
// ∉ BL and (caller ∈ AL or BLP = AL)).
func (s *Server) mayCall(u *user, caller string, callerCID int64) bool {
	u.mu.Lock()
	l, known := u.links[callerCID]
	blp := u.blp
	u.mu.Unlock()
	if known && l.watcher {
		return l.canSee
	}
	ctx, cancel := s.apiCtx()
	defer cancel()
	lists, err := s.cfg.API.Lists(ctx, u.email)
	if err != nil {
		s.cfg.Log.Warn("ns: ring lists", "email", u.email, "error", err)
		return false
	}
	bits := 0
	for _, c := range lists.Contacts {
		if strings.EqualFold(c.Email, caller) {
			bits = c.Lists
		}
	}
	return bits&nsclient.BL == 0 && (bits&nsclient.AL != 0 || blp != "BL")
}

// sbSignedOut tells the switchboards that u's session ended: they end its
// connections with BYE to the others (docs/sb.md).
func (s *Server) sbSignedOut(u *user) {
	if s.cfg.NATS == nil {
		return
	}
	data, _ := json.Marshal(sbwire.SignOut{NSID: u.ss.sessionName()})
	_ = s.cfg.NATS.Publish(sbwire.SignOutPrefix+strconv.FormatInt(u.cid, 10), data)
}
