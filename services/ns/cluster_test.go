package ns_test

import (
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/services/ns"
)

// TestTwoNS runs a second NS beside abch's own (its own NATS connection,
// as a separate process would have): users on different NS processes see
// each other, get live list changes, and one account stays one session.
func TestTwoNS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		_, other := extraNS(t, e, ns.Config{}, "")
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		e.Friends(alice, bob)

		a := msnptest.Dial(t, e.S.MSNPAddr)
		a.Login13(e, alice)
		a.Online("NLN", bob)
		b := msnptest.Dial(t, other)
		b.Login13(e, bob)
		chg := b.Online("BSY", alice)

		t.Run("each sees the other across NS processes", func(t *testing.T) {
			b.WaitFor("ILN "+chg+" NLN alice@example.com 1 Alice 1073741856 0", soon)
			b.WaitFor("UBX alice@example.com", soon)
			a.WaitFor("NLN BSY bob@example.com 1 Bob 1073741856 0", soon)
			a.SendPayload("UUX 30", `<Data><PSM>remote</PSM><CurrentMedia></CurrentMedia></Data>`)
			b.WaitForPayload("UBX alice@example.com", "<PSM>remote</PSM>", soon)
		})
		t.Run("a SOAP add reaches a user on the other NS", func(t *testing.T) {
			e.AddContact(carol, bob)
			b.WaitFor("ADL 0 ", time.Second)
		})
		t.Run("signing in on the other NS ends the first session with OUT OTH", func(t *testing.T) {
			a2 := msnptest.Dial(t, other)
			a2.Login13(e, alice)
			a.WaitFor("OUT OTH", soon)
			a.Closed(soon)
			a2.Online("NLN", bob)
			a2.WaitFor("ILN ", soon)
		})
	})
}

// TestAbchNSProcess runs `abch ns` as a separate process against abch and
// Debian's nats-server: users on it and on abch's own NS see each other,
// and SIGTERM sends OUT SSD and drains.
func TestAbchNSProcess(t *testing.T) {
	e, bin := msnptest.StartCluster(t)
	proc := e.StartNSProcess(bin)

	alice := e.Account("alice@example.com", "Alice")
	bob := e.Account("bob@example.com", "Bob")
	e.Friends(alice, bob)
	a := msnptest.Dial(t, e.S.MSNPAddr)
	a.Login13(e, alice)
	a.Online("NLN", bob)
	b := msnptest.Dial(t, proc.NS)
	b.Login13(e, bob)
	chg := b.Online("NLN", alice)
	b.WaitFor("ILN "+chg+" NLN alice@example.com 1 Alice ", soon)
	a.WaitFor("NLN NLN bob@example.com 1 Bob ", soon)

	if err := proc.Terminate(); err != nil {
		t.Fatal(err)
	}
	b.WaitFor("OUT SSD", soon)
	b.Closed(soon)
	a.WaitFor("FLN bob@example.com", soon)
	exited, err := proc.Wait(20 * time.Second)
	if !exited {
		t.Errorf("abch ns did not exit after SIGTERM")
	} else if err != nil {
		t.Errorf("abch ns exited with %v", err)
	}
}
