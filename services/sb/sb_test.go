package sb_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns"
	"github.com/abch-im/abch/services/sb"
)

const soon = 5 * time.Second

// person is a signed-in test user: account and NS connection.
type person struct {
	e  *msnptest.Env
	a  *models.Account
	ns *msnptest.Conn
}

// on makes ms report to t (connections outlive the subtest that opened
// them; they close when the whole test ends).
func on(t *testing.T, ms ...*msnptest.Conn) {
	for _, m := range ms {
		if m != nil {
			m.T = t
		}
	}
}

// signIn signs a in to the NS at addr as pidgin 2.4.3 does and goes online
// with its FL contacts fl.
func signIn(e *msnptest.Env, addr string, a *models.Account, fl ...*models.Account) *person {
	e.T.Helper()
	return &person{e: e, a: a, ns: e.SignIn(addr, a, fl...)}
}

// friends creates Alice and Bob, mutual FL contacts that allow each other.
func friends(e *msnptest.Env) (alice, bob *models.Account) {
	alice = e.Account("alice@example.com", "Alice")
	bob = e.Account("bob@example.com", "Bob")
	e.Friends(alice, bob)
	return alice, bob
}

// pair starts abch with Alice and Bob (friends) both signed in to its NS.
func pair(t *testing.T, cfg config.Config) (e *msnptest.Env, pa, pb *person) {
	e = msnptest.Start(t, cfg)
	alice, bob := friends(e)
	return e, signIn(e, e.S.MSNPAddr, alice, bob), signIn(e, e.S.MSNPAddr, bob, alice)
}

var xfrRE = regexp.MustCompile(`^XFR (\d+) SB (\S+) CKI (\S+) U messenger\.msn\.com(?: 1)?$`)

// xfr asks p's NS for a switchboard and returns its address and cookie.
func (p *person) xfr(t *testing.T) (string, string) {
	t.Helper()
	on(t, p.ns)
	trid := p.ns.Next()
	p.ns.Send("XFR " + trid + " SB")
	line, _ := p.ns.WaitFor("XFR "+trid+" ", soon)
	f := xfrRE.FindStringSubmatch(line)
	if f == nil {
		t.Fatalf("XFR answer %q", line)
	}
	return f[2], f[3]
}

// open starts a conversation as p: XFR SB, then USR on the switchboard.
func (p *person) open(t *testing.T) *msnptest.Conn {
	t.Helper()
	addr, cookie := p.xfr(t)
	sb := p.e.Dial(t, addr)
	sb.Send("USR 1 " + p.a.Email + " " + cookie)
	sb.Expect("USR 1 OK " + p.a.Email + " " + nameOf(p.a))
	sb.Trid = 1
	return sb
}

func nameOf(a *models.Account) string { return strings.ReplaceAll(a.DisplayName, " ", "%20") }

var rngRE = regexp.MustCompile(`^RNG (\d+) (\S+) CKI (\S+) (\S+) (\S+) U messenger\.hotmail\.com$`)

// ring is an RNG as the invitee's NS delivered it.
type ring struct{ sessid, addr, cookie, from, name string }

// rang waits for an RNG on p's NS.
func (p *person) rang(t *testing.T) ring {
	t.Helper()
	on(t, p.ns)
	line, _ := p.ns.WaitFor("RNG ", soon)
	f := rngRE.FindStringSubmatch(line)
	if f == nil {
		t.Fatalf("RNG %q", line)
	}
	return ring{f[1], f[2], f[3], f[4], f[5]}
}

// call invites who into sb's conversation and returns the session id.
func call(t *testing.T, sb *msnptest.Conn, who *person) string {
	t.Helper()
	on(t, sb)
	trid := sb.Next()
	sb.Send("CAL " + trid + " " + who.a.Email)
	line, _ := sb.WaitFor("CAL "+trid+" ", soon)
	f := strings.Fields(line)
	if len(f) != 4 || f[2] != "RINGING" {
		t.Fatalf("CAL answer %q", line)
	}
	return f[3]
}

