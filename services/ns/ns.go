// Package ns is abch's Notification Server (MSNP8–12 and MSNP13/15). It holds the
// client sockets and pairs with abch only through the public contract: the
// NS API (package nsclient, over HTTP) and the change events on NATS
// (docs/events.md). Presence and "one session per account" cross NS
// processes over NATS core subjects (docs/ns.md), so several NS processes
// can share one abch and one NATS.
package ns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
	"github.com/abch-im/abch/services/ns/msnpserver"
)

// URLs are the base addresses of the URL command's answers; the type and
// its answers live in the codec (msnp.URLs).
type URLs = msnp.URLs

// Config is what an NS needs to run.
type Config struct {
	// API is the NS API client (ABCH_NS_API_URL, ABCH_NS_KEY).
	API *nsclient.Client
	// NATS carries abch's events and the NS-to-NS subjects; nil runs a
	// single NS that sees no list-change events (tests of the bare protocol).
	NATS *nats.Conn
	// Log receives session errors; nil discards them.
	Log *slog.Logger
	// Redirect, when set, turns this listener into a dispatch server: USR
	// is answered with "XFR trid NS <addr> U D" naming these NS addresses
	// in turn (ABCH_MSNP_REDIRECT).
	Redirect []string
	// URLs are the base URLs of the URL command's answers.
	URLs URLs
	// LoginTimeout closes a connection that has not signed in by then.
	LoginTimeout time.Duration
	// IdleTimeout closes a signed-in session that sent nothing for that
	// long (clients send PNG about every 50 s; QNG tells them 60).
	IdleTimeout time.Duration
	// WriteTimeout bounds one write to a client socket.
	WriteTimeout time.Duration
	// QueueBytes bounds the bytes waiting for one client; a client that
	// does not read is disconnected when more wait (default 256 KiB).
	QueueBytes int
	// ChallengeAfter sends a CHL challenge that long after sign-in (0: never).
	ChallengeAfter time.Duration
	// APITimeout bounds each NS API call.
	APITimeout time.Duration
	// Switchboard is the switchboard address XFR SB answers name
	// (ABCH_SB_PUBLIC_ADDR); "" answers XFR SB with 280 (sb.go).
	Switchboard string
}

func (c *Config) defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.LoginTimeout <= 0 {
		c.LoginTimeout = 60 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 3 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 256 << 10
	}
	if c.APITimeout <= 0 {
		c.APITimeout = 10 * time.Second
	}
	c.URLs = c.URLs.WithDefaults()
}

// Server is a running Notification Server.
type Server struct {
	cfg Config
	// id names this NS process in kick messages (docs/ns.md).
	id string

	mu    sync.Mutex
	users map[int64]*user // signed-in accounts by CID

	// sessions are the open connections; its wait group also holds the
	// dispatcher.
	sessions msnpserver.Tracker[*session]
	inbox    chan *nats.Msg // NATS messages of every local user
	stop     chan struct{}
	seq      atomic.Uint64 // session ids
	redirect atomic.Uint64 // next Redirect entry
	quit     sync.Once
}

// New returns a Server; Serve starts it on a listener.
func New(cfg Config) *Server {
	cfg.defaults()
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &Server{
		cfg: cfg, id: hex.EncodeToString(b[:]),
		users: map[int64]*user{},
		inbox: make(chan *nats.Msg, 8192), stop: make(chan struct{}),
	}
	s.sessions = msnpserver.Tracker[*session]{
		Name: "ns",
		New:  func(c net.Conn) *session { return newSession(s, c) },
		Run:  (*session).run,
		Kill: (*session).kill,
	}
	s.sessions.Go(s.dispatch)
	return s
}

// ListenAndServe listens on addr and serves until Shutdown. It returns the
// bound address once listening.
func (s *Server) ListenAndServe(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	go func() { _ = s.Serve(ln) }()
	return ln.Addr(), nil
}

// Serve accepts connections on ln until Shutdown; each gets a session.
func (s *Server) Serve(ln net.Listener) error { return s.sessions.Serve(ln) }

// Sessions is the number of open client connections.
func (s *Server) Sessions() int {
	return s.sessions.Len()
}

// SignedIn is the number of signed-in accounts on this NS.
func (s *Server) SignedIn() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// Shutdown stops accepting, sends "OUT SSD" to every session (server
// shutting down; the client reconnects later, msnp8-miscellaneous seed),
// and waits until they have drained and closed or ctx ends, when the rest
// are cut off.
func (s *Server) Shutdown(ctx context.Context) error {
	open := s.sessions.Close()
	for _, ss := range open {
		ss.out("OUT SSD\r\n")
		ss.queueClose()
	}
	s.quit.Do(func() { close(s.stop) })
	return s.sessions.Drain(ctx, open)
}

// apiCtx is the context of one NS API call.
func (s *Server) apiCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.APITimeout)
}
