package main_test

import (
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
)

// proc is an `abch serve` child process.
type proc struct {
	cmd      *exec.Cmd
	out      *testenv.SyncBuffer
	httpAddr string
	done     chan struct{} // closed when the process has exited
	err      error         // its exit error, once done is closed
}

// wait waits for the process to exit and returns its exit error.
func (p *proc) wait() error {
	<-p.done
	return p.err
}

// startServe starts `abch serve` with env plus fresh loopback ports, and
// waits until it answers /readyz (ready) or exits (the exit error is then
// in p.done's value, returned as exited=true).
func startServe(t *testing.T, bin string, env []string) (p *proc, exited bool) {
	t.Helper()
	p = &proc{out: &testenv.SyncBuffer{}, httpAddr: testenv.FreeAddr(t), done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(append([]string(nil), env...), "ABCH_HTTP_ADDR="+p.httpAddr, "ABCH_NS_ADDR="+testenv.FreeAddr(t), "ABCH_NATS_LISTEN="+testenv.FreeAddr(t), "ABCH_MSNP_ADDR=127.0.0.1:0", "ABCH_SB_ADDR=127.0.0.1:0", "ABCH_WEB_ADDR=127.0.0.1:0", "ABCH_NS_KEY=k")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			return p, true
		default:
		}
		resp, err := http.Get("http://" + p.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p, false
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server neither ready nor exited:\n%s", p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func baseEnv(dataDir, dbURL string) []string {
	return append(os.Environ(), "ABCH_DATA_DIR="+dataDir, "ABCH_DATABASE_URL="+dbURL, "ABCH_ARGON2_MEMORY_KIB=1024", "ABCH_ARGON2_TIME=1", "ABCH_LOG_LEVEL=info")
}

// TestOneServerPerDataDir starts two real `abch serve` processes on one
// embedded data dir: the second refuses with a message naming the data dir
// and the first server's pid; after the first is killed (SIGKILL, no clean
// shutdown) a new one starts, because the OS dropped the lock. On Postgres
// the same holds while the embedded broker keeps its storage there; with an
// external broker two servers share one data dir and database.
func TestOneServerPerDataDir(t *testing.T) {
	bin := buildBinary(t)
	t.Run("embedded: a second serve on the same data dir refuses to start", func(t *testing.T) {
		env := baseEnv(t.TempDir(), "")
		first, exited := startServe(t, bin, env)
		if exited {
			t.Fatalf("first server exited:\n%s", first.out.String())
		}
		second, exited := startServe(t, bin, env)
		if !exited {
			t.Fatalf("second server on the same data dir is serving")
		}
		err := second.wait()
		msg := second.out.String()
		if err == nil || !strings.Contains(msg, "already running on the data dir") || !strings.Contains(msg, "process "+itoa(first.cmd.Process.Pid)) {
			t.Fatalf("second server: %v\n%s", err, msg)
		}
		// The refused server touched nothing: the first still answers.
		if resp, err := http.Get("http://" + first.httpAddr + "/readyz"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("first server after the refusal: %v", err)
		}

		if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = first.wait()
		third, exited := startServe(t, bin, env)
		if exited {
			t.Fatalf("server after a crash of the lock holder did not start:\n%s", third.out.String())
		}
	})
	t.Run("postgres with the embedded broker: the data dir holds its storage, a second serve refuses", func(t *testing.T) {
		if os.Getenv("ABCH_TEST_DATABASE_URL") == "" {
			t.Skip("ABCH_TEST_DATABASE_URL not set")
		}
		env := baseEnv(t.TempDir(), testenv.NewPostgresDB(t))
		if p, exited := startServe(t, bin, env); exited {
			t.Fatalf("first server exited:\n%s", p.out.String())
		}
		second, exited := startServe(t, bin, env)
		if !exited || !strings.Contains(second.out.String(), "already running on the data dir") {
			t.Fatalf("second server on the embedded broker's data dir: exited=%v\n%s", exited, second.out.String())
		}
	})
	t.Run("postgres and an external broker: two servers on one data dir and database both serve", func(t *testing.T) {
		if os.Getenv("ABCH_TEST_DATABASE_URL") == "" {
			t.Skip("ABCH_TEST_DATABASE_URL not set")
		}
		if os.Getenv("ABCH_TEST_NATS_SERVER") == "" {
			t.Skip("ABCH_TEST_NATS_SERVER not set (two servers share an external broker)")
		}
		natsURL := testenv.StartNATS(t)
		env := append(baseEnv(t.TempDir(), testenv.NewPostgresDB(t)), "ABCH_NATS_URL="+natsURL)
		for i := 0; i < 2; i++ {
			if p, exited := startServe(t, bin, env); exited {
				t.Fatalf("server %d exited:\n%s", i+1, p.out.String())
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
