package ns

import (
	"strings"
	"sync"

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

// contact is an FL entry of a signed-in user (keyed by its lower-cased
// address): whose presence it gets.
type contact struct {
	cid     int64 // 0 until known (an ADL of an address not yet in the lists)
	network int
}

// watcher is an account with the user on its FL, and whether it may see
// the user (NS API /watchers, PROTOCOL.md §5.4).
type watcher struct {
	cid    int64
	canSee bool
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

	mu       sync.Mutex
	pres     presence
	ilnTrID  string             // trid of the first CHG: ILN answers carry it
	fl       map[string]contact // lower-cased email → FL contact
	watchers map[string]watcher // lower-cased email → watcher
	blp      string             // "AL" or "BL"
	dead     bool
	replaced bool // the account signed in again: no FLN at sign-out

	// The event worker: jobs run one at a time, in order, off the
	// dispatcher (they may call the NS API).
	jobs    []func()
	running bool
	ready   bool // sign-in finished: jobs may run
}

// flOf turns NS API lists into the FL set: the contacts that are
// accounts (only they have presence).
func flOf(l *nsclient.Lists) map[string]contact {
	fl := make(map[string]contact)
	for _, c := range l.Contacts {
		if c.Lists&nsclient.FL != 0 && c.CID != 0 {
			fl[strings.ToLower(c.Email)] = contact{cid: c.CID, network: c.Network}
		}
	}
	return fl
}

// watchersOf derives who may see the account from its own lists: the
// accounts on its Reverse list (RL: they have it on their FL, DESIGN.md
// "Model rules"), each visible unless on BL, and only if on AL when BLP is
// BL (PROTOCOL.md §5.4, the rule of the NS API's /watchers can_see). One
// /lists read serves both the FL and the watchers.
func watchersOf(l *nsclient.Lists, blp string) map[string]watcher {
	m := make(map[string]watcher)
	for _, c := range l.Contacts {
		if c.Lists&nsclient.RL == 0 || c.CID == 0 {
			continue
		}
		can := c.Lists&nsclient.BL == 0 && (c.Lists&nsclient.AL != 0 || blp != "BL")
		m[strings.ToLower(c.Email)] = watcher{cid: c.CID, canSee: can}
	}
	return m
}

// maxJobs bounds a user's pending events; beyond it the NS API or the
// client is too slow and the session is cut off (it resyncs at sign-in).
const maxJobs = 1024

// enqueue runs f on the user's worker after the jobs before it.
func (u *user) enqueue(f func()) {
	u.mu.Lock()
	if u.dead {
		u.mu.Unlock()
		return
	}
	if len(u.jobs) >= maxJobs {
		u.mu.Unlock()
		u.srv.cfg.Log.Warn("ns: event backlog full, disconnecting", "email", u.email)
		u.ss.kill()
		return
	}
	u.jobs = append(u.jobs, f)
	start := u.ready && !u.running
	if start {
		u.running = true
	}
	u.mu.Unlock()
	if start {
		go u.work()
	}
}

// start lets queued jobs run (end of sign-in).
func (u *user) start() {
	u.mu.Lock()
	u.ready = true
	start := !u.running && len(u.jobs) > 0
	if start {
		u.running = true
	}
	u.mu.Unlock()
	if start {
		go u.work()
	}
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

// snapshot returns the user's presence.
func (u *user) snapshot() presence {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pres
}

// canSee reports whether the account with lower-cased email may see u.
func (u *user) canSee(email string) (watcher, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	w, ok := u.watchers[email]
	return w, ok && w.canSee
}

// visibleTo returns the CIDs of the watchers that may see u.
func (u *user) visibleTo() []int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]int64, 0, len(u.watchers))
	for _, w := range u.watchers {
		if w.canSee && w.cid != 0 {
			out = append(out, w.cid)
		}
	}
	return out
}

// contacts returns u's FL contacts that have accounts.
func (u *user) contacts() []contact {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]contact, 0, len(u.fl))
	for _, c := range u.fl {
		if c.cid != 0 {
			out = append(out, c)
		}
	}
	return out
}
