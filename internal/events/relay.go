package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// OutboxRow is one committed, unpublished event as the relay reads it.
type OutboxRow struct {
	ID      int64
	EventID string
	Subject string
	Payload string
}

// Leadership is the relay leader role: Alive fails once the role was lost
// (the lock's database session ended); Release gives it up.
type Leadership interface {
	Alive(ctx context.Context) error
	Release()
}

// Outbox is what the relay needs from the store (internal/store/outbox.go).
type Outbox interface {
	UnpublishedEvents(ctx context.Context, limit int) ([]OutboxRow, error)
	MarkPublished(ctx context.Context, ids []int64, at time.Time) error
	PrunePublished(ctx context.Context, before time.Time) (int64, error)
	// TryRelayLock returns nil, nil when another process leads.
	TryRelayLock(ctx context.Context) (Leadership, error)
	OnCommit(f func())
}

// Notifier is implemented by an Outbox that can wake the leader of another
// process (Postgres NOTIFY): a relay that does not lead calls it after local
// commits.
type Notifier interface {
	NotifyOutbox(ctx context.Context) error
}

// Waiter is implemented by a Leadership that can wait for such a wake-up
// (Postgres LISTEN on the lock connection).
type Waiter interface {
	WaitNotify(ctx context.Context) error
}

// Publisher publishes one event and returns once the broker stored it
// (internal/broker.Broker: JetStream PubAck, msgID as Nats-Msg-Id).
type Publisher interface {
	Publish(ctx context.Context, subject, msgID string, data []byte) error
}

// ErrUndeliverable marks a publish error that retrying cannot fix (an event
// larger than the broker accepts). The relay logs the event and moves on
// rather than holding every later event back behind it forever.
var ErrUndeliverable = errors.New("event cannot be delivered")

// Relay defaults.
const (
	DefaultPoll       = time.Second
	DefaultBatch      = 256
	DefaultRetention  = 24 * time.Hour
	DefaultMaxBackoff = 5 * time.Second
)

// Relay publishes committed outbox rows to the broker in id order and marks
// them published: at least once (a row is marked only after its PubAck, and
// a crash in between re-publishes it with the same Nats-Msg-Id, which
// JetStream drops as a duplicate inside its window), and in order per
// recipient (one relay loop publishes one row at a time and stops at the
// first failure, so a later row never overtakes an earlier one).
//
// It wakes on every committed write (Store.OnCommit) and every Poll, so rows
// committed by other processes or left by a killed one are found too. While
// the broker is unreachable it retries with exponential backoff; rows wait in
// the outbox meanwhile. Published rows are deleted after Retention.
type Relay struct {
	Outbox    Outbox
	Publisher Publisher
	Log       *slog.Logger
	// Now is the clock for published_at and pruning.
	Now        func() time.Time
	Poll       time.Duration
	Batch      int
	Retention  time.Duration
	MaxBackoff time.Duration

	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once

	published atomic.Uint64
	failures  atomic.Uint64
	leader    atomic.Bool
}

// Start runs the relay loop until Close.
func (r *Relay) Start() {
	r.startOnce.Do(func() {
		if r.Log == nil {
			r.Log = slog.Default()
		}
		if r.Now == nil {
			r.Now = func() time.Time { return time.Now().UTC() }
		}
		if r.Poll <= 0 {
			r.Poll = DefaultPoll
		}
		if r.Batch <= 0 {
			r.Batch = DefaultBatch
		}
		if r.Retention <= 0 {
			r.Retention = DefaultRetention
		}
		if r.MaxBackoff <= 0 {
			r.MaxBackoff = DefaultMaxBackoff
		}
		r.wake = make(chan struct{}, 1)
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		r.Outbox.OnCommit(r.Wake)
		go r.run()
	})
}

