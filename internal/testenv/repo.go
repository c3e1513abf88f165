package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// RepoRoot walks up from the test's working directory to the directory
// holding go.mod, so golden files under fixtures/ are found from any package.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
}

// ClientsDir is fixtures/clients: the real client traffic the tests replay
// (requests/<client>/*.xml envelopes, captures/<run>/ HTTP and NS logs),
// copied into the repository from the shared reference set (its README says
// where each came from). It fails the test when the tree is missing, so a
// test never passes for want of its fixtures.
func ClientsDir(t testing.TB) string {
	t.Helper()
	return fixtureDir(t, "clients", "requests")
}

// EscargotDir is fixtures/migration/escargot: the Escargot sample database,
// its passwords and the expected import result.
func EscargotDir(t testing.TB) string {
	t.Helper()
	return fixtureDir(t, filepath.Join("migration", "escargot"), "expected-sample.json")
}

// fixtureDir returns fixtures/dir under the repository root after checking
// that it holds probe.
func fixtureDir(t testing.TB, dir, probe string) string {
	t.Helper()
	d := filepath.Join(RepoRoot(t), "fixtures", dir)
	if _, err := os.Stat(filepath.Join(d, probe)); err != nil {
		t.Fatalf("fixtures missing: %v", err)
	}
	return d
}

// NewAccount creates an account that signs in with password, hashed with the
// server's configured (in tests: cheap) argon2id parameters.
func NewAccount(t testing.TB, s *server.Server, email, password, displayName string) *models.Account {
	t.Helper()
	c := s.Config
	h, err := auth.HashPassword(password, auth.Argon2Params{MemoryKiB: c.Argon2Memory, Time: c.Argon2Time, Parallelism: c.Argon2Par})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Deps.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, PasswordHash: h, DisplayName: displayName})
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	return a
}
