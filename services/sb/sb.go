// Package sb is abch's MSNP13/MSNP15 switchboard: the conversation server
// clients reach through "XFR SB" (the caller) and "RNG" (the invitees). It
// pairs with the Notification Servers only through the public contract:
// the XFR cookie signed with a key derived from the NS key, NATS
// request/reply on the NS user subjects (who is this user, ring this user)
// and the NS sign-out notices (docs/sb.md). A conversation lives on one
// switchboard process; clients connect to it by address.
package sb

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnpserver"
	"github.com/abch-im/abch/services/ns/sbwire"
)

// Config is what a switchboard needs to run.
type Config struct {
	// API is the NS API client; its Key also derives the cookie key.
	API *nsclient.Client
	// NATS reaches the NS processes (required).
	NATS *nats.Conn
	// PublicAddr is the "host:port" clients are sent to (ABCH_SB_PUBLIC_ADDR);
	// the NS signs XFR cookies for it. Empty: the bound listen address.
	PublicAddr string
	// Log receives session errors; nil discards them.
	Log *slog.Logger
	// LoginTimeout closes a connection that has not sent USR/ANS by then.
	LoginTimeout time.Duration
	// IdleTimeout ends a participant that sent nothing for that long
	// ("BYE email 1" to the others).
	IdleTimeout time.Duration
	// InviteTimeout is how long a CAL's ANS cookie stays valid.
	InviteTimeout time.Duration
	// WriteTimeout bounds one write to a client socket.
	WriteTimeout time.Duration
	// QueueLen is a participant's outbound queue, in writes; a client that
	// does not read is cut off when it overflows.
	QueueLen int
	// RequestTimeout bounds a NATS request to an NS and an NS API call.
	RequestTimeout time.Duration
	// MaxParticipants bounds a conversation (CAL beyond it gets 713).
	MaxParticipants int
}

func (c *Config) defaults() {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.LoginTimeout, 30*time.Second)
	def(&c.IdleTimeout, 10*time.Minute)
	def(&c.InviteTimeout, 2*time.Minute)
	def(&c.WriteTimeout, 30*time.Second)
	def(&c.RequestTimeout, 5*time.Second)
	if c.QueueLen <= 0 {
		c.QueueLen = 512
	}
	if c.MaxParticipants <= 0 {
		c.MaxParticipants = 20
	}
}

// Server is a running switchboard.
type Server struct {
	cfg Config
	key []byte

	mu      sync.Mutex
	boards  map[string]*board  // by session id
	invites map[string]*invite // by ANS cookie
	used    map[string]int64   // XFR cookie nonces taken, with their expiry
	signout *nats.Subscription

	// conns are the open connections; its wait group also holds the
	// sweeper.
	conns msnpserver.Tracker[*conn]
	stop  chan struct{}
	quit  sync.Once
}

// New returns a Server; Serve or ListenAndServe starts it.
func New(cfg Config) (*Server, error) {
	cfg.defaults()
	if cfg.NATS == nil || cfg.API == nil {
		return nil, errors.New("sb: NATS and the NS API are required")
	}
	s := &Server{
		cfg: cfg, key: sbwire.CookieKey(cfg.API.Key),
		boards: map[string]*board{}, invites: map[string]*invite{}, used: map[string]int64{},
		stop: make(chan struct{}),
	}
	s.conns = msnpserver.Tracker[*conn]{
		Name: "sb",
		New:  func(nc net.Conn) *conn { return newConn(s, nc) },
		Run:  (*conn).run,
		Kill: (*conn).kill,
	}
	sub, err := cfg.NATS.Subscribe(sbwire.SignOutPrefix+"*", s.onSignOut)
	if err != nil {
		return nil, err
	}
	s.signout = sub
	s.conns.Go(s.sweep)
	return s, nil
}

// ListenAndServe listens on addr and serves until Shutdown; it returns the
// bound address. An empty Config.PublicAddr becomes that address.
func (s *Server) ListenAndServe(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.cfg.PublicAddr == "" {
		s.cfg.PublicAddr = ln.Addr().String()
	}
	s.mu.Unlock()
	go func() { _ = s.Serve(ln) }()
	return ln.Addr(), nil
}

// PublicAddr is the address clients are sent to.
func (s *Server) PublicAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.PublicAddr
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.conns.Serve(ln) }

// Conversations is the number of open conversations.
func (s *Server) Conversations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.boards)
}

// Shutdown stops accepting, closes every connection (participants see the
// socket close, as when a real switchboard goes away) and waits for them
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	open := s.conns.Close()
	if s.signout != nil {
		_ = s.signout.Unsubscribe()
	}
	s.quit.Do(func() { close(s.stop) })
	for _, c := range open {
		c.queueClose()
	}
	return s.conns.Drain(ctx, open)
}

// sweep drops expired invitations and cookie nonces once a second.
func (s *Server) sweep() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.mu.Lock()
			for k, exp := range s.used {
				if exp < now.Unix() {
					delete(s.used, k)
				}
			}
			var lapsed []*invite
			for k, inv := range s.invites {
				if now.After(inv.expires) {
					delete(s.invites, k)
					lapsed = append(lapsed, inv)
				}
			}
			s.mu.Unlock()
			// An unanswered call may be made again.
			for _, inv := range lapsed {
				inv.b.mu.Lock()
				delete(inv.b.calling, inv.email)
				inv.b.mu.Unlock()
			}
		}
	}
}

// newSessionID picks an unused session id: a decimal in 1..2^31-1 (MSNPSharp
// parses RNG's session id with int.Parse). Called with s.mu held.
func (s *Server) newSessionID() string {
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		n := binary.BigEndian.Uint32(b[:]) & 0x7fffffff
		if n == 0 {
			continue
		}
		id := strconv.FormatUint(uint64(n), 10)
		if _, taken := s.boards[id]; !taken {
			return id
		}
	}
}

// apiCtx is the context of one NS API call or NATS request.
func (s *Server) apiCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
}
