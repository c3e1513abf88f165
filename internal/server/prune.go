package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/abch-im/abch/internal/store"
)

// PruneInterval is how often tombstones are pruned for a given horizon: a
// twenty-fourth of it, between one minute and one hour. Pruning late only
// keeps tombstones a little longer; it never loses a deletion.
func PruneInterval(horizon time.Duration) time.Duration {
	iv := horizon / 24
	if iv < time.Minute {
		iv = time.Minute
	}
	if iv > time.Hour {
		iv = time.Hour
	}
	return iv
}

// RateWindows are the windows of the database-counted rate limits.
type RateWindows struct {
	Login time.Duration // ABCH_LOGIN_FAILURE_WINDOW
	OIM   time.Duration // ABCH_OIM_SEND_WINDOW
}

// StartPruner deletes tombstones older than horizon, and rate windows
// (failed sign-ins, OIM sends) that ended, every interval (first run one
// interval after start) until the returned stop function is called.
// Several abch processes may prune the same database: the work is
// idempotent.
func StartPruner(st *store.Store, horizon, interval time.Duration, w RateWindows, log *slog.Logger) (stop func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(interval)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
			n, err := st.PruneTombstones(ctx, horizon)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("tombstone pruning failed", "error", err)
			case n > 0:
				log.Info("pruned tombstones", "rows", n, "horizon", horizon.String())
			}
			if _, err := st.PruneRateWindows(ctx, w.Login, w.OIM); err != nil && ctx.Err() == nil {
				log.Warn("rate window pruning failed", "error", err)
			}
		}
	}()
	return func(context.Context) error {
		cancel()
		<-done
		return nil
	}
}
