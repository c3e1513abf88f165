package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestBenchNSRegistered checks that --mode ns and its flags are in the
// bench command's help (its benchModes row, addNSBenchFlags).
func TestBenchNSRegistered(t *testing.T) {
	benchHelpHas(t, "--msnp-addr", "--server-pid", "--signin-concurrency", "--changes", "--mode ns")
}

// TestBenchNSRejectsBadFlags: flags that cannot make a ring get the usage
// error before anything is seeded or dialled.
func TestBenchNSRejectsBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"odd contacts":              {"--users", "10", "--contacts", "3"},
		"contacts not below users":  {"--users", "4", "--contacts", "4"},
		"one user":                  {"--users", "1", "--contacts", "2"},
		"no sign-in concurrency":    {"--signin-concurrency", "0"},
		"too many source addresses": {"--source-addrs", "255"},
	} {
		t.Run(name, func(t *testing.T) { benchUsageError(t, "ns", args) })
	}
}

// benchHelpHas requires `abch bench --help` to name each of wants.
func benchHelpHas(t *testing.T, wants ...string) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot(&out, &out)
	root.SetArgs([]string{"bench", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench --help lacks %q:\n%s", want, out.String())
		}
	}
}

// benchUsageError runs `abch bench --mode mode args…` and requires the
// mode's usage error ("<mode> mode needs …"), given before anything is
// seeded or dialled (no database is configured).
func benchUsageError(t *testing.T, mode string, args []string) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot(&out, &out)
	root.SetArgs(append([]string{"bench", "--mode", mode, "--data-dir", t.TempDir()}, args...))
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), mode+" mode needs") {
		t.Fatalf("got %v, want the %s mode usage error\n%s", err, mode, out.String())
	}
}

// TestBenchNS runs `abch bench --mode ns` against a real server's NS: the
// ring of accounts is seeded, every session signs in over MSNP13, the
// server's memory is read, and every timed status change reaches every
// watcher. A second run reuses the seeded accounts.
func TestBenchNS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for run := 1; run <= 2; run++ {
			var out, errb bytes.Buffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"bench", "--mode", "ns", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL,
				"--url", "http://" + s.HTTPAddr, "--msnp-addr", s.MSNPAddr, "--server-pid", strconv.Itoa(os.Getpid()),
				"--users", "12", "--contacts", "4", "--signin-concurrency", "4", "--changes", "30", "--change-concurrency", "3",
				"--settle", "200ms", "--source-addrs", "2"})
			if err := root.Execute(); err != nil {
				t.Fatalf("run %d: %v\n%s%s", run, err, out.String(), errb.String())
			}
			t.Logf("run %d:\n%s", run, out.String())
			for _, want := range []string{
				"sign-ins: 12 ok, 0 failed", "sign-in latency", "server holding 12 sessions: ", "MiB resident", "goroutines",
				"status changes: 30 reached every watcher, 0 did not", "fan-out latency",
			} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("run %d: output lacks %q:\n%s", run, want, out.String())
				}
			}
			if run == 1 && !strings.Contains(out.String(), "seeded 12 accounts with 4 mutual contacts") {
				t.Fatalf("no seeding line:\n%s", out.String())
			}
		}
	})
}
