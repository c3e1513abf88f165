package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
)

// lockedBuffer collects log output written from request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the JSON log records with the given message prefix.
func (l *lockedBuffer) records(prefix string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec["msg"].(string), prefix) {
			out = append(out, rec)
		}
	}
	return out
}

// startLogged starts abch with a JSON logger writing to the returned buffer.
func startLogged(t *testing.T, cfg config.Config) (*server.Server, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
	})
	return s, logs
}

// TestThrottleLimitsLogged: the account and the source-address limits are
// set separately (ABCH_LOGIN_FAILURES, ABCH_LOGIN_FAILURES_PER_ADDRESS) and
// the log names the one that refused an attempt; a right password refused
// by the address limit is logged as such.
func TestThrottleLimitsLogged(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		t.Run("source-address limit below the account limit", func(t *testing.T) {
			cfg := cfg
			cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerAddress = 5, 2
			s, logs := startLogged(t, cfg)
			testenv.NewAccount(t, s, "alice@example.com", "alice pw", "")
			testenv.NewAccount(t, s, "bob@example.com", "bob pw", "")
			signIn(t, s, "alice@example.com", "guess 1")
			signIn(t, s, "alice@example.com", "guess 2")
			if tk, _ := signIn(t, s, "bob@example.com", "bob pw"); tk != "" {
				t.Fatal("right password got past the exhausted address limit")
			}
			signIn(t, s, "bob@example.com", "wrong")
			recs := logs.records("sign-in")
			if len(recs) != 2 {
				t.Fatalf("%d throttle log records, want 2: %v", len(recs), recs)
			}
			if r := recs[0]; r["limit"] != "source address" || r["password_correct"] != true || r["account"] != "bob@example.com" || !strings.Contains(r["msg"].(string), "right password") {
				t.Errorf("right password refused by the address limit logged as %v", r)
			}
			if r := recs[1]; r["limit"] != "source address" || r["password_correct"] != false {
				t.Errorf("wrong password refused by the address limit logged as %v", r)
			}
		})
		t.Run("account limit below the source-address limit", func(t *testing.T) {
			cfg := cfg
			cfg.DataDir = t.TempDir()
			if cfg.DatabaseURL != "" {
				cfg.DatabaseURL = testenv.NewPostgresDB(t)
			}
			cfg.LoginFailuresPerAccount, cfg.LoginFailuresPerAddress = 2, 100
			s, logs := startLogged(t, cfg)
			testenv.NewAccount(t, s, "alice@example.com", "alice pw", "")
			testenv.NewAccount(t, s, "bob@example.com", "bob pw", "")
			signIn(t, s, "alice@example.com", "guess 1")
			signIn(t, s, "alice@example.com", "guess 2")
			if tk, _ := signIn(t, s, "alice@example.com", "alice pw"); tk != "" {
				t.Fatal("right password got past the exhausted account limit")
			}
			if tk, status := signIn(t, s, "bob@example.com", "bob pw"); tk == "" {
				t.Fatalf("another account from the same address refused: %s", status)
			}
			recs := logs.records("sign-in")
			if len(recs) != 1 || recs[0]["limit"] != "account" || recs[0]["account"] != "alice@example.com" {
				t.Fatalf("throttle log: %v", recs)
			}
			if _, ok := recs[0]["password_correct"]; ok {
				t.Errorf("the account limit must not check the password: %v", recs[0])
			}
		})
	})
}
