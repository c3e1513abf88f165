package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/abch-im/abch/internal/config"
)

// LockFileName is the file in the data dir an embedded-database server
// holds an exclusive OS lock on while it runs.
const LockFileName = "abch.lock"

// ErrDataDirInUse is returned by LockDataDir when another server holds the
// data dir.
var ErrDataDirInUse = errors.New("data dir in use")

// DataDirLock is the held lock; Release gives it up.
type DataDirLock struct{ f *os.File }

// LockDataDir takes the one-server-per-data-dir lock for the embedded
// database: two servers on one data dir would both lead the event relay and
// share the JetStream directory (issue 15: an event was delayed by
// minutes). The lock is an OS file lock (flock) on <DataDir>/abch.lock, so
// the kernel drops it when the process exits or crashes and a stale file
// never blocks a restart. With Postgres and an external broker
// (ABCH_NATS_URL) the data dir holds no state and the database coordinates
// many servers (the relay's leader lock), so nothing is locked and nil is
// returned; with Postgres and the embedded broker the data dir still holds
// its JetStream store, so it is locked. The file holds the holder's pid,
// for the message.
func LockDataDir(cfg config.Config) (*DataDirLock, error) {
	if cfg.IsPostgres() && cfg.NATSURL != "" {
		return nil, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	path := filepath.Join(cfg.DataDir, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("server: lock file: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("server: lock %s: %w", path, err)
	}
	if !held {
		pid, _ := os.ReadFile(path)
		_ = f.Close()
		holder := "another process"
		if p := strings.TrimSpace(string(pid)); p != "" {
			holder = "process " + p
		}
		abs, _ := filepath.Abs(cfg.DataDir)
		return nil, fmt.Errorf("%w: another abch serve (%s) is already running on the data dir %s (it holds %s). "+
			"One server per data dir while it holds the embedded database or broker: stop that one, give this one its own "+
			"ABCH_DATA_DIR, or use Postgres (ABCH_DATABASE_URL) and a NATS server (ABCH_NATS_URL) to run several", ErrDataDirInUse, holder, abs, LockFileName)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DataDirLock{f: f}, nil
}

// Release gives the lock up (closing the file drops the OS lock). A nil
// lock (Postgres) is a no-op.
func (l *DataDirLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := l.f.Close()
	l.f = nil
	return err
}
