package ns_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

const soon = 3 * time.Second

// TestPresence signs two friends in and checks what each sees: ILN and
// UBX at sign-in, NLN/UBX on changes, FLN for HDN, a block and sign-out.
func TestPresence(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		alice := e.account("alice@example.com", "Alice A")
		bob := e.account("bob@example.com", "Bob")
		carol := e.account("carol@example.com", "Carol")
		e.friends(alice, bob)
		e.addContact(carol, alice) // Carol watches Alice; Alice does not list Carol

		b := dial(t, e.s.MSNPAddr)
		b.login13(e, bob)
		b.online("BSY", alice)
		c := dial(t, e.s.MSNPAddr)
		c.login13(e, carol)
		c.online("NLN", alice)

		a := dial(t, e.s.MSNPAddr)
		a.login13(e, alice)
		chg := a.online("NLN", bob)

		t.Run("sign-in gets ILN then UBX for an online friend", func(t *testing.T) {
			a.waitFor("ILN "+chg+" BSY bob@example.com 1 Bob 1073741856 0", soon)
			line, payload := a.waitFor("UBX bob@example.com", soon)
			if !strings.Contains(payload, "<PSM></PSM>") {
				t.Errorf("%s %q", line, payload)
			}
		})
		t.Run("watchers get NLN when a friend comes online", func(t *testing.T) {
			b.waitFor("NLN NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
			c.waitFor("NLN NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
		})
		t.Run("a watcher not on the user's FL gets nothing at the user's sign-in but presence of the user", func(t *testing.T) {
			// Alice does not have Carol on her FL: Alice's client must not get Carol's NLN.
			a.quiet("ILN "+chg+" NLN carol", 300*time.Millisecond)
		})
		t.Run("UUX reaches watchers as UBX", func(t *testing.T) {
			a.sendPayload("UUX 20", `<Data><PSM>out &amp; about</PSM><CurrentMedia></CurrentMedia><MachineGuid>{44BFD5A4-7450-4BDA-BA3A-C51B3031126D}</MachineGuid></Data>`)
			a.waitFor("UUX 20 0", soon)
			b.waitForPayload("UBX alice@example.com", "<PSM>out &amp; about</PSM>", soon)
		})
		t.Run("PRP MFN reaches watchers in NLN", func(t *testing.T) {
			a.send("PRP 21 MFN Alice%20%26%20Co")
			a.waitFor("PRP 21 MFN Alice%20%26%20Co", soon)
			b.waitFor("NLN NLN alice@example.com 1 Alice%20%26%20Co ", soon)
		})
		t.Run("HDN looks offline to watchers, NLN brings the user back", func(t *testing.T) {
			a.send("CHG 22 HDN 1073741856")
			a.waitFor("CHG 22 HDN", soon)
			b.waitFor("FLN alice@example.com", soon)
			a.send("CHG 23 AWY 1073741856")
			b.waitFor("NLN AWY alice@example.com 1 ", soon)
		})
		t.Run("blocking through SOAP sends FLN, unblocking NLN", func(t *testing.T) {
			e.member(alice, "AddMember", "Block", "bob@example.com")
			b.waitFor("FLN alice@example.com", soon)
			e.member(alice, "DeleteMember", "Block", "bob@example.com")
			e.member(alice, "AddMember", "Allow", "bob@example.com")
			b.waitFor("NLN AWY alice@example.com 1 ", soon)
		})
		t.Run("BLP BL hides the user from watchers not on Allow", func(t *testing.T) {
			a.send("BLP 24 BL")
			a.waitFor("BLP 24 BL", soon)
			c.waitFor("FLN alice@example.com", soon)
			b.quiet("FLN alice", 300*time.Millisecond)
			a.send("BLP 25 AL")
			c.waitFor("NLN AWY alice@example.com ", soon)
		})
		t.Run("RML hides a contact's presence, a later ADL brings it back", func(t *testing.T) {
			b.sendPayload("RML 60", `<ml><d n="example.com"><c n="alice" l="1" t="1" /></d></ml>`)
			b.waitFor("RML 60 OK", soon)
			a.send("CHG 61 BRB 1073741856")
			a.waitFor("CHG 61 BRB", soon)
			b.quiet("NLN BRB alice", 300*time.Millisecond)
			b.sendPayload("ADL 62", `<ml><d n="example.com"><c n="alice" l="1" t="1" /></d></ml>`)
			b.waitFor("ADL 62 OK", soon)
			b.waitFor("NLN BRB alice@example.com 1 ", soon)
		})
		t.Run("signing out is FLN to watchers", func(t *testing.T) {
			a.send("OUT")
			a.closed(soon)
			b.waitFor("FLN alice@example.com", soon)
		})
	})
}

