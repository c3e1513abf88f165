// Package web is abch's web pages (docs/web.md): sign-up and account
// self-service for users (sign in with the Messenger password, change the
// password and the display name, read and clear offline messages, download
// the contact list, how to connect) and a dashboard for operators (accounts
// and service health), on their own listener (ABCH_WEB_ADDR).
//
// The pages are server-rendered html/template with a little CSS and no
// script: they work in any browser, on a phone too. Every form carries a
// CSRF token; cookies are HttpOnly, SameSite=Strict, and Secure over TLS.
// Account operations go through internal/accounts, the code path of
// `abch user …`; passwords are checked by the Passport service's own
// check (same argon2id, same login throttle) and never logged.
package web

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/services/passport"
)

// HostsWriter writes hosts-file lines pointing every MSN host name at ip
// (the Notification Server's names at nsIP): `abch hosts`'s generator.
type HostsWriter func(w io.Writer, ip, nsIP net.IP)

// Health is what the dashboard reads of the running server beside the
// database: the broker, the event relay and the in-process NS. Any field
// may be nil (not running here).
type Health struct {
	Metrics prometheus.Gatherer // the registry /metrics exports
	// Broker reports the broker connection's state ("CONNECTED", …) and
	// whether the broker runs in-process.
	Broker func() (state string, embedded bool)
	// Relay reports whether this process leads the event relay.
	Relay func() (leader bool)
	// NS reports the in-process NS's signed-in accounts; ok is false when
	// no NS runs in this process.
	NS func() (signedIn int, ok bool)
}

// Deps are the web pages' dependencies.
type Deps struct {
	Config  config.Config
	Store   *store.Store
	Ops     *accounts.Ops
	SignIn  *passport.SignIn
	Hosts   HostsWriter
	Health  Health
	Log     *slog.Logger
	Now     func() time.Time // the session clock; nil: time.Now
	Version string           // shown on the dashboard
	// SampleEvery is how often the dashboard samples the metrics for its
	// charts (0: 10 s).
	SampleEvery time.Duration
}

// Web is the web pages' handler with its sessions and chart samples.
type Web struct {
	deps     Deps
	key      []byte // CSRF and challenge MACs, per process
	sessions *sessions
	pages    *pages
	samples  *sampler
	mux      http.Handler
}

// New builds the web pages. Close stops its metrics sampler.
func New(d Deps) (*Web, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Ops == nil {
		d.Ops = accounts.New(d.Store, d.Config)
	}
	if d.Version == "" {
		d.Version = Version()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	w := &Web{deps: d, key: key, pages: p, sessions: newSessions(d.Config.WebSessionIdle, d.Now)}
	w.samples = startSampler(d.Health, d.SampleEvery, time.Now) // real time: rates per minute
	w.mux = w.routes()
	return w, nil
}

// ServeHTTP serves the pages.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// Close stops the metrics sampler.
func (w *Web) Close(context.Context) error {
	w.samples.stop()
	return nil
}

// routes is the route table: every page, readable at a glance. Pages for
// signed-in users go through w.user, the dashboard through w.admin; every
// POST checks its CSRF token (w.form) unless the operator's bearer token
// authenticates the request.
func (w *Web) routes() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /static/style.css", w.css)
	m.HandleFunc("GET /{$}", w.home)
	m.HandleFunc("GET /signup", w.signupPage)
	m.HandleFunc("POST /signup", w.form(w.signup))
	m.HandleFunc("GET /signin", w.signinPage)
	m.HandleFunc("POST /signin", w.form(w.signin))
	m.HandleFunc("POST /signout", w.form(w.signout))
	m.HandleFunc("GET /connect", w.connect)
	m.HandleFunc("GET /connect/hosts.txt", w.hostsFile)
	m.HandleFunc("GET /connect/{file}", w.certificate)

	m.HandleFunc("GET /account", w.user(w.account))
	m.HandleFunc("POST /account/name", w.form(w.user(w.changeName)))
	m.HandleFunc("POST /account/password", w.form(w.user(w.changePassword)))
	m.HandleFunc("POST /account/messages/clear", w.form(w.user(w.clearMessages)))
	m.HandleFunc("GET /account/contacts.jsonl", w.user(w.exportContacts))

	m.HandleFunc("GET /admin/login", w.adminLoginPage)
	m.HandleFunc("POST /admin/login", w.form(w.adminLogin))
	m.HandleFunc("POST /admin/logout", w.form(w.signout))
	m.HandleFunc("GET /admin", w.admin(w.dashboard))
	m.HandleFunc("GET /admin/metrics.json", w.admin(w.metricsJSON))
	m.HandleFunc("GET /admin/accounts", w.admin(w.searchAccounts))
	m.HandleFunc("GET /admin/accounts/{email}", w.admin(w.showAccount))
	m.HandleFunc("POST /admin/accounts/{email}/{action}", w.form(w.admin(w.accountAction)))
	m.HandleFunc("GET /admin/invites", w.admin(w.invites))
	m.HandleFunc("POST /admin/invites", w.form(w.admin(w.createInvites)))
	// A cross-origin POST (a form on another site) is refused before any
	// handler by the browser's own Sec-Fetch-Site/Origin headers, on top of
	// the token.
	return secureHeaders(http.NewCrossOriginProtection().Handler(m))
}

// secureHeaders sets the headers every page carries: no framing, no
// sniffing, no script at all (the pages have none), no referrer leaks.
func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(rw, r)
	})
}

// Mount serves the web pages of the running server s on
// s.Config.WebAddr and returns the bound address; the pages stop with the
// server. hosts is `abch hosts`'s generator (internal/cli.WriteHosts).
func Mount(s *server.Server, hosts HostsWriter) (*Web, string, error) {
	return MountDeps(s, DepsOf(s, hosts))
}

// DepsOf are the web pages' dependencies taken from the running server s.
func DepsOf(s *server.Server, hosts HostsWriter) Deps {
	return Deps{
		Config: s.Config, Store: s.Store, Log: s.Log.With("area", "web"), Hosts: hosts,
		SignIn: passport.NewSignIn(passport.Deps{Store: s.Store, Tickets: s.Deps.Tickets, Throttle: s.Deps.Throttle, Config: s.Config, Log: s.Log}),
		Health: HealthOf(s),
	}
}

// MountDeps is Mount with the dependencies given (tests set the clock).
func MountDeps(s *server.Server, d Deps) (*Web, string, error) {
	w, err := New(d)
	if err != nil {
		return nil, "", err
	}
	addr, err := s.Listen(d.Config.WebAddr, w, d.Config.WebTLS == "on")
	if err != nil {
		_ = w.Close(context.Background())
		return nil, "", err
	}
	s.AddCloser(w.Close)
	return w, addr, nil
}

// HealthOf is what the dashboard reads of s.
func HealthOf(s *server.Server) Health {
	h := Health{Metrics: s.Metrics}
	if b := s.Broker; b != nil && b.Conn != nil {
		h.Broker = func() (string, bool) { return b.Conn.Status().String(), b.Embedded() }
	}
	if r := s.Relay; r != nil {
		h.Relay = r.Leader
	}
	if n := s.NS; n != nil {
		h.NS = func() (int, bool) { return n.SignedIn(), true }
	}
	return h
}
