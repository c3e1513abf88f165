package testenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/fixtures"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// RepoRoot is the directory holding go.mod (fixtures.RepoRoot), so golden
// files under fixtures/ are found from any package.
func RepoRoot(t testing.TB) string {
	t.Helper()
	return fixtures.RepoRoot(t)
}

// ClientsDir is fixtures/clients: the real client traffic the tests replay
// (requests/<client>/*.xml envelopes, captures/<run>/ HTTP and NS logs),
// copied into the repository from the shared reference set (its README says
// where each came from). It fails the test when the tree is missing, so a
// test never passes for want of its fixtures.
func ClientsDir(t testing.TB) string {
	t.Helper()
	return fixtures.ClientsDir(t)
}

// EscargotDir is fixtures/migration/escargot: the Escargot sample database,
// its passwords and the expected import result.
func EscargotDir(t testing.TB) string {
	t.Helper()
	return fixtures.Dir(t, filepath.Join("migration", "escargot"), "expected-sample.json")
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
