package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
)

func init() {
	extraCommands = append(extraCommands, func(a *app) *cobra.Command {
		c := &cobra.Command{Use: "events", Short: "Inspect the change events published to Notification Servers"}
		c.AddCommand(a.eventsTailCmd())
		return c
	})
}

// natsClientURL is where the configured broker is reached: ABCH_NATS_URL,
// else the embedded server's ABCH_NATS_LISTEN address (a wildcard host is
// reached on loopback).
func natsClientURL(cfgURL, listen string) (string, error) {
	if cfgURL != "" {
		return cfgURL, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("ABCH_NATS_LISTEN %q: %w", listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats://" + net.JoinHostPort(host, port), nil
}

func (a *app) eventsTailCmd() *cobra.Command {
	var (
		user   string
		replay bool
		count  int
	)
	c := &cobra.Command{
		Use:   "tail",
		Short: "Print events as they are published, one JSON object per line",
		Long: "Connects to the broker abch publishes to (ABCH_NATS_URL, or the embedded server on\n" +
			"ABCH_NATS_LISTEN; abch serve must be running) and prints every event of the\n" +
			"ABCH_EVENTS stream as it arrives. --user limits the output to one recipient's\n" +
			"subject (abch.events.<cid>); --replay starts at the oldest stored event.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			subject, err := a.tailSubject(ctx, user)
			if err != nil {
				return err
			}
			url, err := natsClientURL(a.cfg.NATSURL, a.cfg.NATSListen)
			if err != nil {
				return err
			}
			nc, err := nats.Connect(url, nats.Name("abch events tail"), nats.MaxReconnects(-1), nats.Token(a.cfg.NATSToken))
			if err != nil {
				return fmt.Errorf("connect %s: %w (is abch serve running?)", url, err)
			}
			defer nc.Close()
			lines, stop, err := consumeEvents(ctx, nc, url, subject, replay)
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintf(a.stderr, "tailing %s on %s\n", subject, url)
			return a.printEvents(ctx, lines, count)
		},
	}
	f := c.Flags()
	f.StringVar(&user, "user", "", "only events for this account (e-mail address)")
	f.BoolVar(&replay, "replay", false, "start with the oldest event in the stream instead of new ones")
	f.IntVar(&count, "count", 0, "exit after this many events (0 = run until interrupted)")
	f.StringVar(&a.cfg.NATSURL, "nats-url", a.cfg.NATSURL, "external NATS server (ABCH_NATS_URL)")
	f.StringVar(&a.cfg.NATSListen, "nats-listen", a.cfg.NATSListen, "embedded NATS address of the running abch (ABCH_NATS_LISTEN)")
	return c
}

// tailSubject is the subject `events tail` follows: every recipient's, or
// with user (an e-mail address) that account's.
func (a *app) tailSubject(ctx context.Context, user string) (string, error) {
	if user == "" {
		return events.SubjectPrefix + ">", nil
	}
	var cid int64
	err := a.useStore(ctx, func(st *store.Store) error {
		acct, err := st.AccountByEmail(ctx, user)
		if err == nil {
			cid = acct.CID
		}
		return err
	})
	if err != nil {
		return "", err
	}
	return events.Subject(cid), nil
}

// consumeEvents follows subject on the events stream of the broker at url
// (connected as nc), from the oldest stored event with replay, else from
// new ones, and delivers each event's data on lines until stop.
func consumeEvents(ctx context.Context, nc *nats.Conn, url, subject string, replay bool) (lines <-chan []byte, stop func(), err error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, err
	}
	policy := jetstream.DeliverNewPolicy
	if replay {
		policy = jetstream.DeliverAllPolicy
	}
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.OrderedConsumer(octx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: policy,
	})
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("stream %s on %s: %w", events.StreamName, url, err)
	}
	ch := make(chan []byte, 256)
	cc, err := cons.Consume(func(m jetstream.Msg) { ch <- m.Data() })
	if err != nil {
		return nil, nil, err
	}
	return ch, cc.Stop, nil
}

// printEvents prints events from lines, one JSON object per line with the
// NS payloads readable (events_readable.go), until count events (0: no
// limit) or until ctx ends (an interrupt is a normal end).
func (a *app) printEvents(ctx context.Context, lines <-chan []byte, count int) error {
	for n := 0; count <= 0 || n < count; n++ {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return nil
			}
			return ctx.Err()
		case b := <-lines:
			fmt.Fprintln(a.stdout, readableEvent(b))
		}
	}
	return nil
}
