package ns_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns"
	"github.com/abch-im/abch/services/ns/msnp"
)

// nsChallengeConfig is an NS that challenges each session right after
// sign-in.
func nsChallengeConfig() ns.Config { return ns.Config{ChallengeAfter: 50 * time.Millisecond} }

// legacyClient is how a SYN-era client opens its session: the versions it
// offers and the CVR it sends (pidgin 2.2.2 for MSNP9, notification.c;
// the MSN Messenger builds of yellows111's msnp-wiki version pages).
type legacyClient struct {
	ver    int
	offer  string
	client string // client version in CVR
}

var legacyClients = []legacyClient{
	{8, "MSNP8 CVR0", "5.0.0537"},
	{9, "MSNP9 MSNP8 CVR0", "6.0.0602"},
	{10, "MSNP10 MSNP9 CVR0", "6.2.0208"},
	{11, "MSNP11 MSNP10 MSNP9 CVR0", "7.0.0816"},
	{12, "MSNP12 MSNP11 MSNP10 CVR0", "7.5.0324"},
}

func clientFor(t *testing.T, ver int) legacyClient {
	for _, c := range legacyClients {
		if c.ver == ver {
			return c
		}
	}
	t.Fatalf("no client for MSNP%d", ver)
	return legacyClient{}
}

// twnRE is the USR TWN S policy (msnp.TWNChallenge) with its variable parts.
var twnRE = regexp.MustCompile(`^USR 3 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=(\d+),kpp=1,kv=7,ver=2\.1\.6000\.1,rn=[A-Za-z0-9]{8},tpf=[0-9a-f]{32}$`)

// profileRE finds the variable fields of a profile MSG.
var profileRE = regexp.MustCompile(`(?m)^(LoginTime|MSPAuth|ClientPort): ([^\r]*)\r$`)

// loginLegacy signs a in with the SYN-era client of version ver on addr
// and checks every server line byte for byte up to the initial e-mail
// notification; the next trid is 5.
func loginLegacy(t *testing.T, e *msnptest.Env, addr string, a *models.Account, ver int) *msnptest.Conn {
	t.Helper()
	cl := clientFor(t, ver)
	m := msnptest.Dial(t, addr)
	m.Send("VER 1 " + cl.offer)
	m.Expect("VER 1 MSNP" + strconv.Itoa(ver))
	m.Send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR " + cl.client + " MSMSGS " + a.Email)
	m.Expect("CVR 2 " + cl.client + " " + cl.client + " " + cl.client + " http://msgr.dlservice.microsoft.com http://messenger.msn.com")
	m.Send("USR 3 TWN I " + a.Email)
	line, twnPayload, err := m.Read(5 * time.Second)
	if err != nil || twnPayload != "" {
		t.Fatalf("TWN policy %q %q: %v", line, twnPayload, err)
	}
	sm := twnRE.FindStringSubmatch(line)
	if sm == nil {
		t.Fatalf("TWN policy %q", line)
	}
	if ct, _ := strconv.ParseInt(sm[1], 10, 64); ct < time.Now().Add(-time.Minute).Unix() || ct > time.Now().Add(time.Minute).Unix() {
		t.Errorf("ct=%s is not now", sm[1])
	}
	m.Send("USR 4 TWN S " + e.Ticket(a, auth.AudMessenger).Text())
	if ver <= 9 {
		m.Expect("USR 4 OK " + a.Email + " " + msnp.URLEncodeName(a.DisplayName) + " 1 0")
	} else {
		m.Expect("USR 4 OK " + a.Email + " 1 0")
	}
	line, profile, err := m.Read(5 * time.Second)
	if err != nil || line != "MSG Hotmail Hotmail "+strconv.Itoa(len(profile)) {
		t.Fatalf("profile MSG %q: %v", line, err)
	}
	checkProfile(t, m, a, ver, profile)
	if p := m.Expect("MSG Hotmail Hotmail " + strconv.Itoa(len(initialEmail))); p != initialEmail {
		t.Fatalf("initial e-mail notification %q", p)
	}
	m.Trid = 4
	return m
}

// wantProfile is the profile MSG of a for version ver with the given
// LoginTime, MSPAuth and ClientPort.
func wantProfile(a *models.Account, ver int, login, mspauth, port string) string {
	puid := a.PUIDUnsigned()
	p := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nLoginTime: " + login +
		"\r\nEmailEnabled: 0\r\nMemberIdHigh: " + strconv.FormatUint(puid>>32, 10) +
		"\r\nMemberIdLow: " + strconv.FormatUint(uint64(uint32(puid)), 10) +
		"\r\nlang_preference: 1033\r\npreferredEmail: \r\ncountry: \r\nPostalCode: \r\nGender: \r\nKid: 0\r\nAge: \r\nBDayPre: \r\nBirthday: \r\nWallet: \r\nFlags: 536872513\r\nsid: 507\r\nMSPAuth: " + mspauth +
		"\r\nClientIP: 127.0.0.1\r\nClientPort: " + port + "\r\n"
	if ver >= 10 {
		p += "ABCHMigrated: 1\r\n"
	}
	return p + "\r\n"
}

