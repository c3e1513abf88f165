package nsclient

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/abch-im/abch/internal/events"
)

// Event is one change event as abch publishes it (docs/events.md).
type Event = events.Event

// Party is an account named in an event (recipient, actor).
type Party = events.Party

// NSCommand is a command ready for the recipient's sockets: write
// "<Command> <Args> <len(Payload)>\r\n<Payload>" ("NOT <len>\r\n<Payload>"
// when Args is empty).
type NSCommand = events.NSCommand

// Wire formats NSCommand c as the bytes to write to an MSNP socket.
func Wire(c NSCommand) []byte {
	head := c.Command
	if c.Args != "" {
		head += " " + c.Args
	}
	return []byte(fmt.Sprintf("%s %d\r\n%s", head, len(c.Payload), c.Payload))
}

// Subject is the NATS subject of the events for the account with cid.
func Subject(cid int64) string { return events.Subject(cid) }

// StreamName is the JetStream stream abch publishes to.
const StreamName = events.StreamName

// SubscribeOptions selects the events a Subscription delivers.
type SubscribeOptions struct {
	// CIDs limits delivery to these recipients; empty means every account.
	// More than one CID needs NATS 2.10+ (multiple filter subjects).
	CIDs []int64
	// Durable names a durable consumer, so an NS that restarts resumes
	// where it stopped; "" creates an ephemeral consumer that starts with
	// new events (a user's state before sign-in comes from the NS API).
	Durable string
	// DeliverAll starts a new consumer at the oldest event in the stream
	// instead of at new ones.
	DeliverAll bool
	// AckWait is how long a delivered event may stay unacknowledged before
	// JetStream redelivers it (default 30 s).
	AckWait time.Duration
}

// Handler handles one event. Returning nil acknowledges it; an error makes
// JetStream deliver it again later.
type Handler func(ctx context.Context, ev Event) error

// Subscription is a running event consumer.
type Subscription struct {
	cc     jetstream.ConsumeContext
	cancel context.CancelFunc
	// Consumer is the JetStream consumer behind the subscription.
	Consumer jetstream.Consumer
}

// Subscribe consumes abch's events from JetStream on nc and calls h for
// each, one at a time (MaxAckPending 1), so events for a recipient reach h
// in the order abch committed them even across redeliveries. Delivery is at
// least once: h may see an event again after a crash or a failed ack, and
// can use Event.ID to drop repeats.
func Subscribe(ctx context.Context, nc *nats.Conn, opts SubscribeOptions, h Handler) (*Subscription, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       opts.Durable,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxAckPending: 1,
		AckWait:       opts.AckWait,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	}
	if opts.DeliverAll {
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 30 * time.Second
	}
	if opts.Durable == "" {
		cfg.InactiveThreshold = 5 * time.Minute
	}
	switch len(opts.CIDs) {
	case 0:
		cfg.FilterSubject = events.SubjectPrefix + ">"
	case 1:
		cfg.FilterSubject = events.Subject(opts.CIDs[0])
	default:
		for _, cid := range opts.CIDs {
			cfg.FilterSubjects = append(cfg.FilterSubjects, events.Subject(cid))
		}
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, StreamName, cfg)
	if err != nil {
		return nil, fmt.Errorf("nsclient: consumer: %w", err)
	}
	hctx, cancel := context.WithCancel(context.Background())
	cc, err := cons.Consume(func(m jetstream.Msg) {
		var ev Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			_ = m.Term() // never valid: do not redeliver
			return
		}
		if err := h(hctx, ev); err != nil {
			_ = m.Nak()
			return
		}
		_ = m.Ack()
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("nsclient: consume: %w", err)
	}
	return &Subscription{cc: cc, cancel: cancel, Consumer: cons}, nil
}

// Stop ends delivery and cancels the context handlers receive.
func (s *Subscription) Stop() {
	s.cc.Stop()
	s.cancel()
}
