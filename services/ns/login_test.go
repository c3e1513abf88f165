package ns_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
)

// captureLines returns the client side of a captured NS dialogue: each
// "C:" line, with the payload of the "C>" line that follows it.
func captureLines(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), "captures", name, "ns.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		switch {
		case strings.HasPrefix(l, "C: "):
			out = append(out, strings.TrimPrefix(l, "C: ")+"\r\n")
		case strings.HasPrefix(l, "C> "):
			out[len(out)-1] += strings.TrimPrefix(l, "C> ")
		}
	}
	return out
}

// TestMSNP13Login replays the client side of pidgin 2.4.3's captured MSNP13
// sign-in (with a real ticket in place of the stand-in's) and checks each
// answer the client needs.
func TestMSNP13Login(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		ticket := e.Ticket(alice, auth.AudMessenger)
		m := msnptest.Dial(t, e.S.MSNPAddr)
		lines := captureLines(t, "pidgin-2.4.3-msnp13-login")
		fake := regexp.MustCompile(`t=FAKE\S*`)
		for i := range lines {
			lines[i] = fake.ReplaceAllString(lines[i], ticket.Text())
		}
		play := func(i int) { t.Helper(); m.Raw(lines[i]) }

		play(0)
		m.Expect("VER 1 MSNP13")
		play(1)
		m.Expect("CVR 2 8.5.1302 8.5.1302 8.5.1302 http://msgr.dlservice.microsoft.com http://messenger.msn.com")
		play(2)
		usr, _, _ := m.Read(5 * time.Second)
		for _, k := range []string{"lc=", "id=", "tw=", "ru=", "ct=", "kpp=", "kv=", "ver=", "tpf="} {
			if !strings.HasPrefix(usr, "USR 3 TWN S ") || !strings.Contains(usr, k) {
				t.Errorf("TWN policy lacks %s: %q", k, usr)
			}
		}
		if gcf := m.Expect("GCF 0 " + strconv.Itoa(len(`<Policies><Policy type="SHIELDS"><config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config></Policy></Policies>`))); !strings.Contains(gcf, `type="SHIELDS"`) {
			t.Errorf("GCF payload %q", gcf)
		}
		play(3)
		m.Expect("USR 4 OK alice@example.com 1 0")
		m.Expect("SBS 0 null")
		_, profile := m.WaitFor("MSG Hotmail Hotmail ", 5*time.Second)
		puid := alice.PUIDUnsigned()
		for _, want := range []string{"Content-Type: text/x-msmsgsprofile; charset=UTF-8\r\n",
			"MemberIdHigh: " + strconv.FormatUint(puid>>32, 10) + "\r\n",
			"MemberIdLow: " + strconv.FormatUint(uint64(uint32(puid)), 10) + "\r\n",
			"ClientIP: 127.0.0.1\r\n", "ABCHMigrated: 1\r\n", "MSPAuth: "} {
			if !strings.Contains(profile, want) {
				t.Errorf("profile lacks %q:\n%s", want, profile)
			}
		}
		// pidgin reads MSPAuth, sid, kv, ClientIP with msn_message_get_attr:
		// they must be MIME headers, before the empty line (the captured
		// 420-byte message ends with it).
		if head, _, _ := strings.Cut(profile, "\r\n\r\n"); !strings.Contains(head, "\r\nMSPAuth: ") || !strings.HasSuffix(profile, "\r\n\r\n") {
			t.Errorf("profile fields are not headers ending with an empty line:\n%q", profile)
		}
		mspauth := regexp.MustCompile(`MSPAuth: (\S+)\r\n`).FindStringSubmatch(profile)
		if mspauth == nil {
			t.Fatalf("no MSPAuth")
		}
		if _, err := e.S.Deps.Auth.Verify(t.Context(), mspauth[1], auth.AudMessenger); err != nil {
			t.Errorf("MSPAuth is not a ticket the contact services accept: %v", err)
		}
		_, mail := m.WaitFor("MSG Hotmail Hotmail ", 5*time.Second)
		if !strings.Contains(mail, "text/x-msmsgsinitialmdatanotification") {
			t.Errorf("mail data: %q", mail)
		}
		answers := []string{"BLP 5 AL", "ADL 6 OK", "PRP 7 MFN Alice", "CHG 8 NLN 1073741856", "UUX 9 0", "BLP 10 AL"}
		for i, want := range answers {
			play(4 + i)
			m.Expect(want)
		}
		play(10) // OUT
		m.Closed(5 * time.Second)
	})
}

