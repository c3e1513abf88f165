package sb

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
	"github.com/abch-im/abch/services/ns/sbwire"
)

// The switchboard's side of the NS contract (docs/sb.md). Requests go to
// the NS holding the account on its user subject "abch.ns.user.<cid>"
// with a reply subject; with nobody subscribed the account is offline
// (NATS "no responders").

// member is a user as the NS describes it, with its CID.
type member struct {
	sbwire.Member
	cid int64
}

// errOffline means nobody holds the account (or it may not be reached).
var errOffline = errors.New("sb: user not online")

// ask sends req to the NS holding cid and decodes its answer.
func (s *Server) ask(cid int64, req sbwire.Request) (member, error) {
	data, _ := json.Marshal(req)
	ctx, cancel := s.apiCtx()
	defer cancel()
	msg, err := s.cfg.NATS.RequestWithContext(ctx, sbwire.UserSubject(cid), data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return member{}, errOffline
		}
		return member{}, err
	}
	var m member
	if err := json.Unmarshal(msg.Data, &m.Member); err != nil {
		return member{}, err
	}
	if !m.OK {
		return m, errOffline
	}
	m.cid = cid
	return m, nil
}

// who asks the NS holding cid to describe its user.
func (s *Server) who(cid int64) (member, error) {
	return s.ask(cid, sbwire.Request{Kind: sbwire.KindWho})
}

// lookup finds the CID of an address through the NS API (404: no account).
func (s *Server) lookup(email string) (int64, error) {
	ctx, cancel := s.apiCtx()
	defer cancel()
	p, err := s.cfg.API.Profile(ctx, email)
	if err != nil {
		var ae *nsclient.APIError
		if errors.As(err, &ae) && ae.Status == 404 {
			return 0, errOffline
		}
		return 0, err
	}
	return p.CID, nil
}

// ring asks the NS holding the invitee to send RNG; the NS checks presence,
// IMS and privacy and answers with the invitee or 217.
func (s *Server) ring(cid int64, b *board, from member, cookie string) (member, error) {
	return s.ask(cid, sbwire.Request{Kind: sbwire.KindRing, Session: b.id, Addr: s.PublicAddr(), Cookie: cookie,
		From: from.Email, FromCID: from.cid, FromName: from.Name})
}

// onSignOut ends the connections of an NS session that ended.
func (s *Server) onSignOut(m *nats.Msg) {
	cid, err := strconv.ParseInt(strings.TrimPrefix(m.Subject, sbwire.SignOutPrefix), 10, 64)
	if err != nil {
		return
	}
	var body sbwire.SignOut
	if json.Unmarshal(m.Data, &body) != nil {
		return
	}
	for _, c := range s.conns.Open() {
		if me := c.me.Load(); me != nil && me.cid == cid && (body.NSID == "" || me.NSID == body.NSID) {
			c.leave(false)
		}
	}
}

// errorLine is an error line for a client of protocol version ver:
// "code trid 0" for MSNP13/14 (pidgin 2.4.3 reads an error's last number as
// a payload length, msnp.AppendErrorFor) and before the version is known.
func errorLine(code int, trid string, ver int) []byte {
	if ver == 0 {
		ver = 13
	}
	return msnp.AppendErrorFor(nil, code, trid, ver)
}