// answer joins p to the conversation r names and returns the IRO lines.
func (p *person) answer(t *testing.T, r ring) (*msnptest.Conn, []string) {
	t.Helper()
	sb := p.e.Dial(t, r.addr)
	sb.Send("ANS 1 " + p.a.Email + " " + r.cookie + " " + r.sessid)
	var iro []string
	for {
		line, _, err := sb.Read(soon)
		if err != nil {
			t.Fatalf("ANS: %v (IRO %q)", err, iro)
		}
		if line == "ANS 1 OK" {
			break
		}
		if !strings.HasPrefix(line, "IRO 1 ") {
			t.Fatalf("ANS answer %q", line)
		}
		iro = append(iro, line)
	}
	sb.Trid = 1
	return sb, iro
}

// join has sb's conversation call p, and p answer.
func join(t *testing.T, sb *msnptest.Conn, p *person) *msnptest.Conn {
	t.Helper()
	sessid := call(t, sb, p)
	r := p.rang(t)
	if r.sessid != sessid {
		t.Fatalf("RNG session %s, CAL said %s", r.sessid, sessid)
	}
	c, _ := p.answer(t, r)
	return c
}

const (
	textMsg   = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=0\r\n\r\nhello, w\u00f6rld"
	typingMsg = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: %s\r\n\r\n\r\n"
	nudgeMsg  = "MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n"
	inkMsg    = "MIME-Version: 1.0\r\nContent-Type: image/gif\r\n\r\nbase64:R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs="
)

// p2pMsg is an MSNSLP message: MIME headers, the 48-byte binary header
// (NULs, CR LF and high bytes included) and the 4-byte footer.
func p2pMsg(to string) string {
	bin := make([]byte, 48)
	for i := range bin {
		bin[i] = byte(i * 37)
	}
	bin[10], bin[11], bin[12] = '\r', '\n', 0
	return "MIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\nP2P-Dest: " + to + "\r\n\r\n" +
		string(bin) + "INVITE MSNMSGR:" + to + " MSNSLP/1.0\r\n\r\n\x00" + "\x00\x00\x00\x01"
}

// relay sends payload from one participant with ack mode and checks that
// each of to receives it byte for byte from the sender.
func relay(t *testing.T, from *msnptest.Conn, fromP *person, ack, payload string, to ...*msnptest.Conn) string {
	t.Helper()
	on(t, from)
	on(t, to...)
	trid := from.Next()
	from.SendPayload("MSG "+trid+" "+ack, payload)
	for _, r := range to {
		line, got := r.WaitFor("MSG ", soon)
		want := "MSG " + fromP.a.Email + " " + nameOf(fromP.a) + " " + strconv.Itoa(len(payload))
		if line != want || got != payload {
			t.Fatalf("relayed %q %q, want %q %q", line, got, want, payload)
		}
	}
	return trid
}

