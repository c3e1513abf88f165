package ns

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/sbwire"
)

// UserSubjectPrefix starts the NATS core subject of a signed-in account:
// "abch.ns.user.<cid>" (signed decimal CID, as abch.events.<cid>). The NS
// holding the account subscribes to it; other NS processes publish presence
// lines, presence probes and kicks there (docs/ns.md), and switchboards
// their requests (sbwire).
const UserSubjectPrefix = sbwire.UserSubjectPrefix

// UserSubject is the NS-to-NS subject of the account with cid.
func UserSubject(cid int64) string { return UserSubjectPrefix + strconv.FormatInt(cid, 10) }

// Kinds of hubMsg.
const (
	kindPresence = "presence" // From's presence, for the subject's user to show
	kindProbe    = "probe"    // From signed in or added the user: answer with presence if From may see it
	kindKick     = "kick"     // the account signed in elsewhere: OUT OTH
)

// hubMsg is the JSON of an NS-to-NS message on a user subject.
type hubMsg struct {
	Kind    string `json:"kind"`
	From    string `json:"from"`               // the account it is about or from
	FromCID int64  `json:"from_cid,omitempty"` // its CID (probe: where to answer)
	// kick: the new session (NS id and session number) and when it signed in.
	Session string `json:"session,omitempty"`
	Since   int64  `json:"since,omitempty"`
	// presence: Status "FLN" when From went offline or became invisible.
	Status  string `json:"status,omitempty"`
	Name    string `json:"name,omitempty"`
	Caps    string `json:"caps,omitempty"`
	MSNObj  string `json:"msnobj,omitempty"`
	PSM     string `json:"psm,omitempty"`
	Media   string `json:"media,omitempty"`
	GUID    string `json:"guid,omitempty"`
	Initial bool   `json:"initial,omitempty"`  // an answer to a sign-in probe: ILN
	UBX     bool   `json:"ubx,omitempty"`      // follow with UBX
	UBXOnly bool   `json:"ubx_only,omitempty"` // a UUX change: UBX without NLN
}

// presenceMsg is u's presence as watchers receive it (FLN when
// invisible); ubx asks for the UBX document after the NLN/ILN.
func presenceMsg(u *user, p presence, initial, ubx bool) *hubMsg {
	m := &hubMsg{Kind: kindPresence, From: u.email, FromCID: u.cid, Initial: initial}
	if !p.visible() {
		m.Status = "FLN"
		return m
	}
	m.Status, m.Name, m.Caps, m.MSNObj = p.Status, p.Name, p.Caps, p.MSNObj
	m.PSM, m.Media, m.GUID, m.UBX = p.PSM, p.Media, p.GUID, ubx
	return m
}

// local returns the signed-in user with cid on this NS, or nil.
func (s *Server) local(cid int64) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[cid]
}

// deliver hands m to the holder of cid: directly when it is signed in here,
// else over NATS (nobody listens when the account is offline).
func (s *Server) deliver(cid int64, m *hubMsg, enc *[]byte) {
	if t := s.local(cid); t != nil {
		s.receive(t, m)
		return
	}
	if s.cfg.NATS == nil {
		return
	}
	if *enc == nil {
		*enc, _ = json.Marshal(m)
	}
	if err := s.cfg.NATS.Publish(UserSubject(cid), *enc); err != nil {
		s.cfg.Log.Warn("ns: publish", "error", err)
	}
}

// fanOut sends m to every watcher of u that may see u.
func (s *Server) fanOut(u *user, m *hubMsg) {
	var enc []byte
	for _, cid := range u.visibleTo() {
		s.deliver(cid, m, &enc)
	}
}

