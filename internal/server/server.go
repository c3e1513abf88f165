// Package server wires abch together: it opens the store, applies migrations,
// builds the services and listens on the client-facing, TLS and NS-facing
// addresses until its context ends, then lets in-flight requests finish.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/broker"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/services"
	"github.com/abch-im/abch/services/passport"
	"github.com/abch-im/abch/services/soap"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// Server is a running abch.
type Server struct {
	Config config.Config
	Store  *store.Store
	Deps   services.Deps
	Log    *slog.Logger

	// Addresses actually bound (useful with port 0 in tests).
	HTTPAddr, HTTPSAddr, NSAddr string
	// MSNPAddr is the in-process Notification Server's address ("" when
	// ABCH_MSNP_ADDR is off); NS is that server.
	MSNPAddr string
	NS       *NS
	// NATSURL is the broker's client URL: the embedded server's (on
	// ABCH_NATS_LISTEN) or ABCH_NATS_URL.
	NATSURL string
	// Broker is the JetStream connection; Relay publishes the outbox to it.
	Broker *broker.Broker
	Relay  *events.Relay
	// Metrics is the registry /metrics exports (the web dashboard charts
	// the same numbers).
	Metrics *prometheus.Registry

	servers []*http.Server
	closers []func(context.Context) error
	wg      sync.WaitGroup
	errc    chan error
}

// OpenDeps opens the store, migrates it and builds the dependencies every
// subcommand shares (ticket secret included).
func OpenDeps(ctx context.Context, cfg config.Config, log *slog.Logger) (services.Deps, error) {
	st, err := store.Open(ctx, cfg, log)
	if err != nil {
		return services.Deps{}, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return services.Deps{}, err
	}
	secret := cfg.TicketSecret
	if secret == "" {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return services.Deps{}, err
		}
		// Generated once and stored: every process and restart agrees on it.
		secret, err = st.EnsureSetting(ctx, "ticket_secret", hex.EncodeToString(b[:]))
		if err != nil {
			_ = st.Close()
			return services.Deps{}, fmt.Errorf("server: ticket secret: %w", err)
		}
	}
	tk := auth.NewTicketer([]byte(secret), cfg.TicketLifetime)
	return services.Deps{
		Config: cfg, Store: st, Tickets: tk,
		Auth:     &auth.Authenticator{Tickets: tk, Store: st},
		Throttle: newThrottle(st, cfg), // throttle.go
		Log:      log,
	}, nil
}

// Start opens everything and starts listening. It returns once the listeners
// are bound; Wait blocks until they stop.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lock, err := LockDataDir(cfg) // lock.go: one server per embedded data dir
	if err != nil {
		return nil, err
	}
	if cfg.MSNPEnabled() && cfg.NSKey == "" {
		cfg.NSKey = inProcessKey(log)
	}
	deps, err := OpenDeps(ctx, cfg, log)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	s := &Server{Config: cfg, Store: deps.Store, Deps: deps, Log: log, errc: make(chan error, 4)}
	s.closers = append(s.closers, func(context.Context) error { return deps.Store.Close() })
	s.closers = append(s.closers, func(context.Context) error { return lock.Release() })

	// The broker and the relay start before the listeners so an event
	// committed by the first request is published promptly. Closers run in
	// reverse order: listeners stop, then the relay (last drain), then the
	// broker, then the store.
	if s.Broker, err = broker.Start(ctx, cfg, log); err != nil {
		s.shutdown(context.Background())
		return nil, err
	}
	s.NATSURL = s.Broker.URL
	s.AddCloser(s.Broker.Close)
	s.Relay = &events.Relay{Outbox: deps.Store, Publisher: s.Broker, Log: log}
	s.Relay.Start()
	s.AddCloser(s.Relay.Close)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.registerEventMetrics(reg)
	s.Metrics = reg
	disp := soap.NewDispatcher(cfg.MaxBodyBytes, log, soap.NewMetrics(reg), services.SOAP(deps)...)
	client := s.clientHandler(disp, reg)

	if s.HTTPAddr, err = s.listen(cfg.HTTPAddr, client, false, "", ""); err != nil {
		s.shutdown(context.Background())
		return nil, err
	}
	if cfg.HTTPSAddr != "" {
		if s.HTTPSAddr, err = s.listen(cfg.HTTPSAddr, client, true, cfg.TLSCert, cfg.TLSKey); err != nil {
			s.shutdown(context.Background())
			return nil, err
		}
	}
	if s.NSAddr, err = s.listen(cfg.NSAddr, services.NS(deps), false, "", ""); err != nil {
		s.shutdown(context.Background())
		return nil, err
	}
	if cfg.MSNPEnabled() {
		if s.NS, err = StartNS(cfg, "http://"+s.NSAddr, s.NATSURL, log); err != nil {
			s.shutdown(context.Background())
			return nil, err
		}
		s.MSNPAddr = s.NS.Addr
		s.AddCloser(s.NS.Close)
		s.registerNSMetrics(reg) // events_metrics.go
	}
	// Periodic tombstone pruning (prune.go).
	s.AddCloser(StartPruner(deps.Store, cfg.TombstoneHorizon, PruneInterval(cfg.TombstoneHorizon), RateWindows{Login: cfg.LoginFailureWindow, OIM: cfg.OIMSendWindow}, log))
	if cfg.NSKey == "" {
		log.Warn("ABCH_NS_KEY is empty: the NS API refuses every call until a key is set")
	}
	log.Info("abch listening", "http", s.HTTPAddr, "https", s.HTTPSAddr, "ns", s.NSAddr, "msnp", s.MSNPAddr, "nats", s.NATSURL,
		"nats_embedded", s.Broker.Embedded(), "database", deps.Store.Dialect)
	return s, nil
}

