package main_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
)

// buildBinary compiles the real abch command once per test binary.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "abch")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestCommandLine(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	env := append(os.Environ(), "ABCH_DATA_DIR="+dataDir, "ABCH_DATABASE_URL=", "ABCH_ARGON2_MEMORY_KIB=1024", "ABCH_ARGON2_TIME=1")
	run := func(args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String(), code
	}

	t.Run("user add creates an account and refuses the same address in another case", func(t *testing.T) {
		out, code := run("user", "add", "Alice@Example.com", "--password", "pw1", "--name", "Alice")
		if code != 0 || !strings.Contains(out, "created Alice@Example.com") {
			t.Fatalf("exit %d: %s", code, out)
		}
		out, code = run("user", "add", "alice@EXAMPLE.com", "--password", "pw2")
		if code == 0 || !strings.Contains(out, "already exists") {
			t.Fatalf("duplicate add: exit %d: %s", code, out)
		}
	})
	t.Run("user add refuses an invalid address", func(t *testing.T) {
		for _, bad := range []string{"no-at-sign", "a@b", "a b@example.com", "a@@example.com", "@example.com"} {
			out, code := run("user", "add", bad, "--password", "x")
			if code == 0 || !strings.Contains(out, "invalid e-mail address") {
				t.Errorf("%q: exit %d: %s", bad, code, out)
			}
		}
	})
	t.Run("user list and passwd", func(t *testing.T) {
		out, code := run("user", "list")
		if code != 0 || !strings.Contains(out, "Alice@Example.com") || strings.Contains(out, "argon2") {
			t.Fatalf("list: exit %d: %s", code, out)
		}
		out, code = run("user", "passwd", "ALICE@example.com", "--password", "new")
		if code != 0 || !strings.Contains(out, "password changed") {
			t.Fatalf("passwd: exit %d: %s", code, out)
		}
		if _, code := run("user", "passwd", "nobody@example.com", "--password", "new"); code == 0 {
			t.Errorf("passwd of an unknown account succeeded")
		}
	})

	t.Run("serve answers, then SIGTERM exits 0", func(t *testing.T) {
		httpAddr, nsAddr, natsAddr := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(env, "ABCH_HTTP_ADDR="+httpAddr, "ABCH_NS_ADDR="+nsAddr, "ABCH_NATS_LISTEN="+natsAddr, "ABCH_MSNP_ADDR=127.0.0.1:0", "ABCH_SB_ADDR=127.0.0.1:0", "ABCH_WEB_ADDR=127.0.0.1:0", "ABCH_NS_KEY=k")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill() //nolint:errcheck
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Get("http://" + httpAddr + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("server never became ready:\n%s", out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, out.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no exit after SIGTERM")
		}
		if strings.Contains(out.String(), "pw1") || strings.Contains(out.String(), "secret") {
			t.Errorf("log shows a secret:\n%s", out.String())
		}
	})
}
