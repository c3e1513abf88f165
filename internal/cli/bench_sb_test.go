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

// TestBenchSBRegistered checks that --mode sb and its flags are in the
// bench command's help (benchModes, addSBBenchFlags) next to --mode ns.
func TestBenchSBRegistered(t *testing.T) {
	var out bytes.Buffer
	root := NewRoot(&out, &out)
	root.SetArgs([]string{"bench", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--conversations", "--rate", "--ack", "--senders", "--mode sb", "--mode ns", "--msnp-addr"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench --help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestBenchSBRejectsBadFlags: settings that cannot run get the usage error
// before anything is seeded or dialled.
func TestBenchSBRejectsBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"no conversations":      {"--conversations", "0"},
		"no rate":               {"--rate", "0"},
		"unknown ack mode":      {"--ack", "X"},
		"no senders":            {"--senders", "0"},
		"negative duration":     {"--duration", "-1s"},
		"too many source addrs": {"--source-addrs", "255"},
	} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			root := NewRoot(&out, &out)
			root.SetArgs(append([]string{"bench", "--mode", "sb", "--data-dir", t.TempDir()}, args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), "sb mode needs") {
				t.Fatalf("got %v, want the sb mode usage error\n%s", err, out.String())
			}
		})
	}
}

// TestBenchSB runs `abch bench --mode sb` against a real server: the users
// sign in over MSNP13, every pair opens a conversation through XFR SB,
// USR, CAL, RNG and ANS, and every acked message both sides send is relayed
// and acknowledged; a second run reuses the seeded accounts.
func TestBenchSB(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for run := 1; run <= 2; run++ {
			var out, errb bytes.Buffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"bench", "--mode", "sb", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL,
				"--url", "http://" + s.HTTPAddr, "--msnp-addr", s.MSNPAddr, "--server-pid", strconv.Itoa(os.Getpid()),
				"--conversations", "5", "--rate", "40", "--duration", "500ms", "--signin-concurrency", "3", "--senders", "2", "--source-addrs", "2"})
			if err := root.Execute(); err != nil {
				t.Fatalf("run %d: %v\n%s%s", run, err, out.String(), errb.String())
			}
			t.Logf("run %d:\n%s", run, out.String())
			// 5 conversations × 2 sides × 500ms / (2s/40) = 100 messages.
			for _, want := range []string{
				"5 of 5 conversations open", "relay: 100 messages sent", "100 relayed", " 0 lost; 100 ACK, 0 NAK",
				"relay latency", "p99 ", "sender lag", "server CPU during the relay",
			} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("run %d: output lacks %q:\n%s", run, want, out.String())
				}
			}
		}
	})
}
