package sb_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
)

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

// startNATS runs Debian's nats-server ($ABCH_TEST_NATS_SERVER or
// /usr/sbin/nats-server) with JetStream.
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

// TestAbchNSProcesses runs two `abch ns` processes (each with its
// switchboard) against abch and Debian's nats-server: Alice on the first
// calls Bob on the second; the RNG crosses NATS, Bob joins Alice's
// switchboard on the first process, they chat, and SIGTERM on Bob's NS
// ends his part of the conversation.
func TestAbchNSProcesses(t *testing.T) {
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
	type proc struct{ ns, sb string }
	start := func() (proc, *exec.Cmd) {
		p := proc{ns: freeAddr(t), sb: freeAddr(t)}
		cmd := exec.Command(bin, "ns")
		cmd.Env = append(os.Environ(), "ABCH_MSNP_ADDR="+p.ns, "ABCH_SB_ADDR="+p.sb, "ABCH_NS_API_URL=http://"+e.s.NSAddr,
			"ABCH_NS_KEY="+cfg.NSKey, "ABCH_NATS_URL="+cfg.NATSURL, "ABCH_DATA_DIR="+t.TempDir(), "ABCH_LOG_LEVEL=warn")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		waitListen(t, p.ns)
		waitListen(t, p.sb)
		return p, cmd
	}
	p1, _ := start()
	p2, cmd2 := start()

	alice := e.account("alice@example.com", "Alice")
	bob := e.account("bob@example.com", "Bob")
	e.friends(alice, bob)
	pa := e.signIn(p1.ns, alice, bob)
	pb := e.signIn(p2.ns, bob, alice)
	sa := pa.open(t)
	if sa.c.RemoteAddr().String() != p1.sb {
		t.Fatalf("Alice's switchboard is %s, want her NS's %s", sa.c.RemoteAddr(), p1.sb)
	}
	sessid := call(t, sa, pb)
	r := pb.rang(t)
	if r.addr != p1.sb || r.sessid != sessid {
		t.Fatalf("RNG %+v: want session %s on %s", r, sessid, p1.sb)
	}
	sb, _ := pb.answer(t, r)
	sa.expect("JOI bob@example.com Bob 1073741856")
	trid := relay(t, sa, pa, "A", textMsg, sb)
	sa.expect("ACK " + trid)
	trid = relay(t, sb, pb, "D", p2pMsg(alice.Email), sa)
	sb.expect("ACK " + trid)

	if err := cmd2.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	pb.ns.waitFor("OUT SSD", soon)
	sa.waitFor("BYE bob@example.com", soon)
}
