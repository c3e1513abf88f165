package msnptest

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
)

// NSProcess is an `abch ns` process (its NS and switchboard on their own
// loopback ports) running beside Env's abch, on the same NATS broker.
type NSProcess struct {
	NS, SB string // the addresses its NS and switchboard listen on
	cmd    *exec.Cmd
	exited chan error
}

// StartNSProcess runs bin (from testenv.BuildAbch) as `abch ns` against e's
// NS API and broker (e's config needs ABCH_NATS_URL: testenv.StartNATS),
// waits until both listeners accept, and kills it when the test ends. The
// child's stderr goes to the test log.
func (e *Env) StartNSProcess(bin string) *NSProcess {
	e.T.Helper()
	cfg := e.S.Config
	p := &NSProcess{NS: testenv.FreeAddr(e.T), SB: testenv.FreeAddr(e.T), exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, "ns")
	p.cmd.Env = append(os.Environ(), "ABCH_MSNP_ADDR="+p.NS, "ABCH_SB_ADDR="+p.SB, "ABCH_NS_API_URL=http://"+e.S.NSAddr,
		"ABCH_NS_KEY="+cfg.NSKey, "ABCH_NATS_URL="+cfg.NATSURL, "ABCH_DATA_DIR="+e.T.TempDir(), "ABCH_LOG_LEVEL=warn")
	p.cmd.Stderr = testenv.LogWriter{T: e.T}
	if err := p.cmd.Start(); err != nil {
		e.T.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	e.T.Cleanup(func() { _ = p.cmd.Process.Kill(); <-p.exited })
	testenv.WaitListen(e.T, p.NS)
	testenv.WaitListen(e.T, p.SB)
	return p
}

// Terminate sends SIGTERM (the NS then says OUT SSD and drains).
func (p *NSProcess) Terminate() error { return p.cmd.Process.Signal(syscall.SIGTERM) }

// Wait waits up to d for the process to exit: exited is false when it is
// still running after d; err is its exit error.
func (p *NSProcess) Wait(d time.Duration) (exited bool, err error) {
	select {
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		return true, err
	case <-time.After(d):
		return false, nil
	}
}

// StartCluster is the set-up of a test that runs `abch ns` processes: it
// skips the test with -short, builds the abch binary, starts Debian's
// nats-server and abch on it (the first database kind), and returns abch
// and the binary for StartNSProcess.
func StartCluster(t *testing.T) (e *Env, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the abch binary")
	}
	bin = testenv.BuildAbch(t)
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.NATSURL = testenv.StartNATS(t)
	return Start(t, cfg), bin
}
