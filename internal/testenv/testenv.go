// Package testenv gives tests real databases and a real server: the embedded
// database in a temporary directory, and Postgres (ABCH_TEST_DATABASE_URL)
// with one database per test cloned from a migrated template, and abch
// listening on loopback ports.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
)

// DB names a database kind tests run against.
type DB struct {
	Name string // "sqlite" or "postgres"
}

// Databases lists the kinds to test: always the embedded database; Postgres
// when ABCH_TEST_DATABASE_URL is set. Under CI (CI=true) Postgres is
// required and its absence fails the test instead of narrowing the run.
func Databases(t testing.TB) []DB {
	dbs := []DB{{Name: store.DialectSQLite}}
	if os.Getenv("ABCH_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, DB{Name: store.DialectPostgres})
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("ABCH_TEST_DATABASE_URL must be set under CI: tests run on Postgres too")
	}
	return dbs
}

// ForEachDB runs f as a subtest per database kind, each with a fresh config.
func ForEachDB(t *testing.T, f func(t *testing.T, cfg config.Config)) {
	for _, db := range Databases(t) {
		db := db
		t.Run(db.Name, func(t *testing.T) { f(t, Config(t, db)) })
	}
}

// Config returns a configuration with a fresh, empty (migrated for Postgres)
// database of kind db, loopback listeners on free ports, and cheap argon2
// parameters (tests hash many passwords; production defaults are in config).
func Config(t testing.TB, db DB) config.Config {
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.NSAddr = "127.0.0.1:0"
	cfg.MSNPAddr = "127.0.0.1:0"
	cfg.SBAddr = "127.0.0.1:0"
	cfg.NATSListen = "127.0.0.1:-1"
	cfg.NSKey = "test-ns-key"
	cfg.Argon2Memory, cfg.Argon2Time, cfg.Argon2Par = 1024, 1, 1
	cfg.LogLevel = "warn"
	if db.Name == store.DialectPostgres {
		cfg.DatabaseURL = NewPostgresDB(t)
	}
	return cfg
}

// Logger returns a logger writing to the test log (or nowhere with -v off).
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("ABCH_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// StartServer starts abch with cfg and stops it when the test ends.
func StartServer(t testing.TB, cfg config.Config) *server.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, cfg, Logger(t))
	if err != nil {
		cancel()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop")
		}
	})
	return s
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// NewPostgresDB creates an empty database cloned from the migrated template
// and drops it when the test ends. It returns its URL.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("ABCH_TEST_DATABASE_URL")
	if admin == "" {
		t.Fatalf("ABCH_TEST_DATABASE_URL is not set")
	}
	adb, err := gorm.Open(postgres.Open(admin), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("postgres admin: %v", err)
	}
	sqlDB, _ := adb.DB()
	defer sqlDB.Close()
	tmplOnce.Do(func() { tmplName, tmplErr = ensureTemplate(adb, admin) })
	if tmplErr != nil {
		t.Fatalf("postgres template: %v", tmplErr)
	}
	name := "abch_t_" + randHex(8)
	// Cloning needs the template free of other sessions; serialise clones
	// across test processes with an advisory lock held in one transaction.
	err = adb.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("SELECT pg_advisory_xact_lock(7251002)").Error
	})
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	var lastErr error
	for i := 0; i < 50; i++ {
		if lastErr = adb.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmplName)).Error; lastErr == nil {
			break
		}
		time.Sleep(time.Duration(20+i*10) * time.Millisecond) // template busy in another process
	}
	if lastErr != nil {
		t.Fatalf("create test database: %v", lastErr)
	}
	t.Cleanup(func() {
		adb, err := gorm.Open(postgres.Open(admin), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return
		}
		_ = adb.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)).Error
		if s, err := adb.DB(); err == nil {
			s.Close()
		}
	})
	return withDatabase(admin, name)
}

func ensureTemplate(adb *gorm.DB, admin string) (string, error) {
	name := "abch_tmpl_" + store.MigrationsHash()
	// One process builds the template; others wait on the session lock.
	conn, err := adb.DB()
	if err != nil {
		return "", err
	}
	ctx := context.Background()
	c, err := conn.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(7251003)"); err != nil {
		return "", err
	}
	defer c.ExecContext(ctx, "SELECT pg_advisory_unlock(7251003)") //nolint:errcheck
	var n int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return name, nil
	}
	building := name + "_b" + randHex(3)
	if _, err := c.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s", building)); err != nil {
		return "", err
	}
	cfg := config.Defaults()
	cfg.DatabaseURL = withDatabase(admin, building)
	st, err := store.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", err
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(rawURL, db string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Path = "/" + db
	return u.String()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