// checkProfile compares a profile MSG with wantProfile, taking the
// variable fields from it after checking them: LoginTime now, MSPAuth a
// ticket, ClientPort the client's port.
func checkProfile(t *testing.T, m *msnptest.Conn, a *models.Account, ver int, got string) {
	t.Helper()
	vals := map[string]string{}
	for _, sm := range profileRE.FindAllStringSubmatch(got, -1) {
		vals[sm[1]] = sm[2]
	}
	if lt, _ := strconv.ParseInt(vals["LoginTime"], 10, 64); lt < time.Now().Add(-time.Minute).Unix() || lt > time.Now().Add(time.Minute).Unix() {
		t.Errorf("LoginTime %q", vals["LoginTime"])
	}
	if !strings.HasPrefix(vals["MSPAuth"], "t=") && len(vals["MSPAuth"]) < 16 {
		t.Errorf("MSPAuth %q", vals["MSPAuth"])
	}
	_, port, _ := strings.Cut(m.C.LocalAddr().String(), ":")
	if vals["ClientPort"] != port {
		t.Errorf("ClientPort %q, client port %s", vals["ClientPort"], port)
	}
	if want := wantProfile(a, ver, vals["LoginTime"], vals["MSPAuth"], vals["ClientPort"]); got != want {
		t.Errorf("profile MSNP%d:\n%q\nwant\n%q", ver, got, want)
	}
}

// initialEmail is the initial e-mail notification of MSNP8–12.
const initialEmail = "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialemailnotification; charset=UTF-8\r\n\r\nInbox-Unread: 0\r\nFolders-Unread: 0\r\nInbox-URL: /cgi-bin/HoTMaiL\r\nFolders-URL: /cgi-bin/folders\r\nPost-URL: http://www.hotmail.com\r\n"

// synVersion sends the version's first SYN ("SYN 5 0" / "SYN 5 0 0") and
// returns the version(s) of the answer's first line after checking its
// counts.
func synFull(t *testing.T, m *msnptest.Conn, ver, contacts, groups int) []string {
	t.Helper()
	trid := m.Next()
	if ver <= 9 {
		m.Send("SYN " + trid + " 0")
	} else {
		m.Send("SYN " + trid + " 0 0")
	}
	// Events of the test's set-up may still be relayed to the new session
	// (ADD 0 RL … once the list commands translate them): skip them.
	line, _ := m.WaitFor("SYN "+trid+" ", 5*time.Second)
	f := strings.Fields(line)
	n := 6 // SYN trid ts ts contacts groups
	if ver <= 9 {
		n = 5 // SYN trid ver contacts groups
	}
	if len(f) != n || f[0] != "SYN" || f[1] != trid || f[n-2] != strconv.Itoa(contacts) || f[n-1] != strconv.Itoa(groups) {
		t.Fatalf("SYN answer %q, want %d contacts and %d groups", line, contacts, groups)
	}
	if ver <= 9 {
		if v, err := strconv.Atoi(f[2]); err != nil || v < 1 {
			t.Fatalf("SYN version %q", f[2])
		}
	} else if f[2] != f[3] || f[2] == "" {
		t.Fatalf("SYN timestamps %q", line)
	}
	return f[2 : n-2]
}

// TestLegacyLogin signs in an MSNP8, 9, 10, 11 and 12 client as each
// does, with the exact line each gets, and finishes sign-in with SYN and
// CHG on an account without contacts.
func TestLegacyLogin(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		for _, cl := range legacyClients {
			t.Run("MSNP"+strconv.Itoa(cl.ver), func(t *testing.T) {
				a := e.Account("alice"+strconv.Itoa(cl.ver)+"@example.com", "Alice Liddell")
				m := loginLegacy(t, e, e.S.MSNPAddr, a, cl.ver)
				synFull(t, m, cl.ver, 0, map[bool]int{true: 1, false: 0}[cl.ver <= 9])
				m.Expect("GTC A")
				m.Expect("BLP AL")
				if cl.ver <= 9 {
					// pidgin 2.2.2 finishes sign-in at LSG 0 when there are no contacts.
					m.Expect("LSG 0 Other%20Contacts 0")
				} else {
					m.Expect("PRP MFN Alice%20Liddell")
				}
				m.Send("CHG 6 NLN 0")
				exactly(t, m, "CHG 6 NLN 0")
				m.Send("PNG")
				if cl.ver == 8 {
					m.Expect("QNG") // the interval came with MSNP9
				} else {
					m.Expect("QNG 60")
				}
			})
		}
		t.Run("an account without a display name signs in MSNP9 with its address as the name", func(t *testing.T) {
			a := e.Account("noname@example.com", "")
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP9 MSNP8 CVR0")
			m.Expect("VER 1 MSNP9")
			m.Send("USR 3 TWN I " + a.Email)
			m.WaitFor("USR 3 TWN S ", 5*time.Second)
			m.Send("USR 4 TWN S " + e.Ticket(a, auth.AudMessenger).Text())
			m.Expect("USR 4 OK noname@example.com noname%40example.com 1 0")
		})
		t.Run("a client whose CVR names no readable version gets its protocol's first client", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP8 CVR0")
			m.Expect("VER 1 MSNP8")
			m.Send("CVR 2 0x0409 win 4.10 i386 MSNMSGR x.y MSMSGS a@example.com")
			m.Expect("CVR 2 5.0.0537 5.0.0537 5.0.0537 http://msgr.dlservice.microsoft.com http://messenger.msn.com")
		})
		t.Run("a dispatch server sends MSNP9 on with the MSNP8-12 XFR NS form", func(t *testing.T) {
			_, disp := extraNS(t, e, ns.Config{Redirect: []string{"10.0.0.5:1863"}}, "")
			m := msnptest.Dial(t, disp)
			m.Send("VER 1 MSNP9 MSNP8 CVR0")
			m.Expect("VER 1 MSNP9")
			m.Send("USR 2 TWN I alice9@example.com")
			m.Expect("XFR 2 NS 10.0.0.5:1863 0 " + disp)
			m.Closed(5 * time.Second)
		})
		t.Run("USR SSO is refused before MSNP15", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP12 CVR0")
			m.Expect("VER 1 MSNP12")
			m.Send("USR 2 SSO I alice9@example.com")
			m.Expect("911 2")
			m.Closed(5 * time.Second)
		})
		t.Run("a wrong ticket is 911 without a trailing 0", func(t *testing.T) {
			a := e.Account("wrong@example.com", "W")
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP9 MSNP8 CVR0")
			m.Expect("VER 1 MSNP9")
			m.Send("USR 2 TWN I " + a.Email)
			m.WaitFor("USR 2 TWN S ", 5*time.Second)
			m.Send("USR 3 TWN S " + e.Ticket(a, auth.AudMessenger).Text() + "x")
			m.Expect("911 3")
			m.Closed(5 * time.Second)
		})
		t.Run("list commands exist for MSNP8-12 before sign-in: 302, not a disconnect", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP9 CVR0")
			m.Expect("VER 1 MSNP9")
			m.Send("SYN 2 0")
			m.Expect("302 2")
		})
		t.Run("an MSNP13 session is still disconnected by SYN", func(t *testing.T) {
			m := msnptest.Dial(t, e.S.MSNPAddr)
			m.Send("VER 1 MSNP13 CVR0")
			m.Expect("VER 1 MSNP13")
			m.Send("SYN 2 0 0")
			m.Closed(5 * time.Second)
		})
	})
}

