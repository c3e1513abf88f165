package ns

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
)

// presence is what watchers see of a signed-in user.
type presence struct {
	Status string // NLN BSY IDL BRB AWY PHN LUN HDN; "" before the first CHG
	Name   string // friendly name, decoded
	Caps   string // client id (capabilities) of CHG, as sent
	MSNObj string // MSNObject of CHG, decoded XML; "" for none
	// The last UUX document, relayed as UBX.
	PSM, Media, GUID string
}

// visible reports whether watchers see the user online: signed in with a
// status other than HDN (hidden looks offline, PROTOCOL.md §5.4).
func (p *presence) visible() bool { return p.Status != "" && p.Status != "HDN" }

// link is what a signed-in user's lists say about another account (keyed
// by its CID): whether the user shows its presence (FL) and whether it
// watches the user (RL) and may see the user. CID keys keep a session's
// lists to a few bytes per contact (no address strings).
type link struct {
	network uint8 // ADL t= value of the contact
	fl      bool  // on the user's FL: the user's client shows its presence
	watcher bool  // on the user's RL: it has the user on its FL
	canSee  bool  // watcher, and PROTOCOL.md §5.4 lets it see the user
}

// user is a signed-in account on this NS: its session, presence and the
// lists read from the NS API at sign-in (refreshed on events). Fields under
// mu are shared by the session's reader, the NATS dispatcher and the
// user's event worker.
type user struct {
	srv   *Server
	ss    *session
	email string // as the account spells it
	key   string // lower-cased email
	cid   int64
	puid  uint64
	since int64 // sign-in time (unix ns): a kick only ends older sessions
	subs  []*nats.Subscription
	// imsOff: "IMS OFF" — no RNG, no XFR SB (sb.go).
	imsOff atomic.Bool

	mu       sync.Mutex
	pres     presence
	ilnTrID  string          // trid of the first CHG: ILN answers carry it
	links    map[int64]link  // by CID: FL contacts and watchers (linksOf)
	removed  map[string]bool // lower-cased addresses the client RML'd from its FL (nil: none)
	blp      string          // "AL" or "BL"
	dead     bool
	replaced bool      // the account signed in again: no FLN at sign-out
	gids     *groupIDs // MSNP8–9: the integer group ids sent (groups.go)

	// The event worker: jobs run one at a time, in order, off the
	// dispatcher (they may call the NS API).
	jobs    []func()
	running bool
	ready   bool // sign-in finished: jobs may run
}

// linksOf reads the FL and the watchers from the user's own lists: FL
// contacts that are accounts, and the accounts on the user's Reverse list
// (RL: they have the user on their FL, DESIGN.md "Model rules"), each
// visible unless on BL, and only if on AL when BLP is BL (PROTOCOL.md §5.4,
// the rule of the NS API's /watchers can_see). One /lists read serves
// both.
func linksOf(l *nsclient.Lists, blp string) map[int64]link {
	m := make(map[int64]link)
	for _, c := range l.Contacts {
		fl, rl := c.Lists&nsclient.FL != 0, c.Lists&nsclient.RL != 0
		if c.CID == 0 || !fl && !rl {
			continue
		}
		can := rl && c.Lists&nsclient.BL == 0 && (c.Lists&nsclient.AL != 0 || blp != "BL")
		m[c.CID] = link{network: uint8(max(c.Network, 1)), fl: fl, watcher: rl, canSee: can}
	}
	return m
}

// maxJobs bounds a user's pending events; beyond it the NS API or the
// client is too slow and the session is cut off (it resyncs at sign-in).
const maxJobs = 1024

// enqueue runs f on the user's worker after the jobs before it.
func (u *user) enqueue(f func()) bool {
	u.mu.Lock()
	if u.dead {
		u.mu.Unlock()
		return false
	}
	if len(u.jobs) >= maxJobs {
		u.mu.Unlock()
		u.srv.cfg.Log.Warn("ns: event backlog full, disconnecting", "email", u.email)
		u.ss.kill()
		return false
	}
	u.jobs = append(u.jobs, f)
	start := u.claimWorker()
	u.mu.Unlock()
	if start {
		go u.work()
	}
	return true
}

// serial runs f on the user's worker, in order with the user's events, and
// waits for it; false when the session ended first (f may not have run).
// A command that changes the lists runs so: the events its change causes
// are handled after its answer is queued, so the client never sees
// presence (NLN) or an RL line for a contact before the answer that put
// the contact on its list (pidgin 2.2.2's nln_cmd dereferences the user it
// looks up; an unknown one crashes it).
func (u *user) serial(f func()) bool {
	done := make(chan struct{})
	if !u.enqueue(func() { defer close(done); f() }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-u.ss.done:
		return false
	}
}

// start lets queued jobs run (end of sign-in).
func (u *user) start() {
	u.mu.Lock()
	u.ready = true
	start := u.claimWorker()
	u.mu.Unlock()
	if start {
		go u.work()
	}
}

// claimWorker marks the job worker running when queued jobs may run and
// none runs yet; the caller holds u.mu and starts u.work when it is true.
func (u *user) claimWorker() bool {
	if !u.ready || u.running || len(u.jobs) == 0 {
		return false
	}
	u.running = true
	return true
}

func (u *user) work() {
	for {
		u.mu.Lock()
		if len(u.jobs) == 0 || u.dead {
			u.jobs = nil
			u.running = false
			u.mu.Unlock()
			return
		}
		f := u.jobs[0]
		u.jobs[0] = nil
		u.jobs = u.jobs[1:]
		u.mu.Unlock()
		u.safely(f)
	}
}

// safely runs f; a panic ends the user's session only.
func (u *user) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			u.srv.cfg.Log.Error("ns: event handler panic", "email", u.email, "panic", r)
			u.ss.kill()
		}
	}()
	f()
}

// hideFL stops (hide) or resumes showing u's client the presence of these
// addresses at once, before the lists catch up with the change's event:
// the client took them off its FL (RML; an MSNP8–12 REM FL that took the
// contact off the FL) or put them back (ADL FL; ADD/ADC FL). pidgin
// 2.2.2's nln_cmd and fln_cmd, and 2.4.3's, dereference the contact they
// look up, so presence for a contact the client no longer lists crashes it.
func (u *user) hideFL(hide bool, emails ...string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range emails {
		key := strings.ToLower(e)
		switch {
		case !hide:
			delete(u.removed, key)
		case u.removed == nil:
			u.removed = map[string]bool{key: true}
		default:
			u.removed[key] = true
		}
	}
}

// snapshot returns the user's presence.
func (u *user) snapshot() presence {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pres
}

// canSee reports whether the account with cid may see u.
func (u *user) canSee(cid int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.links[cid].canSee
}

// visibleTo returns the CIDs of the watchers that may see u.
func (u *user) visibleTo() []int64 { return u.linkCIDs(func(l link) bool { return l.canSee }) }

// contacts returns the CIDs of u's FL contacts.
func (u *user) contacts() []int64 { return u.linkCIDs(func(l link) bool { return l.fl }) }

// linkCIDs returns the CIDs of u's links that match keep.
func (u *user) linkCIDs(keep func(link) bool) []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]int64, 0, len(u.links))
	for cid, l := range u.links {
		if keep(l) {
			out = append(out, cid)
		}
	}
	return out
}
