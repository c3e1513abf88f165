package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns"
	"github.com/abch-im/abch/services/sb"
)

// NS is a running Notification Server with its NATS connection.
type NS struct {
	*ns.Server
	// Addr is the bound MSNP address.
	Addr string
	// SB is the switchboard beside it (sb.go); SBAddr its bound address.
	SB     *sb.Server
	SBAddr string
	nc     *nats.Conn
}

// StartNS runs a Notification Server on cfg.MSNPAddr paired with the NS API
// at apiURL (key cfg.NSKey) and the NATS server at natsURL: the same code
// for `abch serve` (its own API over loopback) and `abch ns` (a remote
// abch). Only the public contract is used: nsclient and NATS.
func StartNS(cfg config.Config, apiURL, natsURL string, log *slog.Logger) (*NS, error) {
	nc, err := nats.Connect(natsURL, nats.Name("abch-ns"), nats.MaxReconnects(-1), nats.Token(cfg.NATSToken)) // ABCH_NATS_TOKEN; "" sends none
	if err != nil {
		return nil, fmt.Errorf("ns: nats %s: %w", natsURL, err)
	}
	var redirect []string
	for _, a := range strings.Split(cfg.MSNPRedirect, ",") {
		if a = strings.TrimSpace(a); a != "" {
			redirect = append(redirect, a)
		}
	}
	api := nsclient.New(apiURL, cfg.NSKey)
	// Sign-ins call the API several times at once: keep connections for
	// them (the default transport keeps 2 per host and churns the rest).
	api.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConns: 512, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}}
	sw, swAddr, err := startSB(cfg, api, nc, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	srv := ns.New(ns.Config{
		API: api, NATS: nc, ChallengeAfter: cfg.MSNPChallenge, Log: log.With("area", "ns"), Redirect: redirect, Switchboard: sw.PublicAddr(),
		URLs: ns.URLs{Passport: cfg.MSNPURLPassport, Hotmail: cfg.MSNPURLHotmail, Profile: cfg.MSNPURLProfile,
			Mobile: cfg.MSNPURLMobile, Chat: cfg.MSNPURLChat},
	})
	addr, err := srv.ListenAndServe(cfg.MSNPAddr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		_ = sw.Shutdown(context.Background())
		nc.Close()
		return nil, fmt.Errorf("ns: listen %s: %w", cfg.MSNPAddr, err)
	}
	return &NS{Server: srv, Addr: addr.String(), SB: sw, SBAddr: swAddr, nc: nc}, nil
}

// Close sends OUT SSD to every session, waits for them to drain (until ctx
// ends) and closes the NATS connection.
func (n *NS) Close(ctx context.Context) error {
	err := n.Shutdown(ctx)
	_ = n.SB.Shutdown(ctx)
	n.nc.Close()
	return err
}

// inProcessKey makes the NS key of `abch serve` when ABCH_NS_KEY is empty:
// the in-process NS needs one, external NS processes still need a key set.
func inProcessKey(log *slog.Logger) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	log.Warn("ABCH_NS_KEY is empty: the in-process NS uses a generated key; external NS processes (abch ns) need ABCH_NS_KEY set on both sides")
	return hex.EncodeToString(b[:])
}