// abGroup creates a group in owner's address book and returns its GUID.
func abGroup(e *msnptest.Env, owner *models.Account, name string) string {
	e.T.Helper()
	out := e.SOAP(owner, "abservice.asmx", "ABGroupAdd", `<abId>00000000-0000-0000-0000-000000000000</abId><groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>`+name+`</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType><fMessenger>false</fMessenger><annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value></Annotation></annotations></GroupInfo></groupInfo>`)
	m := regexp.MustCompile(`<guid>([^<]+)</guid>`).FindStringSubmatch(out)
	if m == nil {
		e.T.Fatalf("ABGroupAdd: %s", out)
	}
	return m[1]
}

// abGroupContact puts target (added by passport name) into owner's group.
func abGroupContact(e *msnptest.Env, owner, target *models.Account, group string) {
	e.T.Helper()
	e.SOAP(owner, "abservice.asmx", "ABGroupContactAdd", `<abId>00000000-0000-0000-0000-000000000000</abId><groupFilter><groupIds><guid>`+group+`</guid></groupIds></groupFilter><contacts><Contact><contactInfo><passportName>`+target.Email+`</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><groupContactAddOptions><fGenerateMissingQuickName>true</fGenerateMissingQuickName><EnableAllowListManagement>true</EnableAllowListManagement></groupContactAddOptions>`)
}

// contactGUID finds owner's contact GUID of target in ABFindAll.
func contactGUID(e *msnptest.Env, owner, target *models.Account) string {
	e.T.Helper()
	out := e.SOAP(owner, "abservice.asmx", "ABFindAll", `<abId>00000000-0000-0000-0000-000000000000</abId><abView>Full</abView><deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`)
	for _, c := range strings.Split(out, "<Contact>")[1:] {
		if strings.Contains(c, "<passportName>"+target.Email+"</passportName>") {
			if m := regexp.MustCompile(`^<contactId>([^<]+)</contactId>`).FindStringSubmatch(c); m != nil {
				return m[1]
			}
		}
	}
	e.T.Fatalf("no contact %s in ABFindAll:\n%s", target.Email, out)
	return ""
}

// TestLegacySYN lists an account's groups and contacts to MSNP9 and MSNP11
// clients exactly, and gives an up-to-date client the short answer.
func TestLegacySYN(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob B")
		carol := e.Account("carol@example.com", "Carol")
		dave := e.Account("dave@example.com", "Dave")
		friends := abGroup(e, alice, "Friends")
		work := abGroup(e, alice, "Work &amp; Play")
		abGroupContact(e, alice, bob, friends) // FL+AL, group 1
		e.AddContact(alice, carol)             // FL+AL, no group
		e.AddContact(dave, alice)              // dave has alice: alice's RL (and PL)
		e.Member(alice, "AddMember", "Block", dave.Email)
		bobGUID, carolGUID := contactGUID(e, alice, bob), contactGUID(e, alice, carol)

		t.Run("MSNP9 full list: groups by integer id, group 0 last, FL contacts always with a group", func(t *testing.T) {
			m := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
			v := synFull(t, m, 9, 3, 3)
			m.Expect("GTC A")
			m.Expect("BLP AL")
			m.Expect("LSG 1 Friends 0")
			m.Expect("LSG 2 Work%20%26%20Play 0")
			m.Expect("LSG 0 Other%20Contacts 0")
			m.Expect("LST bob@example.com Bob%20B 3 1")
			m.Expect("LST carol@example.com Carol 3 0")
			m.Expect("LST dave@example.com Dave 12")
			m.Send("PNG")
			m.Expect("QNG 60")
			t.Run("the same version again gets the short answer", func(t *testing.T) {
				m2 := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
				m2.Send("SYN 5 " + v[0])
				m2.Expect("SYN 5 " + v[0])
				m2.Send("PNG")
				m2.Expect("QNG 60")
			})
			t.Run("an older version gets the whole list", func(t *testing.T) {
				m3 := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
				old, _ := strconv.Atoi(v[0])
				m3.Send("SYN 5 " + strconv.Itoa(old-1))
				m3.Expect("SYN 5 " + v[0] + " 3 3")
			})
		})
		t.Run("MSNP11 full list: groups and contacts by GUID", func(t *testing.T) {
			m := loginLegacy(t, e, e.S.MSNPAddr, alice, 11)
			v := synFull(t, m, 11, 3, 2)
			m.Expect("GTC A")
			m.Expect("BLP AL")
			m.Expect("PRP MFN Alice")
			m.Expect("LSG Friends " + friends)
			m.Expect("LSG Work%20%26%20Play " + work)
			m.Expect("LST N=bob@example.com F=Bob%20B C=" + bobGUID + " 3 " + friends)
			m.Expect("LST N=carol@example.com F=Carol C=" + carolGUID + " 3")
			m.Expect("LST N=dave@example.com F=Dave 12")
			t.Run("the same timestamps again get the short answer", func(t *testing.T) {
				m2 := loginLegacy(t, e, e.S.MSNPAddr, alice, 11)
				m2.Send("SYN 5 " + v[0] + " " + v[1])
				m2.Expect("SYN 5 " + v[0] + " " + v[1])
			})
		})
		t.Run("MSNP12 LST carries the network", func(t *testing.T) {
			m := loginLegacy(t, e, e.S.MSNPAddr, alice, 12)
			synFull(t, m, 12, 3, 2)
			m.WaitFor("LSG Work", 5*time.Second)
			m.Expect("LST N=bob@example.com F=Bob%20B C=" + bobGUID + " 3 1 " + friends)
			m.Expect("LST N=carol@example.com F=Carol C=" + carolGUID + " 3 1")
			m.Expect("LST N=dave@example.com F=Dave 12 1")
		})
		t.Run("a SYN without its version is 200", func(t *testing.T) {
			m := loginLegacy(t, e, e.S.MSNPAddr, alice, 10)
			m.Send("SYN 5 0")
			m.Expect("200 5")
		})
	})
}