// clientHandler is the client-facing HTTP surface: the SOAP dispatcher for
// every service path (any slashes, any case, never a redirect), plus
// /healthz, /readyz and /metrics.
func (s *Server) clientHandler(disp *soap.Dispatcher, reg *prometheus.Registry) http.Handler {
	r := gin.New()
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.HandleMethodNotAllowed = false
	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", func(c *gin.Context) {
		if err := s.Store.Ping(c.Request.Context()); err != nil {
			c.String(http.StatusServiceUnavailable, "database unreachable\n")
			return
		}
		c.String(http.StatusOK, "ready\n")
	})
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	// Passport 1.4 (MSNP8–12 clients); a version-less nexus request is
	// made readable in framing.go.
	tw := services.Tweener(s.Deps)
	r.GET(passport.PPRDRPath, gin.WrapF(tw.PPRDR))
	r.GET(tw.LoginPath(), gin.WrapF(tw.Login))
	prefix, files := services.Files(s.Deps)
	r.GET(prefix+"*rest", gin.WrapH(files))
	r.HEAD(prefix+"*rest", gin.WrapH(files))
	r.NoRoute(gin.WrapH(services.Probe(s.Deps, disp)))
	return http11(r)
}

// http11 answers HTTP/1.0 requests (papyon, BitlBee) with an "HTTP/1.1"
// status line too: pidgin parses the status with sscanf("HTTP/1.1 %d") and
// RESPONSES.md §1 rule 1 asks for it on every answer. Go writes the status
// line from the request's version, so the version is raised before any
// handler runs; the connection still closes after the reply as the 1.0
// client expects, and the body always carries Content-Length.
func http11(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
			r.Proto, r.ProtoMinor = "HTTP/1.1", 1
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
}

// listen serves h on addr, in TLS with the cert and key files when tls is
// set, else in plain HTTP; it returns the bound address (addr may end in :0).
func (s *Server) listen(addr string, h http.Handler, tls bool, cert, key string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("server: listen %s: %w", addr, err)
	}
	// Every listener checks request framing first (framing.go); TLS
	// follows the configured profile (tls.go).
	if tls {
		conf, err := TLSConfig(s.Config.TLSProfile)
		var tln net.Listener
		if err == nil {
			tln, err = tlsFraming(ln, conf, cert, key)
		}
		if err != nil {
			_ = ln.Close()
			return "", fmt.Errorf("server: TLS on %s: %w", addr, err)
		}
		ln = tln
	}
	srv := s.newHTTPServer(framingGuard(h))
	srv.ConnContext = framingConnContext
	srv.DisableGeneralOptionsHandler = true // "OPTIONS *" goes through the guard too
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := srv.Serve(framingListener{ln})
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
	}()
	return ln.Addr().String(), nil
}

// Listen serves h on addr like abch's own listeners (request framing
// checked first, graceful shutdown with the server), in TLS with
// ABCH_TLS_CERT/ABCH_TLS_KEY and the TLS profile when useTLS is set, and
// returns the bound address; `abch serve` adds the web pages
// (services/web) with it.
func (s *Server) Listen(addr string, h http.Handler, useTLS bool) (string, error) {
	if useTLS {
		return s.listen(addr, h, true, s.Config.TLSCert, s.Config.TLSKey)
	}
	return s.listen(addr, h, false, "", "")
}

// AddCloser registers f to run at shutdown, after the listeners stop (the
// event relay and the embedded broker use it).
func (s *Server) AddCloser(f func(context.Context) error) {
	s.closers = append([]func(context.Context) error{f}, s.closers...)
}

// Run serves until ctx ends (SIGTERM in `abch serve`), then shuts down
// gracefully: in-flight requests finish, then the store closes.
func (s *Server) Run(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s.shutdown(sctx)
	return err
}

func (s *Server) shutdown(ctx context.Context) {
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	s.wg.Wait()
	for _, c := range s.closers {
		if err := c(ctx); err != nil {
			s.Log.Warn("shutdown", "error", err)
		}
	}
}
