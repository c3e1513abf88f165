package ns_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
)

const soon = 3 * time.Second

// TestPresence signs two friends in and checks what each sees: ILN and
// UBX at sign-in, NLN/UBX on changes, FLN for HDN, a block and sign-out.
func TestPresence(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		e.Friends(alice, bob)
		e.AddContact(carol, alice) // Carol watches Alice; Alice does not list Carol

		b := msnptest.Dial(t, e.S.MSNPAddr)
		b.Login13(e, bob)
		b.Online("BSY", alice)
		c := msnptest.Dial(t, e.S.MSNPAddr)
		c.Login13(e, carol)
		c.Online("NLN", alice)

		a := msnptest.Dial(t, e.S.MSNPAddr)
		a.Login13(e, alice)
		chg := a.Online("NLN", bob)

		t.Run("sign-in gets ILN then UBX for an online friend", func(t *testing.T) {
			a.WaitFor("ILN "+chg+" BSY bob@example.com 1 Bob 1073741856 0", soon)
			line, payload := a.WaitFor("UBX bob@example.com", soon)
			if !strings.Contains(payload, "<PSM></PSM>") {
				t.Errorf("%s %q", line, payload)
			}
		})
		t.Run("watchers get NLN when a friend comes online", func(t *testing.T) {
			b.WaitFor("NLN NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
			c.WaitFor("NLN NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
		})
		t.Run("a watcher not on the user's FL gets nothing at the user's sign-in but presence of the user", func(t *testing.T) {
			// Alice does not have Carol on her FL: Alice's client must not get Carol's NLN.
			a.Quiet("ILN "+chg+" NLN carol", 300*time.Millisecond)
		})
		t.Run("UUX reaches watchers as UBX", func(t *testing.T) {
			a.SendPayload("UUX 20", `<Data><PSM>out &amp; about</PSM><CurrentMedia></CurrentMedia><MachineGuid>{44BFD5A4-7450-4BDA-BA3A-C51B3031126D}</MachineGuid></Data>`)
			a.WaitFor("UUX 20 0", soon)
			b.WaitForPayload("UBX alice@example.com", "<PSM>out &amp; about</PSM>", soon)
		})
		t.Run("PRP MFN reaches watchers in NLN", func(t *testing.T) {
			a.Send("PRP 21 MFN Alice%20%26%20Co")
			a.WaitFor("PRP 21 MFN Alice%20%26%20Co", soon)
			b.WaitFor("NLN NLN alice@example.com 1 Alice%20%26%20Co ", soon)
		})
		t.Run("HDN looks offline to watchers, NLN brings the user back", func(t *testing.T) {
			a.Send("CHG 22 HDN 1073741856")
			a.WaitFor("CHG 22 HDN", soon)
			b.WaitFor("FLN alice@example.com", soon)
			a.Send("CHG 23 AWY 1073741856")
			b.WaitFor("NLN AWY alice@example.com 1 ", soon)
		})
		t.Run("blocking through SOAP sends FLN, unblocking NLN", func(t *testing.T) {
			e.Member(alice, "AddMember", "Block", "bob@example.com")
			b.WaitFor("FLN alice@example.com", soon)
			e.Member(alice, "DeleteMember", "Block", "bob@example.com")
			e.Member(alice, "AddMember", "Allow", "bob@example.com")
			b.WaitFor("NLN AWY alice@example.com 1 ", soon)
		})
		t.Run("BLP BL hides the user from watchers not on Allow", func(t *testing.T) {
			a.Send("BLP 24 BL")
			a.WaitFor("BLP 24 BL", soon)
			c.WaitFor("FLN alice@example.com", soon)
			b.Quiet("FLN alice", 300*time.Millisecond)
			a.Send("BLP 25 AL")
			c.WaitFor("NLN AWY alice@example.com ", soon)
		})
		t.Run("RML hides a contact's presence, a later ADL brings it back", func(t *testing.T) {
			b.SendPayload("RML 60", `<ml><d n="example.com"><c n="alice" l="1" t="1" /></d></ml>`)
			b.WaitFor("RML 60 OK", soon)
			a.Send("CHG 61 BRB 1073741856")
			a.WaitFor("CHG 61 BRB", soon)
			b.Quiet("NLN BRB alice", 300*time.Millisecond)
			b.SendPayload("ADL 62", `<ml><d n="example.com"><c n="alice" l="1" t="1" /></d></ml>`)
			b.WaitFor("ADL 62 OK", soon)
			b.WaitFor("NLN BRB alice@example.com 1 ", soon)
		})
		t.Run("signing out is FLN to watchers", func(t *testing.T) {
			a.Send("OUT")
			a.Closed(soon)
			b.WaitFor("FLN alice@example.com", soon)
		})
	})
}