// TestLegacyPresence: an MSNP9 and an MSNP13 session see each other's
// presence, each in its own version's form, with the exact bytes; MSNP8
// gets no MSNObject and MSNP11 gets UBX.
func TestLegacyPresence(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		e.Friends(alice, bob)
		// Every friendship exists before bob signs in, so his NS has read it
		// when the others' sign-in probes arrive.
		carol := e.Account("carol@example.com", "Carol")
		dan := e.Account("dan@example.com", "Dan")
		e.Friends(carol, bob)
		e.Friends(dan, bob)
		const obj = `<msnobj Creator="bob@example.com" Size="1234" Type="3" Location="TFR2C2.tmp" Friendly="AAA=" SHA1D="trC8SlFx2sWQxZMIBAWSEnXc8oQ=" SHA1C="U32o6bosZzluJq82eAtMpx5dIEI="/>`
		encObj := msnp.URLEncodeName(obj)

		mb := msnptest.Dial(t, e.S.MSNPAddr)
		mb.Login13(e, bob)
		mb.Online("NLN", alice)

		ma := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
		synFull(t, ma, 9, 1, 1)
		ma.WaitFor("LST bob@example.com", 5*time.Second)
		ma.Send("CHG 6 NLN 268435500")
		exactly(t, ma, "CHG 6 NLN 268435500")
		t.Run("the MSNP9 user gets ILN in the MSNP9 form", func(t *testing.T) {
			exactly(t, ma, "ILN 6 NLN bob@example.com Bob 1073741856")
		})
		t.Run("the MSNP13 watcher gets NLN with the network id and UBX", func(t *testing.T) {
			exactly(t, mb, "NLN NLN alice@example.com 1 Alice%20A 268435500 0")
			if _, p := mb.WaitFor("UBX alice@example.com 53", 5*time.Second); p != "<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>" {
				t.Fatalf("UBX %q", p)
			}
		})
		t.Run("MSNP13 status and picture reach MSNP9 with the MSNObject and no network", func(t *testing.T) {
			mb.Send("CHG 20 BSY 1073741856 " + encObj)
			exactly(t, mb, "CHG 20 BSY 1073741856 "+encObj)
			exactly(t, ma, "NLN BSY bob@example.com Bob 1073741856 "+encObj)
		})
		t.Run("a personal message is not sent to MSNP9", func(t *testing.T) {
			mb.SendPayload("UUX 21", "<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>")
			exactly(t, mb, "UUX 21 0")
			ma.Quiet("UBX", 300*time.Millisecond)
		})
		t.Run("MSNP9 status changes reach MSNP13", func(t *testing.T) {
			ma.Send("CHG 7 AWY 268435500")
			exactly(t, ma, "CHG 7 AWY 268435500")
			exactly(t, mb, "NLN AWY alice@example.com 1 Alice%20A 268435500 0")
		})
		t.Run("an MSNP8 watcher gets no MSNObject, an MSNP11 watcher gets UBX", func(t *testing.T) {
			mc := loginLegacy(t, e, e.S.MSNPAddr, carol, 8)
			synFull(t, mc, 8, 1, 1)
			mc.WaitFor("LST bob@example.com", 5*time.Second)
			mc.Send("CHG 6 NLN 0")
			exactly(t, mc, "CHG 6 NLN 0")
			exactly(t, mc, "ILN 6 BSY bob@example.com Bob 1073741856")
			md := loginLegacy(t, e, e.S.MSNPAddr, dan, 11)
			synFull(t, md, 11, 1, 0)
			md.WaitFor("LST N=bob@example.com", 5*time.Second)
			md.Send("CHG 6 NLN 0")
			exactly(t, md, "CHG 6 NLN 0")
			exactly(t, md, "ILN 6 BSY bob@example.com Bob 1073741856 "+encObj)
			if p := md.Expect("UBX bob@example.com 55"); p != "<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>" {
				t.Fatalf("UBX %q", p)
			}
		})
		t.Run("sign-outs are FLN in each form", func(t *testing.T) {
			ma.Send("OUT")
			mb.WaitFor("FLN alice@example.com", 5*time.Second)
			ma2 := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
			synFull(t, ma2, 9, 1, 1)
			ma2.WaitFor("LST bob@example.com", 5*time.Second)
			ma2.Send("CHG 6 NLN 0")
			exactly(t, ma2, "CHG 6 NLN 0")
			exactly(t, ma2, "ILN 6 BSY bob@example.com Bob 1073741856 "+encObj)
			mb.Send("OUT")
			exactly(t, ma2, "FLN bob@example.com")
		})
	})
}

