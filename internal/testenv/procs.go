package testenv

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// FreeAddr returns a loopback address nobody listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitListen waits up to 15 seconds for something to accept connections on
// addr.
func WaitListen(t testing.TB, addr string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

// StartNATS runs Debian's nats-server ($ABCH_TEST_NATS_SERVER or
// /usr/sbin/nats-server) with JetStream on a free loopback port for the
// test and returns its URL.
func StartNATS(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("ABCH_TEST_NATS_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	addr := FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", port)
	if err := cmd.Start(); err != nil {
		t.Fatalf("nats-server %s: %v (set ABCH_TEST_NATS_SERVER)", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	WaitListen(t, addr)
	return "nats://" + addr
}

// BuildAbch builds cmd/abch into the test's temporary directory and returns
// the binary's path, for tests that run abch as a separate process.
func BuildAbch(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "abch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/abch")
	build.Dir = RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// LogWriter sends what is written to it (a child process's stderr) to the
// test log.
type LogWriter struct{ T testing.TB }

// Write logs p as one entry.
func (w LogWriter) Write(p []byte) (int, error) {
	w.T.Log(string(p))
	return len(p), nil
}

// SyncBuffer is a bytes.Buffer safe to read while a process or a command
// writes to it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
