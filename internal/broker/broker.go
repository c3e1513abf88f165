// Package broker connects abch to NATS JetStream, the queue that carries
// change events to Notification Servers. By default it runs an embedded
// nats-server with JetStream storage under <DataDir>/nats, listening on
// ABCH_NATS_LISTEN so NS processes can connect; with ABCH_NATS_URL set it
// connects to that external server or cluster and embeds nothing.
//
// Either way the ABCH_EVENTS stream (subjects abch.events.>) is created or
// updated at start, so publishers and NS consumers agree on one stream.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
)

// Stream settings. The duplicate window bounds how long JetStream remembers a
// Nats-Msg-Id: a relay that re-publishes an event after a crash or a lost
// PubAck within this window is de-duplicated. MaxAge bounds how long an NS
// that was away can catch up from the stream.
const (
	StreamName      = events.StreamName
	DuplicateWindow = 10 * time.Minute
	MaxAge          = 7 * 24 * time.Hour
)

// StreamConfig is the ABCH_EVENTS stream: every per-recipient subject, on
// disk, kept MaxAge.
func StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "abch change events for Notification Servers, one subject per recipient CID",
		Subjects:    []string{events.SubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      MaxAge,
		Duplicates:  DuplicateWindow,
	}
}

// Broker is a connection to JetStream, plus the embedded server when abch
// runs one.
type Broker struct {
	// URL is the client URL NS processes (and `abch events tail`) connect to.
	URL  string
	Conn *nats.Conn
	JS   jetstream.JetStream

	embedded *server.Server
	log      *slog.Logger

	mu        sync.Mutex
	streamOK  bool
	closeOnce sync.Once
}

// Start starts the embedded server (unless cfg.NATSURL is set) and connects
// to it. An unreachable external server is not fatal: the connection keeps
// retrying and events wait in the outbox until it is reachable.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Broker, error) {
	if log == nil {
		log = slog.Default()
	}
	b := &Broker{log: log, URL: cfg.NATSURL}
	if cfg.NATSURL == "" {
		ns, err := startEmbedded(cfg)
		if err != nil {
			return nil, err
		}
		b.embedded = ns
		b.URL = ns.ClientURL()
	}
	nc, err := nats.Connect(b.URL,
		nats.Name("abch"),
		nats.Token(cfg.NATSToken), // ABCH_NATS_TOKEN; "" sends none
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrlRedacted()) }),
	)
	if err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("broker: connect %s: %w", b.URL, err)
	}
	b.Conn = nc
	b.JS, err = jetstream.New(nc)
	if err != nil {
		b.Close(ctx)
		return nil, fmt.Errorf("broker: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.EnsureStream(sctx); err != nil {
		if b.embedded != nil {
			b.Close(ctx)
			return nil, err
		}
		log.Warn("nats stream not ready yet; events wait in the outbox", "url", b.URL, "error", err)
	}
	return b, nil
}

// Embedded reports whether abch runs the NATS server in-process.
func (b *Broker) Embedded() bool { return b.embedded != nil }

// EnsureStream creates or updates the ABCH_EVENTS stream. After the first
// success it is a no-op until ResetStream (the relay calls that when a
// publish finds no stream, for example after an external server lost its
// storage).
func (b *Broker) EnsureStream(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.streamOK {
		return nil
	}
	if _, err := b.JS.CreateOrUpdateStream(ctx, StreamConfig()); err != nil {
		return fmt.Errorf("broker: stream %s: %w", StreamName, err)
	}
	b.streamOK = true
	return nil
}

// ResetStream makes the next EnsureStream talk to the server again.
func (b *Broker) ResetStream() {
	b.mu.Lock()
	b.streamOK = false
	b.mu.Unlock()
}

// Close drains the connection and shuts the embedded server down.
func (b *Broker) Close(context.Context) error {
	b.closeOnce.Do(func() {
		if b.Conn != nil {
			b.Conn.Close()
		}
		if b.embedded != nil {
			b.embedded.Shutdown()
			b.embedded.WaitForShutdown()
		}
	})
	return nil
}

// startEmbedded runs nats-server in-process with JetStream on disk under
// <DataDir>/nats, listening on cfg.NATSListen (port 0 or -1 picks a free port).
func startEmbedded(cfg config.Config) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(cfg.NATSListen)
	if err != nil {
		return nil, fmt.Errorf("broker: ABCH_NATS_LISTEN %q: %w", cfg.NATSListen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("broker: ABCH_NATS_LISTEN %q: bad port", cfg.NATSListen)
	}
	if port == 0 {
		// nats-server reads port 0 as its default 4222; abch means "any free
		// port", as for the HTTP listeners.
		port = server.RANDOM_PORT
	}
	if port > 0 {
		// nats-server only logs a failed listen and never becomes ready;
		// try the address first so a taken port is a clear, quick error.
		l, err := net.Listen("tcp", cfg.NATSListen)
		if err != nil {
			return nil, fmt.Errorf("broker: ABCH_NATS_LISTEN %s: %w", cfg.NATSListen, err)
		}
		_ = l.Close()
	}
	opts := &server.Options{
		ServerName: "abch-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(cfg.DataDir, "nats"),
		NoSigs:     true, // abch handles SIGTERM itself
		NoLog:      true,
		// One process, one account: the embedded server is for NS processes
		// on the same host or network, like the NS API. Operators who need
		// auth/TLS run a NATS cluster and set ABCH_NATS_URL.
		MaxPayload: 1 << 20,
		// ABCH_NATS_TOKEN (required by config.Validate beyond loopback).
		Authorization: cfg.NATSToken,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker: embedded nats: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("broker: embedded nats did not start (is ABCH_NATS_LISTEN free?)")
	}
	return ns, nil
}

// Publish publishes one event to JetStream with msgID as Nats-Msg-Id and
// waits for the PubAck, so a nil error means the stream stored it (or had
// already stored it: JetStream drops a duplicate id inside DuplicateWindow
// and acknowledges it). It implements events.Publisher for the relay.
func (b *Broker) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	if err := b.EnsureStream(ctx); err != nil {
		return err
	}
	if limit := b.Conn.MaxPayload(); limit > 0 && int64(len(data)) > limit {
		return fmt.Errorf("%w: %d bytes over the broker's max payload %d", events.ErrUndeliverable, len(data), limit)
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	_, err := b.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(StreamName))
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) {
		// The server answered but holds no stream for the subject (an
		// external server restarted without its storage): create it again.
		b.ResetStream()
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("%w: %v", events.ErrUndeliverable, err)
	}
	return err
}