// exactly waits for want on m (an MSNP13 session may first get NOT/ADL
// lines of events the test set-up caused) and requires the whole line.
func exactly(t *testing.T, m *msnptest.Conn, want string) string {
	t.Helper()
	line, payload := m.WaitFor(want, 5*time.Second)
	if line != want {
		t.Fatalf("got %q, want %q", line, want)
	}
	return payload
}

// TestLegacyChallenge: CHL/QRY with the MSNP8–10 MD5 answer and the
// MSNP11–12 hash, each with the product ids real clients use, and wrong
// answers.
func TestLegacyChallenge(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		_, addr := extraNS(t, e, nsChallengeConfig(), "")
		n := 0
		session := func(t *testing.T, ver int) (*msnptest.Conn, string) {
			n++
			a := e.Account("chl"+strconv.Itoa(n)+"@example.com", "C")
			m := loginLegacy(t, e, addr, a, ver)
			line, _ := m.WaitFor("CHL 0 ", 5*time.Second)
			chl := strings.TrimPrefix(line, "CHL 0 ")
			if len(chl) != 20 {
				t.Fatalf("challenge %q", chl)
			}
			return m, chl
		}
		md5hex := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
		for _, c := range []struct {
			name, product, key string
			ver                int
		}{
			{"pidgin 2.2.2 answers MSNP9 with its own product", "PROD0038W!61ZTF9", "VT6PX?UQTM4WM%YR", 9},
			{"MSN Messenger 5 answers MSNP8 as msmsgs", "msmsgs@msnmsgr.com", "Q1P7W2E4J9R8U3S5", 8},
			{"MSN Messenger 6.2 answers MSNP10 with MD5", "PROD0061VRRZH@4F", "JXQ6J@TUOGYV@N0M", 10},
		} {
			t.Run(c.name, func(t *testing.T) {
				m, chl := session(t, c.ver)
				m.SendPayload("QRY 7 "+c.product, md5hex(chl+c.key))
				m.Expect("QRY 7")
				m.Send("PNG")
				if c.ver == 8 {
					m.Expect("QNG") // the interval came with MSNP9
				} else {
					m.Expect("QNG 60")
				}
			})
		}
		t.Run("MSNP11 answers with the MSNP11 hash", func(t *testing.T) {
			m, chl := session(t, 11)
			m.SendPayload("QRY 7 PROD0090YUAUV{2B", msnp.QRYHash(chl, "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL"))
			m.Expect("QRY 7")
		})
		t.Run("MSNP12 answers with the MSNP11 hash of its product", func(t *testing.T) {
			m, chl := session(t, 12)
			m.SendPayload("QRY 7 PROD0101{0RM?UBW", msnp.QRYHash(chl, "PROD0101{0RM?UBW", "CFHUR$52U_{VIX5T"))
			m.Expect("QRY 7")
		})
		t.Run("an MD5 answer to an MSNP11 session is 540 and the end", func(t *testing.T) {
			m, chl := session(t, 11)
			m.SendPayload("QRY 7 PROD0090YUAUV{2B", md5hex(chl+"YMM8C_H7KCQ2S_KL"))
			m.Expect("540 7")
			m.Closed(5 * time.Second)
		})
		t.Run("a wrong MD5 answer to MSNP9 is 540 and the end", func(t *testing.T) {
			m, chl := session(t, 9)
			m.SendPayload("QRY 7 PROD0038W!61ZTF9", md5hex(chl+"WRONGKEY"))
			m.Expect("540 7")
			m.Closed(5 * time.Second)
		})
		t.Run("an unknown product is 540", func(t *testing.T) {
			m, chl := session(t, 9)
			m.SendPayload("QRY 7 PROD0000NOPE", md5hex(chl+"VT6PX?UQTM4WM%YR"))
			m.Expect("540 7")
			m.Closed(5 * time.Second)
		})
	})
}