func TestConversation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		e.Friends(alice, bob)
		e.Friends(alice, carol)
		e.Friends(bob, carol)
		nsAddr := e.S.MSNPAddr
		pa := signIn(e, nsAddr, alice, bob, carol)
		pb := signIn(e, nsAddr, bob, alice, carol)
		pc := signIn(e, nsAddr, carol, alice, bob)
		sa := pa.open(t)
		var sb, sc *msnptest.Conn

		t.Run("XFR SB names the switchboard with the MSNP13 parameters", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			addr, cookie := pa.xfr(t)
			if addr != e.S.NS.SBAddr || cookie == "" {
				t.Fatalf("XFR SB %s %s, switchboard on %s", addr, cookie, e.S.NS.SBAddr)
			}
		})

		t.Run("CAL rings the invitee, who joins with IRO and the caller gets JOI", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			sessid := call(t, sa, pb)
			r := pb.rang(t)
			if r.sessid != sessid || r.addr != e.S.NS.SBAddr || r.from != alice.Email || r.name != "Alice%20A" {
				t.Fatalf("RNG %+v (session %s)", r, sessid)
			}
			var iro []string
			sb, iro = pb.answer(t, r)
			if len(iro) != 1 || iro[0] != "IRO 1 1 1 alice@example.com Alice%20A 1073741856" {
				t.Fatalf("IRO %q", iro)
			}
			sa.Expect("JOI bob@example.com Bob 1073741856")
		})
		t.Run("text messages go both ways with ACK", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			trid := relay(t, sa, pa, "A", textMsg, sb)
			sa.Expect("ACK " + trid)
			trid = relay(t, sb, pb, "A", textMsg+" back", sa)
			sb.Expect("ACK " + trid)
		})
		t.Run("typing notices, nudges and ink are relayed byte for byte without acknowledgement", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			relay(t, sa, pa, "U", strings.Replace(typingMsg, "%s", alice.Email, 1), sb)
			relay(t, sb, pb, "N", nudgeMsg, sa)
			relay(t, sa, pa, "N", inkMsg, sb)
			sa.Quiet("ACK", 200*time.Millisecond)
			sb.Quiet("ACK", 100*time.Millisecond)
		})
		t.Run("P2P data is relayed byte for byte and acknowledged", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			trid := relay(t, sa, pa, "D", p2pMsg(bob.Email), sb)
			sa.Expect("ACK " + trid)
			trid = relay(t, sb, pb, "D", p2pMsg(alice.Email), sa)
			sb.Expect("ACK " + trid)
		})
		t.Run("a message of exactly 1664 bytes is relayed", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			big := textMsg + strings.Repeat("x", 1664-len(textMsg))
			trid := relay(t, sa, pa, "A", big, sb)
			sa.Expect("ACK " + trid)
		})
		t.Run("a third user joins: IRO lists both, both get JOI", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			sessid := call(t, sb, pc)
			r := pc.rang(t)
			if r.sessid != sessid || r.from != bob.Email {
				t.Fatalf("RNG %+v", r)
			}
			var iro []string
			sc, iro = pc.answer(t, r)
			want := []string{"IRO 1 1 2 alice@example.com Alice%20A 1073741856", "IRO 1 2 2 bob@example.com Bob 1073741856"}
			if strings.Join(iro, "|") != strings.Join(want, "|") {
				t.Fatalf("IRO %q, want %q", iro, want)
			}
			sa.Expect("JOI carol@example.com Carol 1073741856")
			sb.Expect("JOI carol@example.com Carol 1073741856")
			trid := relay(t, sc, pc, "A", textMsg, sa, sb)
			sc.Expect("ACK " + trid)
		})
		t.Run("calling someone already there is 215", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			sa.Send("CAL 40 bob@example.com")
			sa.Expect("215 40 0")
			sa.Send("CAL 41 alice@example.com")
			sa.Expect("215 41 0")
		})
		t.Run("OUT sends BYE to the others", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			sb.Send("OUT")
			sb.Closed(soon)
			sa.Expect("BYE bob@example.com")
			sc.Expect("BYE bob@example.com")
		})
		t.Run("a dropped connection sends BYE; alone, A and N get NAK and U nothing", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			sc.C.Close()
			sa.Expect("BYE carol@example.com")
			trid := sa.Next()
			sa.SendPayload("MSG "+trid+" A", textMsg)
			sa.Expect("NAK " + trid)
			trid = sa.Next()
			sa.SendPayload("MSG "+trid+" N", textMsg)
			sa.Expect("NAK " + trid)
			sa.SendPayload("MSG "+sa.Next()+" U", textMsg)
			sa.Quiet("NAK", 200*time.Millisecond)
		})
		t.Run("signing out of the NS ends the user's switchboards", func(t *testing.T) {
			on(t, sa, sb, sc, pa.ns, pb.ns, pc.ns)
			s2 := pa.open(t)
			s2b := join(t, s2, pb)
			s2.Expect("JOI bob@example.com Bob 1073741856")
			pb.ns.Send("OUT")
			pb.ns.Closed(soon)
			s2.Expect("BYE bob@example.com")
			s2b.Closed(soon)
		})
	})
}