// TestMSNP15Login signs in as pidgin 2.10.1 does: VER MSNP16 MSNP15 gets
// MSNP15, USR SSO with the MBI_KEY_OLD answer computed from the
// messengerclear proof key.
func TestMSNP15Login(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		sso := func(m *msnptest.Conn, good bool) {
			t.Helper()
			m.Send("VER 1 MSNP16 MSNP15 CVR0")
			m.Expect("VER 1 MSNP15")
			m.Send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 BC01 alice@example.com")
			m.WaitFor("CVR 2 ", 5*time.Second)
			m.Send("USR 3 SSO I alice@example.com")
			line, _ := m.WaitFor("USR 3 SSO S MBI_KEY_OLD ", 5*time.Second)
			nonce := strings.Fields(line)[5]
			tk := e.Ticket(alice, auth.AudMessengerClear)
			if !good {
				nonce += "x"
			}
			answer, err := auth.SSOResponse(tk.ProofKey, nonce, []byte("12345678"))
			if err != nil {
				t.Fatal(err)
			}
			m.Send("USR 4 SSO S " + tk.Text() + " " + answer)
		}
		t.Run("right answer signs in", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			sso(m, true)
			m.Expect("USR 4 OK alice@example.com 1 0")
			m.Expect("SBS 0 null")
			m.WaitFor("MSG Hotmail Hotmail ", 5*time.Second)
			m.Trid = 4
			m.Online("NLN")
		})
		t.Run("wrong answer is 911 and the connection closes", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			sso(m, false)
			m.Expect("911 4")
			m.Closed(5 * time.Second)
		})
	})
}

// TestLoginFailures covers sign-ins that must fail cleanly.
func TestLoginFailures(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		start := func(t *testing.T) *msnptest.Conn {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP14 MSNP13 CVR0")
			m.Expect("VER 1 MSNP13")
			m.Send("USR 2 TWN I alice@example.com")
			m.WaitFor("USR 2 TWN S ", 5*time.Second)
			m.WaitFor("GCF 0 ", 5*time.Second)
			return m
		}
		t.Run("no common version is VER 0 and close", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP7 MSNP14 CVR0")
			m.Expect("VER 1 0")
			m.Closed(5 * time.Second)
		})
		for name, ticket := range map[string]string{
			"another account's ticket is 911": e.Ticket(bob, auth.AudMessenger).Text(),
			"a tampered ticket is 911":        e.Ticket(alice, auth.AudMessenger).Text() + "x",
			"a contacts ticket is 911":        e.Ticket(alice, auth.AudContacts).Text(),
		} {
			t.Run(name, func(t *testing.T) {
				m := start(t)
				m.Send("USR 3 TWN S " + ticket)
				m.Expect("911 3 0")
				m.Closed(5 * time.Second)
			})
		}
		t.Run("commands before sign-in are 302", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP13 CVR0")
			m.Expect("VER 1 MSNP13")
			m.Send("CHG 2 NLN 0")
			m.Expect("302 2 0")
			m.SendPayload("ADL 3", `<ml l="1"></ml>`)
			m.Expect("302 3 0")
		})
	})
}

// TestServeWithoutNSKey: with ABCH_NS_KEY empty, abch serve gives its
// in-process NS a generated key, and clients can sign in.
func TestServeWithoutNSKey(t *testing.T) {
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.NSKey = ""
	e := msnptest.Start(t, cfg)
	if e.S.Config.NSKey == "" {
		t.Fatalf("no in-process key was generated")
	}
	m := msnptest.Dial(t, e.S.MSNPAddr)
	m.Login13(e, e.Account("alice@example.com", "Alice"))
	m.Online("NLN")
}
