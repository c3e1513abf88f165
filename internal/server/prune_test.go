package server_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestPruner: the pruning loop deletes tombstones past the horizon and
// raises the account's pruned_revision, and deletes ended rate windows
// (failed sign-ins, OIM sends) while keeping live ones.
func TestPruner(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.TombstoneHorizon = time.Millisecond
		s := testenv.StartServer(t, cfg)
		ctx := context.Background()
		a, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: "a@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.Store.AddGroup(ctx, a.ID, models.NewGroup{Name: "Old"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Store.DeleteGroups(ctx, a.ID, []string{g}); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := s.Store.RecordLoginFailure(ctx, now.Add(-2*time.Minute), now.Add(-3*time.Minute), "rst:ip:ended"); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.RecordLoginFailure(ctx, now, now.Add(-time.Minute), "rst:ip:live"); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.DB.Exec("INSERT INTO oim_send_windows (sender_id, window_start, hits) VALUES (?, ?, 5)", a.ID, now.Add(-2*time.Minute).UnixNano()).Error; err != nil {
			t.Fatal(err)
		}
		windows := server.RateWindows{Login: time.Minute, OIM: time.Minute}
		stop := server.StartPruner(s.Store, time.Nanosecond, 10*time.Millisecond, windows, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer stop(ctx)
		deadline := time.Now().Add(15 * time.Second)
		for {
			var n int64
			if err := s.Store.DB.Model(&models.Group{}).Where("owner_id = ?", a.ID).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tombstone not pruned")
			}
			time.Sleep(20 * time.Millisecond)
		}
		acct, err := s.Store.AccountByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if acct.PrunedRevision == 0 || acct.PrunedRevision > acct.Revision {
			t.Fatalf("pruned_revision %d (revision %d)", acct.PrunedRevision, acct.Revision)
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("ended rate windows not pruned")
			}
			var ended, live, oim int64
			s.Store.DB.Table("login_failures").Where("throttle_key = ?", "rst:ip:ended").Count(&ended)
			s.Store.DB.Table("login_failures").Where("throttle_key = ?", "rst:ip:live").Count(&live)
			s.Store.DB.Table("oim_send_windows").Count(&oim)
			if live != 1 {
				t.Fatalf("a live login-failure window was pruned")
			}
			if ended == 0 && oim == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ended rate windows not pruned: login %d, oim %d", ended, oim)
			}
		}
		if iv := server.PruneInterval(30 * 24 * time.Hour); iv != time.Hour {
			t.Fatalf("interval %s", iv)
		}
	})
}
