package cli_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

func TestEventsTail(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		ctx := context.Background()
		t.Setenv("ABCH_DATA_DIR", cfg.DataDir)
		t.Setenv("ABCH_DATABASE_URL", cfg.DatabaseURL)
		t.Setenv("ABCH_NATS_URL", s.NATSURL)
		alice, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: "bob@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		emit := func(a *models.Account, seq string) {
			t.Helper()
			err := s.Store.Write(ctx, func(tx *store.Txn) error {
				if err := tx.Bump(a.ID); err != nil {
					return err
				}
				return tx.Emit(a.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(a), map[string]string{"seq": seq}))
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		t.Run("--user --replay prints that recipient's events, one JSON object per line", func(t *testing.T) {
			emit(alice, "a1")
			emit(bob, "b1")
			emit(bob, "b2")
			var out, errb testenv.SyncBuffer
			code := cli.Run([]string{"events", "tail", "--user", "BOB@example.com", "--replay", "--count", "2"}, &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			if len(lines) != 2 {
				t.Fatalf("output:\n%s", out.String())
			}
			for i, l := range lines {
				var ev events.Event
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatalf("line %d is not one JSON object: %q", i, l)
				}
				if ev.Recipient.Email != "bob@example.com" || ev.Data["seq"] != []string{"b1", "b2"}[i] {
					t.Errorf("line %d: %s", i, l)
				}
			}
		})

		t.Run("without --replay it prints events as they are published", func(t *testing.T) {
			var out, errb testenv.SyncBuffer
			done := make(chan int, 1)
			go func() { done <- cli.Run([]string{"events", "tail", "--count", "1"}, &out, &errb) }()
			deadline := time.Now().Add(15 * time.Second)
			for !strings.Contains(errb.String(), "tailing abch.events.>") {
				if time.Now().After(deadline) {
					t.Fatalf("tail did not start: %s", errb.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			emit(alice, "live")
			select {
			case code := <-done:
				if code != 0 || !strings.Contains(out.String(), `"seq":"live"`) || strings.Count(out.String(), "\n") != 1 {
					t.Fatalf("exit %d, output %q, stderr %q", code, out.String(), errb.String())
				}
			case <-time.After(15 * time.Second):
				t.Fatal("no event printed")
			}
		})

		t.Run("an unknown --user is an error", func(t *testing.T) {
			var out, errb testenv.SyncBuffer
			if code := cli.Run([]string{"events", "tail", "--user", "nobody@example.com"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "nobody@example.com") {
				t.Errorf("exit %d, stderr %q", code, errb.String())
			}
		})
	})
}