// Wake asks the relay to look at the outbox now (cheap, never blocks).
func (r *Relay) Wake() {
	if r.wake == nil {
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Published returns how many events this relay has had acknowledged.
func (r *Relay) Published() uint64 { return r.published.Load() }

// Failures returns how many publish attempts failed.
func (r *Relay) Failures() uint64 { return r.failures.Load() }

// Leader reports whether this relay currently holds the leader role.
func (r *Relay) Leader() bool { return r.leader.Load() }

// Close stops the loop after one last attempt (bounded by ctx and a few
// seconds) to publish what is committed, so a graceful shutdown leaves
// nothing behind while the broker is up.
func (r *Relay) Close(ctx context.Context) error {
	if r.stop == nil {
		return nil
	}
	r.stopOnce.Do(func() { close(r.stop) })
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// relayState is what the relay loop carries from one round to the next.
type relayState struct {
	lead               Leadership // nil while another process leads
	backoff            time.Duration
	nextPrune, nextTry time.Time
}

// release gives up the leader lock, if held.
func (st *relayState) release(r *Relay) {
	if st.lead != nil {
		st.lead.Release()
		st.lead = nil
		r.leader.Store(false)
	}
}

// run is the relay loop: follow while another process leads, publish while
// this one does, until Close.
func (r *Relay) run() {
	defer close(r.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stop:
		case <-r.done:
		}
		// Let the final drain finish, but not forever.
		time.AfterFunc(3*time.Second, cancel)
	}()

	st := &relayState{}
	defer st.release(r)
	for {
		stopping := r.stopped()
		if st.lead == nil {
			if r.follow(ctx, st, stopping) {
				return
			}
			continue
		}
		if err := st.lead.Alive(ctx); err != nil {
			r.Log.Warn("event relay: lost the leader lock", "error", err)
			st.release(r)
			if stopping {
				return
			}
			continue
		}
		if r.leadRound(ctx, st, stopping) {
			return
		}
	}
}

// follow is a round without the leader lock: try for it every Poll and
// meanwhile pass local commits on to the leader. It reports whether the
// loop ends.
func (r *Relay) follow(ctx context.Context, st *relayState, stopping bool) (stop bool) {
	if now := time.Now(); !now.Before(st.nextTry) {
		l, err := r.Outbox.TryRelayLock(ctx)
		if err != nil {
			r.Log.Warn("event relay: leader lock", "error", err)
		}
		st.nextTry = now.Add(r.Poll)
		if l != nil {
			st.lead = l
			r.leader.Store(true)
			r.Log.Debug("event relay: leading")
			return false
		}
	}
	if stopping {
		return true
	}
	switch r.sleep(time.Until(st.nextTry), true, nil) {
	case sleepStopped:
		return true
	case sleepWoken:
		if n, ok := r.Outbox.(Notifier); ok {
			if err := n.NotifyOutbox(ctx); err != nil {
				r.Log.Warn("event relay: notify leader", "error", err)
			}
		}
	}
	return false
}

// leadRound is a round as leader: publish what is committed (backing off
// while the broker fails), prune old published rows, and wait for the next
// commit or Poll. It reports whether the loop ends.
func (r *Relay) leadRound(ctx context.Context, st *relayState, stopping bool) (stop bool) {
	more, err := r.drain(ctx)
	if stopping {
		return true
	}
	if err != nil {
		r.failures.Add(1)
		st.backoff = min(max(2*st.backoff, 50*time.Millisecond), r.MaxBackoff)
		r.Log.Warn("event relay: publish failed; events wait in the outbox", "error", err, "retry_in", st.backoff)
		// Commits do not cut a backoff short: the broker is the problem.
		if r.sleep(st.backoff, false, nil) == sleepStopped {
			r.finalDrain(ctx, st.lead)
			return true
		}
		return false
	}
	st.backoff = 0
	if now := r.Now(); now.After(st.nextPrune) {
		r.prune(ctx, now)
		st.nextPrune = now.Add(min(r.Retention, time.Minute))
	}
	if more {
		return false
	}
	if r.sleep(r.Poll, true, st.lead) == sleepStopped {
		r.finalDrain(ctx, st.lead)
		return true
	}
	return false
}

// prune deletes the rows published longer than Retention before now.
func (r *Relay) prune(ctx context.Context, now time.Time) {
	if n, err := r.Outbox.PrunePublished(ctx, now.Add(-r.Retention)); err != nil {
		r.Log.Warn("event relay: prune", "error", err)
	} else if n > 0 {
		r.Log.Debug("event relay: pruned", "rows", n)
	}
}

// finalDrain publishes what is committed before the relay stops.
func (r *Relay) finalDrain(ctx context.Context, lead Leadership) {
	if lead == nil {
		return
	}
	for {
		more, err := r.drain(ctx)
		if err != nil || !more {
			return
		}
	}
}

func (r *Relay) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// Why a sleep ended.
const (
	sleepTimeout = iota
	sleepWoken   // a local commit, or another instance's NOTIFY
	sleepStopped // Close was called
)

// sleep waits d, or less when wakeable and a commit wakes it: a local one
// (Wake) or, when lead is a Waiter, another instance's.
func (r *Relay) sleep(d time.Duration, wakeable bool, lead Leadership) int {
	t := time.NewTimer(d)
	defer t.Stop()
	var wake, notified chan struct{}
	if wakeable {
		wake = r.wake
		if w, ok := lead.(Waiter); ok {
			ctx, cancel := context.WithCancel(context.Background())
			notified = make(chan struct{})
			finished := make(chan struct{})
			go func() {
				defer close(finished)
				if w.WaitNotify(ctx) == nil {
					close(notified)
				}
			}()
			// The lock connection is used again right after: wait for
			// the listener to give it back.
			defer func() { cancel(); <-finished }()
		}
	}
	select {
	case <-r.stop:
		return sleepStopped
	case <-t.C:
		return sleepTimeout
	case <-wake:
		return sleepWoken
	case <-notified:
		return sleepWoken
	}
}

// drain publishes one batch in id order. It stops at the first failure so no
// later event overtakes an earlier one, marking what was acknowledged. more
// reports a full batch (there may be more rows).
func (r *Relay) drain(ctx context.Context) (more bool, err error) {
	rows, err := r.Outbox.UnpublishedEvents(ctx, r.Batch)
	if err != nil || len(rows) == 0 {
		return false, err
	}
	done := make([]int64, 0, len(rows))
	defer func() {
		if len(done) > 0 {
			if merr := r.Outbox.MarkPublished(ctx, done, r.Now()); merr != nil && err == nil {
				// Published but not marked: the next round re-publishes
				// them and JetStream drops the duplicates.
				err = merr
			}
		}
	}()
	for _, row := range rows {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.Publisher.Publish(pctx, row.Subject, row.EventID, []byte(row.Payload))
		cancel()
		if errors.Is(err, ErrUndeliverable) {
			r.Log.Error("event relay: dropping an event the broker refuses", "event_id", row.EventID, "subject", row.Subject, "bytes", len(row.Payload), "error", err)
			r.failures.Add(1)
			done = append(done, row.ID)
			continue
		}
		if err != nil {
			return false, err
		}
		done = append(done, row.ID)
		r.published.Add(1)
	}
	return len(rows) == r.Batch, nil
}