// cookie makes an XFR SB cookie as the NS does (docs/sb.md), for expiry
// tests.
func cookie(key, sbAddr, email string, cid int64, exp time.Time, nonce string) string {
	k := sha256.Sum256([]byte("abch sb cookie\x00" + key))
	id, e := strconv.FormatInt(cid, 10), strconv.FormatInt(exp.Unix(), 10)
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte("xfr\x00" + sbAddr + "\x00" + strings.ToLower(email) + "\x00" + id + "\x00" + e + "\x00" + nonce))
	return id + "." + e + "." + nonce + "." + hex.EncodeToString(mac.Sum(nil)[:16])
}

func TestCookies(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e, pa, pb := pair(t, cfg)
		alice := pa.a
		refused := func(t *testing.T, line string) {
			t.Helper()
			c := msnptest.Dial(t, e.S.NS.SBAddr)
			c.Send(line)
			c.Expect("911 1 0")
			c.Closed(soon)
		}

		t.Run("an XFR cookie works once", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			addr, ck := pa.xfr(t)
			c := msnptest.Dial(t, addr)
			c.Send("USR 1 alice@example.com " + ck)
			c.Expect("USR 1 OK alice@example.com Alice")
			refused(t, "USR 1 alice@example.com "+ck)
		})
		t.Run("another user's cookie is refused", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			_, ck := pa.xfr(t)
			refused(t, "USR 1 bob@example.com "+ck)
		})
		t.Run("a forged, malformed or expired cookie is refused", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			refused(t, "USR 1 alice@example.com 1.2.3.4")
			refused(t, "USR 1 alice@example.com nonsense")
			refused(t, "USR 1 alice@example.com "+cookie("wrong key", e.S.NS.SBAddr, alice.Email, alice.CID, time.Now().Add(time.Minute), "0123456789abcdef"))
			refused(t, "USR 1 alice@example.com "+cookie(cfg.NSKey, e.S.NS.SBAddr, alice.Email, alice.CID, time.Now().Add(-time.Second), "0123456789abcdef"))
			good := cookie(cfg.NSKey, e.S.NS.SBAddr, alice.Email, alice.CID, time.Now().Add(time.Minute), "0123456789abcdee")
			c := msnptest.Dial(t, e.S.NS.SBAddr)
			c.Send("USR 1 alice@example.com " + good)
			c.Expect("USR 1 OK alice@example.com Alice")
		})
		t.Run("a cookie of a user not signed in is refused", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			carol := e.Account("carol@example.com", "Carol")
			refused(t, "USR 1 carol@example.com "+cookie(cfg.NSKey, e.S.NS.SBAddr, carol.Email, carol.CID, time.Now().Add(time.Minute), "0123456789abcded"))
		})
		t.Run("an RNG cookie works once, for the invitee and its session only", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			sa := pa.open(t)
			call(t, sa, pb)
			r := pb.rang(t)
			refused(t, "ANS 1 alice@example.com "+r.cookie+" "+r.sessid)
			refused(t, "ANS 1 bob@example.com "+r.cookie+" 1"+r.sessid)
			refused(t, "ANS 1 bob@example.com 1.2.3 "+r.sessid)
			// The refusals above did not spend it: the right ANS works once.
			_, iro := pb.answer(t, r)
			if len(iro) != 1 {
				t.Fatalf("IRO %q", iro)
			}
			refused(t, "ANS 1 bob@example.com "+r.cookie+" "+r.sessid)
		})
	})
}

