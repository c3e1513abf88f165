package ns_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/services/ns"
)

// TestTwoNS runs a second NS beside abch's own (its own NATS connection,
// as a separate process would have): users on different NS processes see
// each other, get live list changes, and one account stays one session.
func TestTwoNS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		_, other := extraNS(t, e, ns.Config{}, "")
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		carol := e.account("carol@example.com", "Carol")
		e.friends(alice, bob)

		a := dial(t, e.s.MSNPAddr)
		a.login13(e, alice)
		a.online("NLN", bob)
		b := dial(t, other)
		b.login13(e, bob)
		chg := b.online("BSY", alice)

		t.Run("each sees the other across NS processes", func(t *testing.T) {
			b.waitFor("ILN "+chg+" NLN alice@example.com 1 Alice 1073741856 0", soon)
			b.waitFor("UBX alice@example.com", soon)
			a.waitFor("NLN BSY bob@example.com 1 Bob 1073741856 0", soon)
			a.sendPayload("UUX 30", `<Data><PSM>remote</PSM><CurrentMedia></CurrentMedia></Data>`)
			b.waitForPayload("UBX alice@example.com", "<PSM>remote</PSM>", soon)
		})
		t.Run("a SOAP add reaches a user on the other NS", func(t *testing.T) {
			e.addContact(carol, bob)
			b.waitFor("ADL 0 ", time.Second)
		})
		t.Run("signing in on the other NS ends the first session with OUT OTH", func(t *testing.T) {
			a2 := dial(t, other)
			a2.login13(e, alice)
			a.waitFor("OUT OTH", soon)
			a.closed(soon)
			a2.online("NLN", bob)
			a2.waitFor("ILN ", soon)
		})
	})
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNATS runs Debian's nats-server ($ABCH_TEST_NATS_SERVER or
// /usr/sbin/nats-server) with JetStream for the test.
func startNATS(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ABCH_TEST_NATS_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", port)
	if err := cmd.Start(); err != nil {
		t.Fatalf("nats-server %s: %v (set ABCH_TEST_NATS_SERVER)", bin, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListen(t, addr)
	return "nats://" + addr
}

func waitListen(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

// TestAbchNSProcess runs `abch ns` as a separate process against abch and
// Debian's nats-server: users on it and on abch's own NS see each other,
// and SIGTERM sends OUT SSD and drains.
func TestAbchNSProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the abch binary")
	}
	bin := filepath.Join(t.TempDir(), "abch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/abch")
	build.Dir = testenv.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.NATSURL = startNATS(t)
	e := &env{t: t, s: testenv.StartServer(t, cfg)}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "ns")
	cmd.Env = append(os.Environ(), "ABCH_MSNP_ADDR="+addr, "ABCH_SB_ADDR=127.0.0.1:0", "ABCH_NS_API_URL=http://"+e.s.NSAddr,
		"ABCH_NS_KEY="+cfg.NSKey, "ABCH_NATS_URL="+cfg.NATSURL, "ABCH_DATA_DIR="+t.TempDir(), "ABCH_LOG_LEVEL=warn")
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	waitListen(t, addr)

	alice := e.account("alice@example.com", "Alice")
	bob := e.account("bob@example.com", "Bob")
	e.friends(alice, bob)
	a := dial(t, e.s.MSNPAddr)
	a.login13(e, alice)
	a.online("NLN", bob)
	b := dial(t, addr)
	b.login13(e, bob)
	chg := b.online("NLN", alice)
	b.waitFor("ILN "+chg+" NLN alice@example.com 1 Alice ", soon)
	a.waitFor("NLN NLN bob@example.com 1 Bob ", soon)

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	b.waitFor("OUT SSD", soon)
	b.closed(soon)
	a.waitFor("FLN bob@example.com", soon)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("abch ns exited with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("abch ns did not exit after SIGTERM")
	}
}

// testWriter sends a child's stderr to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