// subscribe listens on the user's event and NS subjects; messages go to
// the shared dispatcher, so a session costs no goroutine here.
func (s *Server) subscribe(u *user) error {
	if s.cfg.NATS == nil {
		return nil
	}
	for _, subj := range []string{nsclient.Subject(u.cid), UserSubject(u.cid)} {
		sub, err := s.cfg.NATS.ChanSubscribe(subj, s.inbox)
		if err != nil {
			s.unsubscribe(u)
			return err
		}
		u.mu.Lock()
		u.subs = append(u.subs, sub)
		u.mu.Unlock()
	}
	// Wait until the server has the interest, so nothing published after
	// sign-in is missed.
	return s.cfg.NATS.Flush()
}

func (s *Server) unsubscribe(u *user) {
	u.mu.Lock()
	subs := u.subs
	u.subs = nil
	u.mu.Unlock()
	for _, sub := range subs {
		_ = sub.Unsubscribe()
	}
}

// dispatch routes NATS messages to local users until the server stops.
func (s *Server) dispatch() {
	for {
		select {
		case m := <-s.inbox:
			s.route(m)
		case <-s.stop:
			return
		}
	}
}

// route handles one NATS message: an abch event or an NS-to-NS message.
func (s *Server) route(m *nats.Msg) {
	var cidText string
	event := strings.HasPrefix(m.Subject, "abch.events.")
	if event {
		cidText = strings.TrimPrefix(m.Subject, "abch.events.")
	} else {
		cidText = strings.TrimPrefix(m.Subject, UserSubjectPrefix)
	}
	cid, err := strconv.ParseInt(cidText, 10, 64)
	if err != nil {
		return
	}
	if !event && m.Reply != "" {
		s.onSBRequest(m, cid) // a switchboard's request (sb.go)
		return
	}
	u := s.local(cid)
	if u == nil {
		return
	}
	if event {
		var ev nsclient.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			s.cfg.Log.Warn("ns: undecodable event", "subject", m.Subject, "error", err)
			return
		}
		u.enqueue(func() { s.onEvent(u, ev) })
		return
	}
	var hm hubMsg
	if err := json.Unmarshal(m.Data, &hm); err != nil {
		return
	}
	s.receive(u, &hm)
}

// receive handles an NS-to-NS message for the local user t.
func (s *Server) receive(t *user, m *hubMsg) {
	switch m.Kind {
	case kindPresence:
		s.showPresence(t, m)
	case kindProbe:
		if !t.canSee(m.FromCID) {
			return
		}
		if p := t.snapshot(); p.visible() {
			var enc []byte
			s.deliver(m.FromCID, presenceMsg(t, p, m.Initial, true), &enc)
		}
	case kindKick:
		if m.Session != t.ss.sessionName() && m.Since >= t.since {
			s.kick(t)
		}
	}
}

// kick ends t's session because the account signed in again: "OUT OTH"
// (msnp8-miscellaneous seed: another client signed in with this address).
func (s *Server) kick(t *user) {
	// The new session owns the presence now: this one's sign-out must not
	// send watchers an FLN that could arrive after the new session's NLN.
	t.mu.Lock()
	t.replaced = true
	t.mu.Unlock()
	t.ss.out("OUT OTH\r\n")
	t.ss.queueClose()
}

// announce tells other NS processes that u signed in (they kick older
// sessions of the account).
func (s *Server) announce(u *user) {
	if s.cfg.NATS == nil {
		return
	}
	m := &hubMsg{Kind: kindKick, From: u.email, FromCID: u.cid, Session: u.ss.sessionName(), Since: u.since}
	data, _ := json.Marshal(m)
	_ = s.cfg.NATS.Publish(UserSubject(u.cid), data)
}

// probe asks the holders of u's FL contacts for their presence; those who
// let u see them answer with a presence message (initial: as ILN).
func (s *Server) probe(u *user, cids []int64, initial bool) {
	m := &hubMsg{Kind: kindProbe, From: u.email, FromCID: u.cid, Initial: initial}
	var enc []byte
	for _, cid := range cids {
		if cid != 0 && cid != u.cid {
			s.deliver(cid, m, &enc)
		}
	}
}
