package cli_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

func TestHealthCommand(t *testing.T) {
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	s := testenv.StartServer(t, cfg)
	_, port, _ := net.SplitHostPort(s.HTTPAddr)
	t.Run("a ready server is healthy, also when it listens on the wildcard address", func(t *testing.T) {
		for _, addr := range []string{s.HTTPAddr, "0.0.0.0:" + port} {
			t.Setenv("ABCH_HTTP_ADDR", addr)
			var out, errb testenv.SyncBuffer
			if code := cli.Run([]string{"health"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "healthy: ready") {
				t.Errorf("%s: exit %d %q %q", addr, code, out.String(), errb.String())
			}
		}
	})
	t.Run("no server is unhealthy, exit 1", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		closed := ln.Addr().String()
		ln.Close()
		t.Setenv("ABCH_HTTP_ADDR", closed)
		var out, errb testenv.SyncBuffer
		if code := cli.Run([]string{"health", "--timeout", "2s"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "unhealthy") {
			t.Errorf("exit %d %q", code, errb.String())
		}
	})
}

// TestEmbeddedNATSBeyondLoopback: the embedded broker refuses to listen
// beyond loopback without ABCH_NATS_TOKEN; with one, clients without it are
// refused, and abch's relay, `events tail` and an NS with the token work.
// `events tail` prints the ns payloads as they go on the wire.
func TestEmbeddedNATSBeyondLoopback(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.NATSListen = "0.0.0.0:-1"
		if _, err := server.Start(context.Background(), cfg, testenv.Logger(t)); err == nil || !strings.Contains(err.Error(), "ABCH_NATS_TOKEN") {
			t.Fatalf("embedded broker on 0.0.0.0 without a token: %v", err)
		}
		cfg.NATSToken = "nats-secret-token"
		s := testenv.StartServer(t, cfg)
		if nc, err := nats.Connect(s.NATSURL, nats.MaxReconnects(0)); err == nil {
			nc.Close()
			t.Fatal("connected without the token")
		}
		if nc, err := nats.Connect(s.NATSURL, nats.Token("wrong")); err == nil {
			nc.Close()
			t.Fatal("connected with a wrong token")
		}
		nc, err := nats.Connect(s.NATSURL, nats.Token("nats-secret-token"))
		if err != nil {
			t.Fatalf("with the token: %v", err)
		}
		nc.Close()

		ctx := context.Background()
		alice, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Store.Write(ctx, func(tx *store.Txn) error {
			if err := tx.Bump(alice.ID); err != nil {
				return err
			}
			return tx.Emit(alice.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(alice), map[string]string{"op": "a & b"}))
		}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("ABCH_DATA_DIR", cfg.DataDir)
		t.Setenv("ABCH_DATABASE_URL", cfg.DatabaseURL)
		t.Setenv("ABCH_NATS_URL", s.NATSURL)
		t.Setenv("ABCH_NATS_TOKEN", "nats-secret-token")
		var out, errb testenv.SyncBuffer
		done := make(chan int, 1)
		go func() { done <- cli.Run([]string{"events", "tail", "--replay", "--count", "1"}, &out, &errb) }()
		select {
		case code := <-done:
			line := out.String()
			if code != 0 || !strings.Contains(line, `"payload":"<NOTIFICATION id=`) || !strings.Contains(line, `"op":"a & b"`) || strings.Contains(line, `\u003c`) || strings.Contains(line, `\u0026`) {
				t.Fatalf("exit %d, output %q, stderr %q", code, line, errb.String())
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no event: %s", errb.String())
		}
	})
}

// TestDockerignore checks .dockerignore the way docker matches it (a
// pattern matches a path or any of its parent directories; "**/" matches
// any number of directories): local data, keys and history stay out of the
// build context, the sources go in.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.RepoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var patterns []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	ignored := func(p string) bool {
		parts := strings.Split(p, "/")
		for _, pat := range patterns {
			for i := 1; i <= len(parts); i++ {
				prefix := strings.Join(parts[:i], "/")
				if ok, _ := path.Match(pat, prefix); ok {
					return true
				}
				if rest, found := strings.CutPrefix(pat, "**/"); found {
					for j := 0; j < i; j++ {
						if ok, _ := path.Match(rest, strings.Join(parts[j:i], "/")); ok {
							return true
						}
					}
				}
			}
		}
		return false
	}
	for _, p := range []string{"abch-data/abch.db", "abch-data/nats/jetstream/x", "cmd/abch/abch-data/abch.db", "certs/ca-key.pem", "deploy/tls/server-key.pem", ".git/HEAD", "abch.db"} {
		if !ignored(p) {
			t.Errorf("%s would be sent into the build", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/abch/main.go", "internal/store/store.go", "wsdl/passport.wsdl", "fixtures/passport/rst_bitlbee_ok.xml"} {
		if ignored(p) {
			t.Errorf("%s would be left out of the build", p)
		}
	}
}