// TestLegacyMiscellany runs the MSNP8 miscellany seed's commands on an
// MSNP9 session, with their bad arguments, and checks that neither the
// session nor another one is disturbed.
func TestLegacyMiscellany(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		urls := ns.URLs{Passport: "https://login.test/md5auth.srf?lc=1033", Hotmail: "http://mail.test", Profile: "http://members.test",
			Mobile: "http://mobile.test", Chat: "http://chat.test"}
		_, addr := extraNS(t, e, ns.Config{URLs: urls}, "")
		alice := e.Account("alice@example.com", "Alice A")
		other := msnptest.Dial(t, addr)
		other.Login13(e, e.Account("other@example.com", "Other"))
		other.Online("NLN")
		m := loginLegacy(t, e, addr, alice, 9)
		synFull(t, m, 9, 0, 1)
		m.Expect("GTC A")
		m.Expect("BLP AL")
		m.Expect("LSG 0 Other%20Contacts 0")
		m.Send("CHG 6 NLN 0")
		exactly(t, m, "CHG 6 NLN 0")

		nc, err := nats.Connect(e.S.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		invites, err := nc.SubscribeSync(ns.InviteSubjectPrefix + ">")
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		invite := func(t *testing.T) ns.Invite {
			t.Helper()
			msg, err := invites.NextMsg(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Subject != ns.InviteSubjectPrefix+strconv.FormatInt(alice.CID, 10) {
				t.Errorf("subject %s", msg.Subject)
			}
			var inv ns.Invite
			if err := json.Unmarshal(msg.Data, &inv); err != nil {
				t.Fatal(err)
			}
			return inv
		}

		t.Run("URL answers every service of the seed with three parameters", func(t *testing.T) {
			for _, c := range []struct{ ask, rru string }{
				{"INBOX", "http://mail.test/cgi-bin/HoTMaiL"},
				{"FOLDERS", "http://mail.test/cgi-bin/folders"},
				{"COMPOSE", "http://mail.test/cgi-bin/compose"},
				{"COMPOSE bob@example.com", "http://mail.test/cgi-bin/compose?mailto=1&to=bob@example.com"},
				{"CHGMOB", "http://mobile.test"},
				{"PROFILE 0x0409", "http://members.test/default.msnw?lc=1033"},
				{"PERSON 0x0407", "http://members.test/default.msnw?lc=1031"},
				{"CHAT 0x0409", "http://chat.test/?lc=1033"},
			} {
				trid := m.Next()
				m.Send("URL " + trid + " " + c.ask)
				m.Expect("URL " + trid + " " + c.rru + " https://login.test/md5auth.srf?lc=1033 2")
			}
		})
		t.Run("URL of an unknown service or without the locale is 201", func(t *testing.T) {
			for _, ask := range []string{"NOPE", "PROFILE", "PERSON 1033", "CHAT 0xZZ"} {
				trid := m.Next()
				m.Send("URL " + trid + " " + ask)
				m.Expect("201 " + trid)
			}
		})
		t.Run("SDC is OK and published for the operator's mailer", func(t *testing.T) {
			m.SendPayload("SDC 20 bob@example.com 0x0409 MSMSGS WindowsMessenger X X Alice%20A", "Hi Mike!")
			m.Expect("SDC 20 OK")
			inv := invite(t)
			if inv.Command != "SDC" || inv.From != alice.Email || inv.FromCID != alice.CID || inv.FromName != "Alice A" ||
				inv.To != "bob@example.com" || inv.Locale != "0x0409" || inv.Message != "Hi Mike!" || time.Since(inv.Time) > time.Minute {
				t.Fatalf("%+v", inv)
			}
		})
		t.Run("SND is OK and published", func(t *testing.T) {
			m.Send("SND 21 carol@example.com 0x409 MSMSGS MSMSGS")
			m.Expect("SND 21 OK")
			inv := invite(t)
			if inv.Command != "SND" || inv.To != "carol@example.com" || inv.Locale != "0x409" || inv.Message != "" {
				t.Fatalf("%+v", inv)
			}
		})
		t.Run("bad SDC and SND arguments are 201 or 200 and publish nothing", func(t *testing.T) {
			m.SendPayload("SDC 22 not-an-address 0x0409 MSMSGS WindowsMessenger X X A", "x")
			m.Expect("201 22")
			m.SendPayload("SDC 23 bob@example.com nolocale MSMSGS WindowsMessenger X X A", "x")
			m.Expect("201 23")
			m.SendPayload("SDC 24 bob@example.com 0x0409", "x")
			m.Expect("200 24")
			m.SendPayload("SDC 25 bob@example.com 0x0409 MSMSGS WindowsMessenger X X A", strings.Repeat("x", 2000))
			m.Expect("201 25")
			m.Send("SND 26 bob@ 0x409 MSMSGS MSMSGS")
			m.Expect("201 26")
			m.Send("SND 27")
			m.Expect("200 27")
			if msg, err := invites.NextMsg(200 * time.Millisecond); err == nil {
				t.Fatalf("published %s", msg.Data)
			}
		})
		t.Run("PAG is 220: nobody has a mobile device", func(t *testing.T) {
			m.SendPayload("PAG 30 bob@example.com", `<TEXT xml:space="preserve" enc="utf-8">hi</TEXT>`)
			m.Expect("220 30")
		})
		t.Run("IMS OFF refuses XFR SB, IMS ON restores it", func(t *testing.T) {
			m.Send("IMS 31 OFF")
			m.Expect("IMS 31 0 OFF")
			m.Send("XFR 32 SB")
			m.Expect("502 32")
			m.Send("IMS 33 ON")
			m.Expect("IMS 33 0 ON")
			m.Send("XFR 34 SB")
			m.Expect("280 34") // this NS runs without a switchboard
			m.Send("IMS 35 MAYBE")
			m.Expect("201 35")
		})
		t.Run("PRP phone numbers are echoed with the list version; MFN is 502", func(t *testing.T) {
			m.Send("PRP 40 PHH 555%20123")
			line, _ := m.WaitFor("PRP 40 ", 5*time.Second)
			if !regexp.MustCompile(`^PRP 40 [1-9][0-9]* PHH 555%20123$`).MatchString(line) {
				t.Fatalf("%q", line)
			}
			m.Send("PRP 41 MFN Alice")
			m.Expect("502 41")
			m.Send("PRP 42 XYZ 1")
			m.Expect("200 42")
		})
		t.Run("MSNP13 commands are unknown to MSNP9: 200, and the stream stays in sync", func(t *testing.T) {
			m.SendPayload("ADL 50", `<ml l="1"></ml>`)
			m.Expect("200 50")
			m.SendPayload("UUX 51", `<Data><PSM>x</PSM></Data>`)
			m.Expect("200 51")
			m.Send("BLAH 52")
			m.Expect("200 52")
		})
		t.Run("the session and the other one carry on", func(t *testing.T) {
			m.Send("PNG")
			m.Expect("QNG 60")
			other.Send("PNG")
			exactly(t, other, "QNG 60")
		})
	})
}

