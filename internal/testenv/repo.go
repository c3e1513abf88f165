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

// SharedDir finds the reference material (README.md, clients/, migration/):
// ../shared next to the repository root, ../../shared for a worktree, or
// /work/shared. It fails the test when none holds clients/, so a test never
// passes for want of its fixtures.
func SharedDir(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	for _, d := range []string{filepath.Join(root, "..", "shared"), filepath.Join(root, "..", "..", "shared"), "/work/shared"} {
		if st, err := os.Stat(filepath.Join(d, "clients")); err == nil && st.IsDir() {
			return d
		}
	}
	t.Fatalf("reference material (shared/ with clients/) not found next to %s", root)
	return ""
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
