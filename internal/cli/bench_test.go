package cli

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestBenchCommand runs `abch bench` against a real server sharing its
// database: it seeds books, fetches them over HTTP and reports figures.
func TestBenchCommand(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for _, mode := range []string{"full", "delta", "delta1", "membership"} {
			var out, errb bytes.Buffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"bench", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL, "--url", "http://" + s.HTTPAddr,
				"--users", "2", "--contacts", "5", "--concurrency", "2", "--duration", "300ms", "--mode", mode})
			if err := root.Execute(); err != nil {
				t.Fatalf("bench %s: %v\n%s%s", mode, err, out.String(), errb.String())
			}
			for _, want := range []string{"requests: ", " 0 failed", "requests/s", "p99 "} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("bench %s output lacks %q:\n%s", mode, want, out.String())
				}
			}
			if strings.Contains(out.String(), "requests: 0 ok") {
				t.Fatalf("no request succeeded:\n%s", out.String())
			}
		}
	})
}

// TestBenchSoak runs `abch bench --mode soak` briefly against a real server:
// every kind of operation succeeds and each interval line carries the
// server's resident memory and goroutines.
func TestBenchSoak(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.OIMSendLimit = 0 // the soak sends more than a person would
		s := testenv.StartServer(t, cfg)
		t.Setenv("ABCH_ARGON2_MEMORY_KIB", "1024") // the soak accounts' hashes: cheap, as in every test
		var out, errb bytes.Buffer
		root := NewRoot(&out, &errb)
		root.SetArgs([]string{"bench", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL, "--url", "http://" + s.HTTPAddr,
			"--mode", "soak", "--users", "3", "--concurrency", "3", "--duration", "2500ms", "--interval", "1s"})
		if err := root.Execute(); err != nil {
			t.Fatalf("soak: %v\n%s%s", err, out.String(), errb.String())
		}
		lines := regexp.MustCompile(`(?m)^\d+s +\d+ .* (\d+\.\d MB) +(\d+) +(\d+)/(\d+)/(\d+)/(\d+)/(\d+)$`).FindAllStringSubmatch(out.String(), -1)
		if len(lines) < 2 {
			t.Fatalf("fewer than 2 interval lines with server figures:\n%s", out.String())
		}
		total := make([]int, 5)
		for _, l := range lines {
			for i := range total {
				n, _ := strconv.Atoi(l[3+i])
				total[i] += n
			}
		}
		for i, op := range []string{"signin", "change", "sync", "oim", "rsi"} {
			if total[i] == 0 {
				t.Errorf("no %s succeeded:\n%s", op, out.String())
			}
		}
		if !strings.Contains(out.String(), ", 0 errors") {
			t.Errorf("errors:\n%s", out.String())
		}
	})
}