// TestLegacySwitchboard: an MSNP9 user gets XFR SB and RNG in the MSNP9
// form (no "U messenger…" parameters) and meets an MSNP13 user in the same
// switchboard; IMS OFF keeps the RNG away.
func TestLegacySwitchboard(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		e.Friends(alice, bob)
		mb := msnptest.Dial(t, e.S.MSNPAddr)
		mb.Login13(e, bob)
		mb.Online("NLN", alice)
		ma := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
		synFull(t, ma, 9, 1, 1)
		ma.WaitFor("LST bob@example.com", 5*time.Second)
		ma.Send("CHG 6 NLN 0")
		exactly(t, ma, "CHG 6 NLN 0")
		ma.WaitFor("ILN 6 ", 5*time.Second)

		xfr9 := regexp.MustCompile(`^XFR 7 SB (\S+) CKI (\S+)$`)
		rng9 := regexp.MustCompile(`^RNG (\d+) (\S+) CKI (\S+) bob@example\.com Bob$`)
		rng13 := regexp.MustCompile(`^RNG (\d+) (\S+) CKI (\S+) alice@example\.com Alice%20A U messenger\.hotmail\.com$`)
		t.Run("MSNP9 calls MSNP13", func(t *testing.T) {
			ma.Send("XFR 7 SB")
			line, _ := ma.WaitFor("XFR 7 ", 5*time.Second)
			x := xfr9.FindStringSubmatch(line)
			if x == nil || x[1] != e.S.NS.SBAddr {
				t.Fatalf("XFR %q (switchboard %s)", line, e.S.NS.SBAddr)
			}
			sb := msnptest.Dial(t, x[1])
			sb.Send("USR 1 alice@example.com " + x[2])
			sb.Expect("USR 1 OK alice@example.com Alice%20A")
			sb.Send("CAL 2 bob@example.com")
			cal, _ := sb.WaitFor("CAL 2 RINGING ", 5*time.Second)
			rl, _ := mb.WaitFor("RNG ", 5*time.Second)
			r := rng13.FindStringSubmatch(rl)
			if r == nil || "CAL 2 RINGING "+r[1] != cal {
				t.Fatalf("RNG %q after %q", rl, cal)
			}
		})
		t.Run("MSNP13 calls MSNP9, which answers", func(t *testing.T) {
			mb.Send("XFR 30 SB")
			line, _ := mb.WaitFor("XFR 30 SB ", 5*time.Second)
			f := strings.Fields(line)
			sb := msnptest.Dial(t, f[3])
			sb.Send("USR 1 bob@example.com " + f[5])
			sb.Expect("USR 1 OK bob@example.com Bob")
			sb.Send("CAL 2 alice@example.com")
			cal, _ := sb.WaitFor("CAL 2 RINGING ", 5*time.Second)
			rl, _ := ma.WaitFor("RNG ", 5*time.Second)
			r := rng9.FindStringSubmatch(rl)
			if r == nil || "CAL 2 RINGING "+r[1] != cal {
				t.Fatalf("RNG %q after %q", rl, cal)
			}
			as := msnptest.Dial(t, r[2])
			as.Send("ANS 1 alice@example.com " + r[3] + " " + r[1])
			as.WaitFor("ANS 1 OK", 5*time.Second)
			sb.WaitFor("JOI alice@example.com Alice%20A", 5*time.Second)
		})
		t.Run("IMS OFF: no RNG reaches the MSNP9 session", func(t *testing.T) {
			ma.Send("IMS 8 OFF")
			ma.Expect("IMS 8 0 OFF")
			mb.Send("XFR 31 SB")
			line, _ := mb.WaitFor("XFR 31 SB ", 5*time.Second)
			f := strings.Fields(line)
			sb := msnptest.Dial(t, f[3])
			sb.Send("USR 1 bob@example.com " + f[5])
			sb.Expect("USR 1 OK bob@example.com Bob")
			sb.Send("CAL 2 alice@example.com")
			sb.WaitFor("217 2", 5*time.Second)
			ma.Quiet("RNG", 300*time.Millisecond)
		})
	})
}

// TestLegacyEvents: an MSNP9 session gets no MSNP13 list commands and no
// address-book NOT hints from events, while their presence consequences
// happen as for every session.
func TestLegacyEvents(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		mb := msnptest.Dial(t, e.S.MSNPAddr)
		mb.Login13(e, bob)
		mb.Online("NLN")
		ma := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
		synFull(t, ma, 9, 0, 1)
		ma.WaitFor("LSG 0 ", 5*time.Second)
		ma.Send("CHG 6 NLN 0")
		exactly(t, ma, "CHG 6 NLN 0")

		e.AddContact(bob, alice) // reverse.added to alice: ADL 0 + the ABCHInternal NOT
		t.Run("the new watcher sees the MSNP9 user come online", func(t *testing.T) {
			exactly(t, mb, "NLN NLN alice@example.com 1 Alice%20A 0 0")
		})
		t.Run("the MSNP9 session gets neither ADL nor the NOT hint", func(t *testing.T) {
			end := time.Now().Add(500 * time.Millisecond)
			for time.Now().Before(end) {
				line, _, err := ma.Read(time.Until(end))
				if err != nil {
					break
				}
				if strings.HasPrefix(line, "ADL") || strings.HasPrefix(line, "RML") || strings.HasPrefix(line, "NOT") {
					t.Fatalf("MSNP9 session got %q", line)
				}
			}
			ma.Send("PNG")
			ma.WaitFor("QNG 60", 5*time.Second)
		})
	})
}