func TestCallRefused(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		dave := e.Account("dave@example.com", "Dave")
		e.Friends(alice, bob)
		e.Friends(alice, carol)
		e.Friends(alice, dave)
		pa := signIn(e, e.S.MSNPAddr, alice, bob, carol, dave)
		pb := signIn(e, e.S.MSNPAddr, bob, alice)
		pc := signIn(e, e.S.MSNPAddr, carol, alice)
		sa := pa.open(t)

		cal := func(t *testing.T, email, want string) {
			t.Helper()
			trid := sa.Next()
			sa.Send("CAL " + trid + " " + email)
			sa.Expect(strings.ReplaceAll(want, "#", trid))
		}
		t.Run("an offline user is 217", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			cal(t, dave.Email, "217 # 0")
		})
		t.Run("an unknown address is 217 and a bad one 208", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			cal(t, "nobody@example.com", "217 # 0")
			cal(t, "not-an-address", "208 # 0")
			cal(t, "a@b@c", "208 # 0")
		})
		t.Run("a hidden user is 217 until they show again", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			pb.ns.Send("CHG 50 HDN 1073741856")
			pb.ns.WaitFor("CHG 50 HDN", soon)
			cal(t, bob.Email, "217 # 0")
			pb.ns.Quiet("RNG", 100*time.Millisecond)
			pb.ns.Send("CHG 51 NLN 1073741856")
			pb.ns.WaitFor("CHG 51 NLN", soon)
			sessid := call(t, sa, pb)
			if r := pb.rang(t); r.sessid != sessid {
				t.Fatalf("RNG %+v", r)
			}
		})
		t.Run("a hidden user cannot ask for a switchboard (913)", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			pc.ns.Send("CHG 60 HDN 1073741856")
			pc.ns.WaitFor("CHG 60 HDN", soon)
			pc.ns.Send("XFR 61 SB")
			pc.ns.WaitFor("913 61", soon)
			pc.ns.Send("CHG 62 NLN 1073741856")
			pc.ns.WaitFor("CHG 62 NLN", soon)
		})
		t.Run("IMS OFF gets no RNG and no switchboard; IMS ON restores both", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			pc.ns.Send("IMS 70 OFF")
			pc.ns.WaitFor("IMS 70 0 OFF", soon)
			cal(t, carol.Email, "217 # 0")
			pc.ns.Send("XFR 71 SB")
			pc.ns.WaitFor("502 71", soon)
			pc.ns.Send("IMS 72 ON")
			pc.ns.WaitFor("IMS 72 0 ON", soon)
			call(t, sa, pc)
			pc.rang(t)
			pc.ns.Send("IMS 73 MAYBE")
			pc.ns.WaitFor("201 73", soon)
		})
		t.Run("a user blocking the caller is 217", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			s2 := pa.open(t)
			e.Member(bob, "DeleteMember", "Allow", alice.Email)
			e.Member(bob, "AddMember", "Block", alice.Email)
			pa.ns.WaitFor("FLN bob@example.com", soon)
			trid := s2.Next()
			s2.Send("CAL " + trid + " " + bob.Email)
			s2.Expect("217 " + trid + " 0")
			pb.ns.Quiet("RNG", 100*time.Millisecond)
		})
		t.Run("a caller who is no contact may call a user with BLP AL, not one with BLP BL", func(t *testing.T) {
			on(t, sa, pa.ns, pb.ns, pc.ns)
			erin := e.Account("erin@example.com", "Erin")
			pe := signIn(e, e.S.MSNPAddr, erin)
			se := pe.open(t)
			call(t, se, pc)
			pc.rang(t)
			pc.ns.Send("BLP 80 BL")
			pc.ns.WaitFor("BLP 80 BL", soon)
			se2 := pe.open(t)
			trid := se2.Next()
			se2.Send("CAL " + trid + " " + carol.Email)
			se2.Expect("217 " + trid + " 0")
		})
	})
}

func TestBadInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e, pa, pb := pair(t, cfg)
		sa := pa.open(t)
		sb := join(t, sa, pb)
		sa.Expect("JOI bob@example.com Bob 1073741856")
		// still checks the conversation of sa and sb is untouched.
		still := func(t *testing.T) {
			t.Helper()
			trid := relay(t, sb, pb, "A", textMsg, sa)
			sb.Expect("ACK " + trid)
		}

		t.Run("commands before USR/ANS are 302, unknown ones 200", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := msnptest.Dial(t, e.S.NS.SBAddr)
			c.SendPayload("MSG 1 A", textMsg)
			c.Expect("302 1 0")
			c.Send("CAL 2 bob@example.com")
			c.Expect("302 2 0")
			c.Send("FOO 3")
			c.Expect("200 3 0")
			still(t)
		})
		t.Run("unknown commands after USR are 200", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := pa.open(t)
			c.Send("FOO 5 bar")
			c.Expect("200 5 0")
			c.Send("USR 6 alice@example.com x")
			c.Expect("207 6 0")
		})
		t.Run("an oversized MSG is 201 and closes the connection", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := pa.open(t)
			c.SendPayload("MSG 7 A", textMsg+strings.Repeat("x", 1665-len(textMsg)))
			c.Expect("201 7 0")
			c.Closed(soon)
			still(t)
		})
		t.Run("a bad payload length is 200 and closes the connection", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := pa.open(t)
			c.Send("MSG 8 A twelve")
			c.Expect("200 8 0")
			c.Closed(soon)
		})
		t.Run("an unknown acknowledgement mode closes the connection", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := pa.open(t)
			c.SendPayload("MSG 9 X", textMsg)
			c.Closed(soon)
			still(t)
		})
		t.Run("a D message without MIME headers is 282", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			sa.SendPayload("MSG 10 D", "no headers at all")
			sa.Expect("282 10 0")
			still(t)
		})
		t.Run("an overlong line closes the connection", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := msnptest.Dial(t, e.S.NS.SBAddr)
			c.Raw("USR 1 " + strings.Repeat("a", 5000) + "\r\n")
			c.Closed(soon)
			still(t)
		})
		t.Run("a payload shorter than announced leaves the others alone", func(t *testing.T) {
			on(t, sa, sb, pa.ns, pb.ns)
			c := pa.open(t)
			c.Raw("MSG 11 A 500\r\nshort")
			c.C.Close()
			still(t)
		})
	})
}

// TestRingAcrossNS calls a user signed in to another NS process (its own
// NATS connection): the RNG travels over NATS.
func TestRingAcrossNS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice, bob := friends(e)
		nc, err := nats.Connect(e.S.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		other := ns.New(ns.Config{API: nsclient.New("http://"+e.S.NSAddr, cfg.NSKey), NATS: nc, Log: testenv.Logger(t)})
		addr, err := other.ListenAndServe("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = other.Shutdown(ctx)
			nc.Close()
		})
		pa := signIn(e, e.S.MSNPAddr, alice, bob)
		pb := signIn(e, addr.String(), bob, alice)
		sa := pa.open(t)
		sb := join(t, sa, pb)
		sa.Expect("JOI bob@example.com Bob 1073741856")
		trid := relay(t, sa, pa, "A", textMsg, sb)
		sa.Expect("ACK " + trid)
		pb.ns.Send("OUT")
		sa.Expect("BYE bob@example.com")
	})
}

// TestMSNP15 checks what changes for an MSNP15 client (pidgin 2.10.1):
// the direct-connect flag after XFR SB and RNG, and error lines without
// the trailing 0, while an MSNP13 participant keeps its forms.
func TestMSNP15(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice, bob := friends(e)
		m := msnptest.Dial(t, e.S.MSNPAddr)
		m.Login15(e, alice)
		m.Online("NLN", bob)
		pa := &person{e: e, a: alice, ns: m}
		pb := signIn(e, e.S.MSNPAddr, bob, alice)
		m2 := msnptest.Dial(t, e.S.MSNPAddr)
		carol := e.Account("carol@example.com", "Carol")
		e.Friends(carol, alice)
		m2.Login15(e, carol)
		m2.Online("NLN", alice)
		pc := &person{e: e, a: carol, ns: m2}

		pa.ns.Send("XFR 20 SB")
		line, _ := pa.ns.WaitFor("XFR 20 ", soon)
		if f := strings.Fields(line); len(f) != 9 || f[3] != e.S.NS.SBAddr || f[6] != "U" || f[7] != "messenger.msn.com" || f[8] != "1" {
			t.Fatalf("MSNP15 XFR %q", line)
		}
		sa := pa.open(t)
		sa.Send("CAL 2 nobody@example.com")
		sa.Expect("217 2")
		call(t, sa, pb)
		if r := pb.rang(t); r.from != alice.Email {
			t.Fatalf("RNG %+v", r)
		}
		trid := sa.Next()
		sa.Send("CAL " + trid + " " + carol.Email)
		sa.WaitFor("CAL "+trid+" RINGING ", soon)
		line, _ = pc.ns.WaitFor("RNG ", soon)
		if !strings.HasSuffix(line, " alice@example.com Alice U messenger.hotmail.com 1") {
			t.Fatalf("MSNP15 RNG %q", line)
		}
	})
}

