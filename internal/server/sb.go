package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/sb"
)

// startSB runs the switchboard that goes with an NS, on ABCH_SB_ADDR,
// advertised as ABCH_SB_PUBLIC_ADDR (default: the bound address). It
// shares the NS's NS API client (the cookie key derives from its key) and
// NATS connection (docs/sb.md). It returns the bound address.
func startSB(cfg config.Config, api *nsclient.Client, nc *nats.Conn, log *slog.Logger) (*sb.Server, string, error) {
	sw, err := sb.New(sb.Config{API: api, NATS: nc, PublicAddr: cfg.SBPublicAddr, Log: log.With("area", "sb")})
	if err != nil {
		return nil, "", fmt.Errorf("sb: %w", err)
	}
	addr, err := sw.ListenAndServe(cfg.SBAddr)
	if err != nil {
		_ = sw.Shutdown(context.Background())
		return nil, "", fmt.Errorf("sb: listen %s: %w", cfg.SBAddr, err)
	}
	return sw, addr.String(), nil
}
