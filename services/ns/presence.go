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
	c := t.links[m.FromCID]
	trid := t.ilnTrID
	removed := t.removed[strings.ToLower(m.From)]
	t.mu.Unlock()
	if !c.fl || removed || trid == "" {
		return
	}
	ver, network := t.ss.ver, int(c.network)
	if m.Status == msnp.StatusOffline {
		t.ss.line("FLN", msnp.FLNArgs(m.From, network, ver)...)
		return
	}
	if !m.UBXOnly {
		t.ss.send(presenceLine(m, network, ver, trid))
	}
	if (m.UBX || m.UBXOnly) && ver >= msnp.MSNP11 {
		// Personal messages came with MSNP11 (MSN Messenger 7.0).
		t.ss.payload("UBX", msnp.UBXArgs(m.From, network, ver), msnp.UBXPayload(m.PSM, m.Media, m.GUID, ver))
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
		// Messages are routed by CID to the current user: the old
		// session's subscriptions would deliver every event twice.
		s.kick(old)
		s.unsubscribe(old)
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
	s.sbSignedOut(u) // sb.go
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
	if msnp.SYNEra(u.ss.ver) {
		if !s.writeLegacyEvent(u, ev) {
			return
		}
		s.eventConsequences(u, ev)
		return
	}
	for _, c := range ev.NS {
		b := nsclient.Wire(c)
		if c.Command == "NOT" && c.Args == "" {
			// pidgin 2.4.3 does not frame NOT (command.c
			// msn_check_payload_cmd, servconn.c): msnp.AppendNOT
			// ends the payload in CR LF for MSNP13/14 so it cannot swallow
			// the next command.
			b = msnp.AppendNOT(nil, []byte(c.Payload), u.ss.ver)
		}
		if !u.ss.send(b) {
			return
		}
	}
	s.eventConsequences(u, ev)
}

// legacyListEvent turns an event into the list lines an MSNP8–12 session
// gets instead of its ADL/RML commands (ADD/ADC/REM … RL, with the list
// version for MSNP8–9); set by the list commands' file (SYN_NS.md §4). nil
// writes none.
var legacyListEvent func(u *user, ev nsclient.Event) [][]byte

// writeLegacyEvent writes an event to an MSNP8–12 session: the list lines
// of legacyListEvent first, then the notices (NOT) the event carries,
// except the address-book sync hints (ABCHInternal), which only SOAP
// clients act on; OIM mail notifications are dropped (offline messages
// came with MSNP13). It reports whether the session still takes writes.
func (s *Server) writeLegacyEvent(u *user, ev nsclient.Event) bool {
	// Before the client's first SYN no list line is pushed: the SYN answer
	// (read after this event, on the same worker) lists the change, and
	// pidgin 2.2.2 only builds its list at SYN.
	if legacyListEvent != nil && u.ss.synVer.Load() > 0 {
		for _, b := range legacyListEvent(u, ev) {
			if !u.ss.send(b) {
				return false
			}
		}
	}
	for _, c := range ev.NS {
		if c.Command != "NOT" || c.Args != "" || abchHint(c.Payload) {
			continue
		}
		if !u.ss.send(msnp.AppendNOT(nil, []byte(c.Payload), u.ss.ver)) {
			return false
		}
	}
	return true
}

// abchHint reports whether a NOT payload is the address book's "your lists
// changed" hint (docs/events.md §4: NotificationData of the ABCHInternal
// service) rather than a notice for the user.
func abchHint(payload string) bool {
	return strings.Contains(payload, "&lt;Service&gt;ABCHInternal&lt;/Service&gt;") ||
		strings.Contains(payload, "<Service>ABCHInternal</Service>")
}

// eventConsequences applies an event's presence and session consequences
// (docs/events.md §5).
func (s *Server) eventConsequences(u *user, ev nsclient.Event) {
	switch ev.Type {
	case "privacy.changed":
		if blp := ev.Data["blp"]; blp == "AL" || blp == "BL" {
			u.mu.Lock()
			u.blp = blp
			u.mu.Unlock()
		}
		s.refresh(u, nil)
	case "reverse.added", "reverse.removed", "membership.changed", "addressbook.changed":
		s.refresh(u, nil)
	case "account.disabled", "account.deleted":
		// An operator closed the account (abch user disable/delete,
		// docs/events.md): its tickets are refused from now on, so its
		// session ends. MSNP has no reason code for this: a plain OUT,
		// which pidgin reports as a disconnection (notification.c out_cmd).
		u.ss.out("OUT\r\n")
		u.ss.queueClose()
	case "profile.changed":
		if name := ev.Recipient.DisplayName; name != "" && name != u.snapshot().Name {
			s.setPresence(u, func(p *presence) { p.Name = name })
		}
	}
}

// refresh re-reads u's lists. Watchers who now may see u get its NLN (and
// UBX), those who no longer may get FLN (PROTOCOL.md §5.4: block → FLN,
// unblock/allow → NLN, BLP re-evaluates everyone); contacts new on u's FL,
// and those whose lower-cased address is in ask (an ADL FL of the client),
// are asked for their presence.
func (s *Server) refresh(u *user, ask map[string]bool) {
	ctx, cancel := s.apiCtx()
	l, err := s.cfg.API.Lists(ctx, u.email)
	cancel()
	if err != nil {
		s.cfg.Log.Warn("ns: lists", "email", u.email, "error", err)
		return
	}
	var asked []int64
	for _, c := range l.Contacts {
		if ask[strings.ToLower(c.Email)] && c.Lists&nsclient.FL != 0 {
			asked = append(asked, c.CID)
		}
	}
	u.mu.Lock()
	next := linksOf(l, u.blp)
	prev := u.links
	u.links = next
	for cid, k := range next {
		if k.fl && !prev[cid].fl {
			asked = append(asked, cid)
		}
	}
	started := u.ilnTrID != ""
	p := u.pres
	u.mu.Unlock()
	if p.visible() {
		s.showChanges(u, p, prev, next)
	}
	if started && len(asked) > 0 {
		s.probe(u, asked, false)
	}
}

// showChanges sends u's presence to watchers whose view of u changed.
func (s *Server) showChanges(u *user, p presence, prev, next map[int64]link) {
	var on, off []byte
	for cid, k := range next {
		was := prev[cid].canSee
		switch {
		case k.canSee && !was:
			s.deliver(cid, presenceMsg(u, p, false, true), &on)
		case !k.canSee && was:
			s.deliver(cid, presenceMsg(u, presence{}, false, false), &off)
		}
	}
	for cid, k := range prev {
		if _, still := next[cid]; !still && k.canSee {
			s.deliver(cid, presenceMsg(u, presence{}, false, false), &off)
		}
	}
}