// TestIdleAndSecondSwitchboard runs a second switchboard process-alike
// (own NATS connection, short idle timeout) beside abch's: a cookie made
// for one switchboard is refused by the other, and an idle participant is
// ended with "BYE email 1" to the others.
func TestIdleAndSecondSwitchboard(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice, bob := friends(e)
		nc, err := nats.Connect(e.S.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		sw, err := sb.New(sb.Config{API: nsclient.New("http://"+e.S.NSAddr, cfg.NSKey), NATS: nc,
			IdleTimeout: 2 * time.Second, InviteTimeout: 300 * time.Millisecond, Log: testenv.Logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		bound, err := sw.ListenAndServe("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := bound.String()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = sw.Shutdown(ctx)
		})
		pa := signIn(e, e.S.MSNPAddr, alice, bob)
		pb := signIn(e, e.S.MSNPAddr, bob, alice)

		t.Run("a cookie for the other switchboard is refused", func(t *testing.T) {
			on(t, pa.ns)
			_, ck := pa.xfr(t)
			c := msnptest.Dial(t, addr)
			c.Send("USR 1 alice@example.com " + ck)
			c.Expect("911 1 0")
			c.Closed(soon)
		})
		t.Run("an unanswered call lapses: its cookie is refused and the user may be called again", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			sa := msnptest.Dial(t, addr)
			sa.Send("USR 1 alice@example.com " + cookie(cfg.NSKey, addr, alice.Email, alice.CID, time.Now().Add(time.Minute), "00000000000000ab"))
			sa.Expect("USR 1 OK alice@example.com Alice")
			sa.Trid = 1
			call(t, sa, pb)
			old := pb.rang(t)
			sa.Send("CAL 9 bob@example.com")
			sa.Expect("215 9 0")
			stop := keepTalking(sa)
			defer stop()
			time.Sleep(time.Second) // the call lapses after 300 ms
			c := msnptest.Dial(t, addr)
			c.Send("ANS 1 bob@example.com " + old.cookie + " " + old.sessid)
			c.Expect("911 1 0")
			call(t, sa, pb)
			pb.rang(t)
		})
		t.Run("an idle participant gets BYE with the idle flag to the others", func(t *testing.T) {
			on(t, pa.ns, pb.ns)
			sa := msnptest.Dial(t, addr)
			sa.Send("USR 1 alice@example.com " + cookie(cfg.NSKey, addr, alice.Email, alice.CID, time.Now().Add(time.Minute), "00000000000000aa"))
			sa.Expect("USR 1 OK alice@example.com Alice")
			sa.Trid = 1
			sessid := call(t, sa, pb)
			r := pb.rang(t)
			if r.addr != addr || r.sessid != sessid {
				t.Fatalf("RNG %+v", r)
			}
			bobSB, _ := pb.answer(t, r)
			sa.Expect("JOI bob@example.com Bob 1073741856")
			// Alice keeps talking; Bob says nothing and is ended.
			stop := keepTalking(sa)
			defer stop()
			sa.WaitFor("BYE bob@example.com 1", 10*time.Second)
			bobSB.Closed(soon)
		})
	})
}

// keepTalking sends an unacknowledged message from m every 200 ms until
// stop is called, so m never goes idle however slowly the test runs (each
// message is one write, so it never splits a command the test sends).
func keepTalking(m *msnptest.Conn) (stop func()) {
	msg := []byte("MSG 999 U " + strconv.Itoa(len(textMsg)) + "\r\n" + textMsg)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := m.C.Write(msg); err != nil {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); <-finished }) }
}
