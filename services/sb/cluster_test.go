package sb_test

import (
	"testing"

	"github.com/abch-im/abch/internal/testenv/msnptest"
)

// TestAbchNSProcesses runs two `abch ns` processes (each with its
// switchboard) against abch and Debian's nats-server: Alice on the first
// calls Bob on the second; the RNG crosses NATS, Bob joins Alice's
// switchboard on the first process, they chat, and SIGTERM on Bob's NS
// ends his part of the conversation.
func TestAbchNSProcesses(t *testing.T) {
	e, bin := msnptest.StartCluster(t)
	p1 := e.StartNSProcess(bin)
	p2 := e.StartNSProcess(bin)

	alice := e.Account("alice@example.com", "Alice")
	bob := e.Account("bob@example.com", "Bob")
	e.Friends(alice, bob)
	pa := signIn(e, p1.NS, alice, bob)
	pb := signIn(e, p2.NS, bob, alice)
	sa := pa.open(t)
	if sa.C.RemoteAddr().String() != p1.SB {
		t.Fatalf("Alice's switchboard is %s, want her NS's %s", sa.C.RemoteAddr(), p1.SB)
	}
	sessid := call(t, sa, pb)
	r := pb.rang(t)
	if r.addr != p1.SB || r.sessid != sessid {
		t.Fatalf("RNG %+v: want session %s on %s", r, sessid, p1.SB)
	}
	sb, _ := pb.answer(t, r)
	sa.Expect("JOI bob@example.com Bob 1073741856")
	trid := relay(t, sa, pa, "A", textMsg, sb)
	sa.Expect("ACK " + trid)
	trid = relay(t, sb, pb, "D", p2pMsg(alice.Email), sa)
	sb.Expect("ACK " + trid)

	if err := p2.Terminate(); err != nil {
		t.Fatal(err)
	}
	pb.ns.WaitFor("OUT SSD", soon)
	sa.WaitFor("BYE bob@example.com", soon)
}
