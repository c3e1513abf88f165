package ns_test

import (
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

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
	line, profile, err := m.Read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
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
	line, profile, err = m.Read(5 * time.Second)
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
	line, _, err := m.Read(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
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
				m.Expect("CHG 6 NLN 0")
				m.Send("PNG")
				m.Expect("QNG 60")
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
		const obj = `<msnobj Creator="bob@example.com" Size="1234" Type="3" Location="TFR2C2.tmp" Friendly="AAA=" SHA1D="trC8SlFx2sWQxZMIBAWSEnXc8oQ=" SHA1C="U32o6bosZzluJq82eAtMpx5dIEI="/>`
		encObj := msnp.URLEncodeName(obj)

		mb := msnptest.Dial(t, e.S.MSNPAddr)
		mb.Login13(e, bob)
		mb.Online("NLN", alice)

		ma := loginLegacy(t, e, e.S.MSNPAddr, alice, 9)
		synFull(t, ma, 9, 1, 1)
		ma.WaitFor("LST bob@example.com", 5*time.Second)
		ma.Send("CHG 6 NLN 268435500")
		ma.Expect("CHG 6 NLN 268435500")
		t.Run("the MSNP9 user gets ILN in the MSNP9 form", func(t *testing.T) {
			ma.Expect("ILN 6 NLN bob@example.com Bob 1073741856")
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
			ma.Expect("NLN BSY bob@example.com Bob 1073741856 " + encObj)
		})
		t.Run("a personal message is not sent to MSNP9", func(t *testing.T) {
			mb.SendPayload("UUX 21", "<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>")
			exactly(t, mb, "UUX 21 0")
			ma.Quiet("UBX", 300*time.Millisecond)
		})
		t.Run("MSNP9 status changes reach MSNP13", func(t *testing.T) {
			ma.Send("CHG 7 AWY 268435500")
			ma.Expect("CHG 7 AWY 268435500")
			exactly(t, mb, "NLN AWY alice@example.com 1 Alice%20A 268435500 0")
		})
		t.Run("an MSNP8 watcher gets no MSNObject, an MSNP11 watcher gets UBX", func(t *testing.T) {
			carol := e.Account("carol@example.com", "Carol")
			dan := e.Account("dan@example.com", "Dan")
			e.Friends(carol, bob)
			e.Friends(dan, bob)
			mc := loginLegacy(t, e, e.S.MSNPAddr, carol, 8)
			synFull(t, mc, 8, 1, 1)
			mc.WaitFor("LST bob@example.com", 5*time.Second)
			mc.Send("CHG 6 NLN 0")
			mc.Expect("CHG 6 NLN 0")
			mc.Expect("ILN 6 BSY bob@example.com Bob 1073741856")
			md := loginLegacy(t, e, e.S.MSNPAddr, dan, 11)
			synFull(t, md, 11, 1, 0)
			md.WaitFor("LST N=bob@example.com", 5*time.Second)
			md.Send("CHG 6 NLN 0")
			md.Expect("CHG 6 NLN 0")
			md.Expect("ILN 6 BSY bob@example.com Bob 1073741856 " + encObj)
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
			ma2.Expect("CHG 6 NLN 0")
			ma2.Expect("ILN 6 BSY bob@example.com Bob 1073741856 " + encObj)
			mb.Send("OUT")
			ma2.Expect("FLN bob@example.com")
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
				m.Expect("QNG 60")
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
