package cli

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
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

// TestBenchStaticRounds runs `abch bench --static --rounds 2`: each round
// measures a static server of the same answer bytes and then abch, and the
// medians and their ratio are printed.
func TestBenchStaticRounds(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for _, mode := range []string{"full", "membership"} {
			var out, errb bytes.Buffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"bench", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL, "--url", "http://" + s.HTTPAddr,
				"--users", "2", "--contacts", "5", "--concurrency", "2", "--duration", "200ms", "--mode", mode, "--static", "--rounds", "2"})
			if err := root.Execute(); err != nil {
				t.Fatalf("bench %s: %v\n%s%s", mode, err, out.String(), errb.String())
			}
			for _, re := range []string{`(?m)^round 1 static: [1-9]\d* requests/s`, `(?m)^round 2 abch: +[1-9]\d* requests/s`,
				`(?m)^median of 2: abch [1-9]\d* requests/s`, `(?m)^median of 2: static [1-9]\d* requests/s`, `(?m)^ratio abch/static \(medians\): \d+\.\d{3}$`} {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Fatalf("bench %s output lacks %s:\n%s", mode, re, out.String())
				}
			}
		}
	})
}

// TestBenchSignin runs `abch bench --mode signin` on a small network: the
// network is seeded (and reused by a second run), the RST step signs its
// accounts in, and the sign-in mix reads FindMembership and ABFindAll of
// distinct users without a failure.
func TestBenchSignin(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		t.Setenv("ABCH_ARGON2_MEMORY_KIB", "1024") // cheap hashes, as in every test
		for run := 1; run <= 2; run++ {
			var out, errb bytes.Buffer
			root := NewRoot(&out, &errb)
			root.SetArgs([]string{"bench", "--data-dir", cfg.DataDir, "--database-url", cfg.DatabaseURL, "--url", "http://" + s.HTTPAddr,
				"--mode", "signin", "--users", "40", "--contacts", "6", "--concurrency", "2", "--duration", "300ms",
				"--rst-users", "2", "--rst-duration", "200ms"})
			if err := root.Execute(); err != nil {
				t.Fatalf("signin run %d: %v\n%s%s", run, err, out.String(), errb.String())
			}
			for _, re := range []string{`(?m)^network ready in`, `(?m)^RST step: 2 accounts`, `(?m)^round 1: [1-9]\d* sign-ins \([1-9]\d* distinct users\), [1-9]\d* sign-ins/s`} {
				if !regexp.MustCompile(re).MatchString(out.String()) {
					t.Fatalf("signin run %d output lacks %s:\n%s", run, re, out.String())
				}
			}
		}
		// Every account holds 3–9 contacts and is on the Reverse list of
		// those who hold it.
		ctx := context.Background()
		st := s.Store
		var checked int
		for i := 0; i < 40; i++ {
			a, err := st.AccountByEmail(ctx, fmt.Sprintf("bench-net-6c-%d@bench.example", i))
			if err != nil {
				t.Fatal(err)
			}
			b, err := st.LoadBook(ctx, a.ID, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := store.NetworkBookSize(i, 40, 6) + 1; len(b.Contacts) != want {
				t.Fatalf("account %d: %d contacts with Me, want %d", i, len(b.Contacts), want)
			}
			set, err := st.Memberships(ctx, a.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			reverse := 0
			for _, m := range set.Members {
				if m.Role == models.RoleReverse {
					reverse++
				}
			}
			holders := 0
			for j := 0; j < 40; j++ {
				if d := (i - j + 40) % 40; d > 0 && store.NetworkBookSize(j, 40, 6) >= d {
					holders++
				}
			}
			if reverse != holders || len(set.Members) != holders+store.NetworkBookSize(i, 40, 6) {
				t.Fatalf("account %d: %d members, %d on Reverse; want %d on Reverse", i, len(set.Members), reverse, holders)
			}
			checked++
		}
		if checked != 40 {
			t.Fatalf("checked %d accounts", checked)
		}
	})
}