// TestLegacyOutAndBadInput: one session per account across versions (OUT
// OTH both ways), OUT SSD at shutdown, and bad input to an MSNP9 session
// that gets its error without disturbing another session.
func TestLegacyOutAndBadInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		srv, addr := extraNS(t, e, ns.Config{}, "")
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		t.Run("an MSNP13 sign-in ends the MSNP9 session with OUT OTH", func(t *testing.T) {
			m9 := loginLegacy(t, e, addr, alice, 9)
			m13 := msnptest.Dial(t, addr)
			m13.Login13(e, alice)
			m9.WaitFor("OUT OTH", 5*time.Second)
			m9.Closed(5 * time.Second)
			t.Run("and an MSNP9 sign-in ends the MSNP13 one", func(t *testing.T) {
				loginLegacy(t, e, addr, alice, 9)
				m13.WaitFor("OUT OTH", 5*time.Second)
				m13.Closed(5 * time.Second)
			})
		})
		other := loginLegacy(t, e, addr, bob, 11)
		m := loginLegacy(t, e, addr, e.Account("carol@example.com", "Carol"), 9)
		synFull(t, m, 9, 0, 1)
		m.WaitFor("LSG 0 ", 5*time.Second)
		for _, c := range []struct{ name, send, want string }{
			{"a status that does not exist is 201", "CHG 6 XYZ 0", "201 6"},
			{"a malformed client id is 201", "CHG 7 NLN 12ab", "201 7"},
			{"a malformed MSNObject is 201", "CHG 8 NLN 0 %3Cmsnobj%20Creator%3D%22x%22%2F%3E", "201 8"},
			{"XFR of something else than SB is 200", "XFR 9 NS", "200 9"},
			{"XFR SB while not online is 913", "XFR 10 SB", "913 10"},
			{"a second USR is 207", "USR 11 TWN I carol@example.com", "207 11"},
			{"a QRY without a challenge is 731", "QRY 12 PROD0038W!61ZTF9 32\r\n0123456789abcdef0123456789abcdef", "731 12"},
		} {
			t.Run(c.name, func(t *testing.T) {
				m.Send(c.send)
				m.Expect(c.want)
			})
		}
		t.Run("a bad payload length ends that session only", func(t *testing.T) {
			m.Raw("SDC 13 bob@example.com 0x0409 MSMSGS WindowsMessenger X X A xx\r\n")
			m.Expect("200 13")
			m.Closed(5 * time.Second)
			other.Send("PNG")
			other.Expect("QNG 60")
		})
		t.Run("shutdown sends OUT SSD to an MSNP11 session", func(t *testing.T) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			other.WaitFor("OUT SSD", 5*time.Second)
			other.Closed(5 * time.Second)
		})
	})
}

// TestLegacyCommandBeforeItsEvents: a list command's answer reaches the
// client before the presence and list lines of the events it caused, even
// when the event arrives while the NS API call is still answering (the NS
// API is slowed by a proxy here). pidgin 2.2.2 crashes on NLN for a contact
// that is not on its list yet.
func TestLegacyCommandBeforeItsEvents(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		target, _ := url.Parse("http://" + e.S.NSAddr)
		proxy := httputil.NewSingleHostReverseProxy(target)
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/lists/add") {
				// Committed (and its events published) first; the answer
				// is held back.
				rec := httptest.NewRecorder()
				proxy.ServeHTTP(rec, r)
				time.Sleep(500 * time.Millisecond)
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer slow.Close()
		_, addr := extraNS(t, e, ns.Config{}, slow.URL)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		mb := msnptest.Dial(t, e.S.MSNPAddr)
		mb.Login13(e, bob)
		mb.Online("NLN")
		ma := loginLegacy(t, e, addr, alice, 9)
		synFull(t, ma, 9, 0, 1)
		ma.WaitFor("LSG 0 ", 5*time.Second)
		ma.Send("CHG 6 NLN 0")
		exactly(t, ma, "CHG 6 NLN 0")
		ma.Send("ADD 7 FL bob@example.com bob@example.com 0")
		line, _, err := ma.Read(5 * time.Second)
		if err != nil || !strings.HasPrefix(line, "ADD 7 FL ") {
			t.Fatalf("first line after ADD: %q (%v)", line, err)
		}
		exactly(t, ma, "NLN NLN bob@example.com Bob 1073741856")
	})
}

// TestLegacyNoListLinesBeforeSYN: a list change between USR OK and the
// client's SYN is listed by the SYN, not pushed as an ADD line before it.
func TestLegacyNoListLinesBeforeSYN(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		alice := e.Account("alice@example.com", "Alice")
		bob := e.Account("bob@example.com", "Bob")
		ma := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
		e.AddContact(bob, alice) // bob joins alice's RL
		time.Sleep(700 * time.Millisecond)
		ma.Send("SYN 5 0")
		line, _, err := ma.Read(5 * time.Second)
		if err != nil || !strings.HasPrefix(line, "SYN 5 ") {
			t.Fatalf("first line after USR OK: %q (%v)", line, err)
		}
		ma.Expect("GTC A")
		ma.Expect("BLP AL")
		ma.Expect("LSG 0 Other%20Contacts 0")
		ma.Expect("LST bob@example.com Bob 8")
		ma.Quiet("ADD", 500*time.Millisecond)
	})
}
