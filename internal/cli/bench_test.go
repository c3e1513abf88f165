package cli

import (
	"bytes"
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
