package ns

import (
	"strings"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// showPresence writes another account's presence (ILN/NLN/FLN, then UBX)
// to t's client, only when t has that account on its FL (pidgin 2.4.3
// crashes on NLN for a user that is not on its list, NS_CLIENT_FACTS.md)
// and has sent its first CHG (its ILN answers cover what came before).
func (s *Server) showPresence(t *user, m *hubMsg) {
	t.mu.Lock()
	c, onFL := t.fl[strings.ToLower(m.From)]
	trid := t.ilnTrID
	t.mu.Unlock()
	if !onFL || trid == "" {
		return
	}
	ver := t.ss.ver
	if m.Status == msnp.StatusOffline {
		t.ss.line("FLN", msnp.FLNArgs(m.From, c.network, ver)...)
		return
	}
	if !m.UBXOnly {
		t.ss.send(presenceLine(m, c.network, ver, trid))
	}
	if m.UBX || m.UBXOnly {
		t.ss.payload("UBX", msnp.UBXArgs(m.From, c.network, ver), msnp.UBXPayload(m.PSM, m.Media, m.GUID, ver))
	}
}

// presenceLine is "ILN trid …" for an answer to a sign-in probe, else
// "NLN …" (msnp.Presence: the MSNP13/15 forms carry the network id).
func presenceLine(m *hubMsg, network, ver int, trid string) []byte {
	cid, err := msnp.ParseClientID(m.Caps, ver)
	if err != nil {
		cid = msnp.ClientID{}
	}
	p := msnp.Presence{Status: m.Status, Email: m.From, Network: network, Friendly: m.Name, ClientID: cid, MSNObj: m.MSNObj}
	if m.Initial {
		return msnp.AppendLine(nil, "ILN", p.ILNArgs(trid, ver)...)
	}
	return msnp.AppendLine(nil, "NLN", p.NLNArgs(ver)...)
}

// register makes u the account's session on this NS and, over NATS, on
// every NS: an older session of the account gets "OUT OTH".
func (s *Server) register(u *user) error {
	s.mu.Lock()
	old := s.users[u.cid]
	s.users[u.cid] = u
	s.mu.Unlock()
	if old != nil {
		s.kick(old)
	}
	s.announce(u)
	return s.subscribe(u)
}

// signOut forgets u (its session ended) and tells watchers it went offline.
func (s *Server) signOut(u *user, ss *session) {
	s.mu.Lock()
	if s.users[u.cid] == u {
		delete(s.users, u.cid)
	}
	s.mu.Unlock()
	s.unsubscribe(u)
	u.mu.Lock()
	was, replaced := u.pres, u.replaced
	u.dead = true
	u.jobs = nil
	u.mu.Unlock()
	if was.visible() && !replaced {
		s.fanOut(u, presenceMsg(u, presence{}, false, false))
	}
}

// setPresence changes u's presence with f and tells watchers what changed:
// NLN when visible (with UBX when u just appeared), FLN when u became
// invisible (HDN). A first CHG to HDN sends FLN too: a session this one
// replaced (OUT OTH) may have left watchers seeing the account online.
func (s *Server) setPresence(u *user, f func(p *presence)) {
	u.mu.Lock()
	before := u.pres.visible()
	first := u.pres.Status == ""
	f(&u.pres)
	p := u.pres
	u.mu.Unlock()
	if p.visible() || before || (first && p.Status != "") {
		s.fanOut(u, presenceMsg(u, p, false, !before))
	}
}

// onEvent writes an abch event's commands to u's client in order, then
// applies its presence consequences (docs/events.md §5).
func (s *Server) onEvent(u *user, ev nsclient.Event) {
	for _, c := range ev.NS {
		b := nsclient.Wire(c)
		if c.Command == "NOT" && c.Args == "" {
			// pidgin 2.4.3 does not frame NOT: msnp.AppendNOT ends the
			// payload in CR LF for MSNP13/14 so it cannot swallow the next
			// command.
			b = msnp.AppendNOT(nil, []byte(c.Payload), u.ss.ver)
		}
		if !u.ss.send(b) {
			return
		}
	}
	switch ev.Type {
	case "privacy.changed":
		if blp := ev.Data["blp"]; blp == "AL" || blp == "BL" {
			u.mu.Lock()
			u.blp = blp
			u.mu.Unlock()
		}
		s.refresh(u)
	case "reverse.added", "reverse.removed", "membership.changed", "addressbook.changed":
		s.refresh(u)
	case "profile.changed":
		if name := ev.Recipient.DisplayName; name != "" && name != u.snapshot().Name {
			s.setPresence(u, func(p *presence) { p.Name = name })
		}
	}
}

// refresh re-reads u's lists. Watchers who now may see u get its NLN (and
// UBX), those who no longer may get FLN (PROTOCOL.md §5.4: block → FLN,
// unblock/allow → NLN, BLP re-evaluates everyone); contacts new on u's FL
// are asked for their presence (an FL add of an online, visible contact
// shows it).
func (s *Server) refresh(u *user) {
	ctx, cancel := s.apiCtx()
	l, err := s.cfg.API.Lists(ctx, u.email)
	cancel()
	if err != nil {
		s.cfg.Log.Warn("ns: lists", "email", u.email, "error", err)
		return
	}
	fl := flOf(l)
	var added []contact
	u.mu.Lock()
	next := watchersOf(l, u.blp)
	prev := u.watchers
	u.watchers = next
	for key, c := range fl {
		if old, had := u.fl[key]; !had || old.cid == 0 {
			added = append(added, c)
		}
	}
	u.fl = fl
	started := u.ilnTrID != ""
	p := u.pres
	u.mu.Unlock()
	if p.visible() {
		s.showChanges(u, p, prev, next)
	}
	if started && len(added) > 0 {
		s.probe(u, added, false)
	}
}

// showChanges sends u's presence to watchers whose view of u changed.
func (s *Server) showChanges(u *user, p presence, prev, next map[string]watcher) {
	var on, off []byte
	for key, w := range next {
		was := prev[key].canSee
		switch {
		case w.canSee && !was:
			s.deliver(w.cid, presenceMsg(u, p, false, true), &on)
		case !w.canSee && was:
			s.deliver(w.cid, presenceMsg(u, presence{}, false, false), &off)
		}
	}
	for key, w := range prev {
		if _, still := next[key]; !still && w.canSee {
			s.deliver(w.cid, presenceMsg(u, presence{}, false, false), &off)
		}
	}
}
