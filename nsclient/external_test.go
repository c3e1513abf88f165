package nsclient_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// startNATS runs the nats-server binary (CI: $ABCH_TEST_NATS_SERVER, the
// Debian package) with JetStream on a free port for the test.
func startNATS(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ABCH_TEST_NATS_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatalf("nats-server %s: %v (set ABCH_TEST_NATS_SERVER)", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "nats://" + addr
		}
	}
	t.Fatalf("nats-server did not listen on %s", addr)
	return ""
}

// TestSubscriberExternalNATS runs the subscriber against the nats-server
// operators install from their distribution (2.9 on Debian 12).
func TestSubscriberExternalNATS(t *testing.T) {
	cfg := testenv.Config(t, testenv.DB{Name: store.DialectSQLite})
	cfg.NATSURL = startNATS(t)
	s := testenv.StartServer(t, cfg)
	ctx := context.Background()
	var accts []*models.Account
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		a, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: e})
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, a)
	}
	nc, err := nats.Connect(cfg.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	for _, cids := range [][]int64{{accts[1].CID}, {accts[1].CID, accts[2].CID}} {
		t.Run(fmt.Sprintf("%d CIDs", len(cids)), func(t *testing.T) {
			got := make(chan string, 16)
			sub, err := nsclient.Subscribe(ctx, nc, nsclient.SubscribeOptions{CIDs: cids}, func(_ context.Context, ev nsclient.Event) error {
				got <- ev.Recipient.Email
				return nil
			})
			if err != nil {
				// NATS before 2.10 has one filter subject per consumer; the
				// error says so instead of delivering everything. Debian's
				// nats-server (2.9) is such a server.
				if len(cids) > 1 && strings.Contains(err.Error(), "not supported") && serverBefore210(nc.ConnectedServerVersion()) {
					return
				}
				t.Fatalf("subscribe (server %s): %v", nc.ConnectedServerVersion(), err)
			}
			defer sub.Stop()
			for _, a := range accts {
				a := a
				if err := s.Store.Write(ctx, func(tx *store.Txn) error {
					if err := tx.Bump(a.ID); err != nil {
						return err
					}
					return tx.Emit(a.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(a), nil))
				}); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{"b@example.com", "c@example.com"}[:len(cids)]
			var seen []string
			for len(seen) < len(want) {
				select {
				case e := <-got:
					seen = append(seen, e)
				case <-time.After(15 * time.Second):
					t.Fatalf("delivered %v, want %v", seen, want)
				}
			}
			// Nothing else may come (a's event was not asked for).
			select {
			case e := <-got:
				seen = append(seen, e)
			case <-time.After(300 * time.Millisecond):
			}
			if strings.Join(seen, ",") != strings.Join(want, ",") {
				t.Errorf("delivered %v, want %v", seen, want)
			}
		})
	}
}

// serverBefore210 reports whether a NATS server version ("2.9.10") is older
// than 2.10, the first with several filter subjects per consumer.
func serverBefore210(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major < 2 || major == 2 && minor < 10
}