// TestLiveListChanges: Alice adds Bob through SOAP while both are online;
// Bob gets ADL 0 (Reverse) and NOT at once, and once Bob adds her back
// both see each other online.
func TestLiveListChanges(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		alice := e.account("alice@example.com", "Alice A")
		bob := e.account("bob@example.com", "Bob")
		a := dial(t, e.s.MSNPAddr)
		a.login13(e, alice)
		a.online("NLN")
		b := dial(t, e.s.MSNPAddr)
		b.login13(e, bob)
		b.online("NLN")

		start := time.Now()
		e.addContact(alice, bob)
		_, adl := b.waitFor("ADL 0 ", time.Second)
		if !strings.Contains(adl, `<c n="alice" t="1" l="8" f="Alice%20A" />`) {
			t.Errorf("ADL 0 payload %q", adl)
		}
		_, not := b.waitFor("NOT ", time.Second)
		if !strings.Contains(not, "ABCHInternal") || !strings.HasSuffix(not, "</NOTIFICATION>\r\n") {
			t.Errorf("NOT payload %q (MSNP13: ends in CR LF, msnp.AppendNOT)", not)
		}
		t.Logf("ADL 0 and NOT reached Bob %v after the SOAP call started", time.Since(start))

		e.addContact(bob, alice)
		a.waitFor("NLN NLN bob@example.com 1 Bob ", soon)
		b.waitFor("NLN NLN alice@example.com 1 Alice%20A ", soon)
	})
}

// TestOneSessionPerAccount: a second sign-in ends the first with OUT OTH.
func TestOneSessionPerAccount(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		e.friends(alice, bob)
		b := dial(t, e.s.MSNPAddr)
		b.login13(e, bob)
		b.online("NLN", alice)
		first := dial(t, e.s.MSNPAddr)
		first.login13(e, alice)
		first.online("NLN", bob)
		b.waitFor("NLN NLN alice@example.com", soon)
		second := dial(t, e.s.MSNPAddr)
		second.login13(e, alice)
		first.waitFor("OUT OTH", soon)
		first.closed(soon)
		second.online("BSY", bob)
		second.send("PNG")
		second.waitFor("QNG 60", soon)
		t.Run("watchers see the new session, not the old one's sign-out", func(t *testing.T) {
			b.waitFor("NLN BSY alice@example.com", soon)
			b.quiet("FLN alice@example.com", 500*time.Millisecond)
		})
	})
}

// TestPresenceMSNP15: an MSNP15 watcher of an MSNP13 user gets the MSNP15
// forms: NLN/ILN with the network id, UBX and FLN with it too.
func TestPresenceMSNP15(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		alice := e.account("alice@example.com", "Alice A")
		bob := e.account("bob@example.com", "Bob")
		e.friends(alice, bob)
		a := dial(t, e.s.MSNPAddr)
		a.login13(e, alice)
		a.online("NLN", bob)
		b := dial(t, e.s.MSNPAddr)
		b.login15(e, bob)
		chg := b.online("NLN", alice)
		b.waitFor("ILN "+chg+" NLN alice@example.com 1 Alice%20A 1073741856 0", soon)
		b.waitFor("UBX alice@example.com 1 ", soon)
		a.waitFor("NLN NLN bob@example.com 1 Bob 1073741856 0", soon)
		a.send("CHG 30 HDN 1073741856")
		b.waitFor("FLN alice@example.com 1", soon)
		b.send("CHG 31 HDN 1073741856")
		a.waitFor("FLN bob@example.com", soon)
	})
}

// TestAccountClosedByOperator: disabling or deleting an account (abch user
// disable/delete) ends its open session with a plain OUT, and its watchers
// see it go offline.
func TestAccountClosedByOperator(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		carol := e.account("carol@example.com", "Carol")
		e.friends(alice, bob)
		e.friends(carol, bob)
		b := dial(t, e.s.MSNPAddr)
		b.login13(e, bob)
		b.online("NLN", alice, carol)
		a := dial(t, e.s.MSNPAddr)
		a.login13(e, alice)
		a.online("NLN", bob)
		c := dial(t, e.s.MSNPAddr)
		c.login13(e, carol)
		c.online("NLN", bob)
		b.waitFor("NLN NLN alice@example.com", soon)
		b.waitFor("NLN NLN carol@example.com", soon)
		t.Run("disabled: OUT, closed, watchers get FLN", func(t *testing.T) {
			if _, _, err := e.s.Store.SetDisabled(context.Background(), "alice@example.com", true); err != nil {
				t.Fatal(err)
			}
			a.waitFor("OUT", soon)
			a.closed(soon)
			b.waitFor("FLN alice@example.com", soon)
		})
		t.Run("deleted: OUT, closed", func(t *testing.T) {
			if _, err := e.s.Store.DeleteAccount(context.Background(), "carol@example.com"); err != nil {
				t.Fatal(err)
			}
			c.waitFor("OUT", soon)
			c.closed(soon)
		})
	})
}