// TestLiveListChanges: Alice adds Bob through SOAP while both are online;
// Bob gets ADL 0 (Reverse) and NOT at once, and once Bob adds her back
// both see each other online.
func TestLiveListChanges(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		a := msnptest.Dial(t, e.S.MSNPAddr)
		a.Login13(e, alice)
		a.Online("NLN")
		b := msnptest.Dial(t, e.S.MSNPAddr)
		b.Login13(e, bob)
		b.Online("NLN")

		start := time.Now()
		e.AddContact(alice, bob)
		_, adl := b.WaitFor("ADL 0 ", time.Second)
		if !strings.Contains(adl, `<c n="alice" t="1" l="8" f="Alice%20A" />`) {
			t.Errorf("ADL 0 payload %q", adl)
		}
		_, not := b.WaitFor("NOT ", time.Second)
		if !strings.Contains(not, "ABCHInternal") || !strings.HasSuffix(not, "</NOTIFICATION>\r\n") {
			t.Errorf("NOT payload %q (MSNP13: ends in CR LF, msnp.AppendNOT)", not)
		}
		t.Logf("ADL 0 and NOT reached Bob %v after the SOAP call started", time.Since(start))

		e.AddContact(bob, alice)
		a.WaitFor("NLN NLN bob@example.com 1 Bob ", soon)
		b.WaitFor("NLN NLN alice@example.com 1 Alice%20A ", soon)
	})
}

// TestOneSessionPerAccount: a second sign-in ends the first with OUT OTH.
func TestOneSessionPerAccount(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		e.Friends(alice, bob)
		b := msnptest.Dial(t, e.S.MSNPAddr)
		b.Login13(e, bob)
		b.Online("NLN", alice)
		first := msnptest.Dial(t, e.S.MSNPAddr)
		first.Login13(e, alice)
		first.Online("NLN", bob)
		b.WaitFor("NLN NLN alice@example.com", soon)
		second := msnptest.Dial(t, e.S.MSNPAddr)
		second.Login13(e, alice)
		first.WaitFor("OUT OTH", soon)
		first.Closed(soon)
		second.Online("BSY", bob)
		second.Send("PNG")
		second.WaitFor("QNG 60", soon)
		t.Run("watchers see the new session, not the old one's sign-out", func(t *testing.T) {
			b.WaitFor("NLN BSY alice@example.com", soon)
			b.Quiet("FLN alice@example.com", 500*time.Millisecond)
		})
	})
}

// TestPresenceMSNP15: an MSNP15 watcher of an MSNP13 user gets the MSNP15
// forms: NLN/ILN with the network id, UBX and FLN with it too.
func TestPresenceMSNP15(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		e.Friends(alice, bob)
		a := msnptest.Dial(t, e.S.MSNPAddr)
		a.Login13(e, alice)
		a.Online("NLN", bob)
		b := msnptest.Dial(t, e.S.MSNPAddr)
		b.Login15(e, bob)
		chg := b.Online("NLN", alice)
		b.WaitFor("ILN "+chg+" NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
		b.WaitFor("UBX alice@example.com 1 ", soon)
		a.WaitFor("NLN NLN bob@example.com 1 Bob 1073741856 0", soon)
		a.Send("CHG 30 HDN 1073741856")
		b.WaitFor("FLN alice@example.com 1", soon)
		b.Send("CHG 31 HDN 1073741856")
		a.WaitFor("FLN bob@example.com", soon)
	})
}

// TestAccountClosedByOperator: disabling or deleting an account (abch user
// disable/delete) ends its open session with a plain OUT, and its watchers
// see it go offline.
func TestAccountClosedByOperator(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		e.Friends(alice, bob)
		e.Friends(carol, bob)
		b := msnptest.Dial(t, e.S.MSNPAddr)
		b.Login13(e, bob)
		b.Online("NLN", alice, carol)
		a := msnptest.Dial(t, e.S.MSNPAddr)
		a.Login13(e, alice)
		a.Online("NLN", bob)
		c := msnptest.Dial(t, e.S.MSNPAddr)
		c.Login13(e, carol)
		c.Online("NLN", bob)
		b.WaitFor("NLN NLN alice@example.com", soon)
		b.WaitFor("NLN NLN carol@example.com", soon)
		t.Run("disabled: OUT, closed, watchers get FLN", func(t *testing.T) {
			if _, _, err := e.S.Store.SetDisabled(context.Background(), "alice@example.com", true); err != nil {
				t.Fatal(err)
			}
			a.WaitFor("OUT", soon)
			a.Closed(soon)
			b.WaitFor("FLN alice@example.com", soon)
		})
		t.Run("deleted: OUT, closed", func(t *testing.T) {
			if _, err := e.S.Store.DeleteAccount(context.Background(), "carol@example.com"); err != nil {
				t.Fatal(err)
			}
			c.WaitFor("OUT", soon)
			c.Closed(soon)
		})
	})
}
