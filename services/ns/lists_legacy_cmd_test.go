package ns_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// do sends "cmd trid args" and returns the trid and the answer to it (the
// command echoed or an error number); other lines are kept in Log.
func (l *legacy) do(cmd, args string) (string, string) {
	l.T.Helper()
	trid := l.Next()
	l.Send(strings.TrimSpace(cmd + " " + trid + " " + args))
	end := time.Now().Add(soon)
	for {
		line, _, err := l.Read(time.Until(end))
		if err != nil {
			l.T.Fatalf("%s %s: %v (seen %q)", cmd, trid, err, l.Log)
		}
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == trid && (f[0] == cmd || isErrorCode(f[0])) {
			return trid, line
		}
		l.Log = append(l.Log, line)
	}
}

// answer sends "CMD trid args" (line is "CMD args") and requires the
// answer want, in which {t} stands for the trid and {v} for the account's
// list version as the NS API reports it after the answer (l.version).
func (l *legacy) answer(t *testing.T, line, want string) {
	t.Helper()
	prev := l.T
	l.T = t
	defer func() { l.T = prev }()
	cmd, args, _ := strings.Cut(line, " ")
	trid, got := l.do(cmd, args)
	want = strings.ReplaceAll(want, "{t}", trid)
	if strings.Contains(want, "{v}") {
		want = strings.ReplaceAll(want, "{v}", strconv.FormatInt(l.version(), 10))
	}
	if got != want {
		t.Errorf("%s: got %q, want %q", line, got, want)
	}
}

func isErrorCode(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil && len(s) == 3
}

// lists reads what the NS API (the same store SOAP reads) holds.
type lists struct {
	t   testing.TB
	api *nsclient.Client
}

func newLists(t testing.TB, e *msnptest.Env, cfg config.Config) *lists {
	return &lists{t: t, api: nsclient.New("http://"+e.S.NSAddr, cfg.NSKey)}
}

func (x *lists) of(a *models.Account) *nsclient.Lists {
	x.t.Helper()
	l, err := x.api.Lists(context.Background(), a.Email)
	if err != nil {
		x.t.Fatal(err)
	}
	return l
}

func (x *lists) version(a *models.Account) int64 { x.t.Helper(); return x.of(a).Version }

// entry returns a's entry for email (Lists 0 when there is none).
func (x *lists) entry(a *models.Account, email string) nsclient.ListEntry {
	x.t.Helper()
	for _, c := range x.of(a).Contacts {
		if strings.EqualFold(c.Email, email) {
			return c
		}
	}
	return nsclient.ListEntry{Email: email}
}

// lsgIDs returns the group ids of a SYN answer's LSG lines (MSNP8–9).
func lsgIDs(syn []string) []string {
	var ids []string
	for _, l := range syn {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "LSG" {
			ids = append(ids, f[1])
		}
	}
	return ids
}

// TestLegacyListCommands drives every list command of an MSNP9 session
// (as pidgin 2.2.2 sends them) with its error cases, each answer checked
// byte for byte with the list version the NS API reports after it.
func TestLegacyListCommands(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.MaxGroups = 3
		e := msnptest.Start(t, cfg)
		x := newLists(t, e, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		e.Account("bob@example.com", "Bob")
		e.Account("carol@example.com", "Carol")
		a, syn := signInLegacy(t, e, alice, 9)
		a.version = func() int64 { return x.version(alice) }
		v0 := x.version(alice)
		if len(syn) == 0 || syn[0] != fmt.Sprintf("SYN 5 %d 0 1", v0) {
			t.Fatalf("SYN answer %q (version %d)", syn, v0)
		}
		var work, family string // group ids the NS gives to ADG

		t.Run("ADD FL into group 0 answers with the new list version and the stored name", func(t *testing.T) {
			trid, got := a.do("ADD", "FL bob@example.com bob@example.com 0")
			v := x.version(alice)
			if want := fmt.Sprintf("ADD %s FL %d bob@example.com Bob 0", trid, v); got != want || v <= v0 {
				t.Fatalf("got %q, want %q (version before %d)", got, want, v0)
			}
			if b := x.entry(alice, "bob@example.com"); b.Lists&nsclient.FL == 0 || !slices.Equal(b.SynGroups, []int{0}) {
				t.Errorf("bob: %+v", b)
			}
		})
		t.Run("the same ADD FL again is 215 and changes nothing", func(t *testing.T) {
			v := x.version(alice)
			trid, got := a.do("ADD", "FL bob@example.com bob@example.com 0")
			if got != "215 "+trid || x.version(alice) != v {
				t.Errorf("%q, version %d → %d", got, v, x.version(alice))
			}
		})
		t.Run("ADD AL answers with the list and version; ADD BL of the same contact is 219", func(t *testing.T) {
			a.answer(t, "ADD AL bob@example.com bob@example.com", "ADD {t} AL {v} bob@example.com bob@example.com")
			a.answer(t, "ADD BL bob@example.com bob@example.com", "219 {t}")
		})
		t.Run("REM of a contact not on that list is 216", func(t *testing.T) {
			a.answer(t, "REM BL carol@example.com", "216 {t}")
		})
		t.Run("malformed addresses are 208; RL, a group on AL or a bad group id 201; a short command 200", func(t *testing.T) {
			for _, args := range []string{"FL bob bob 0", "FL bob@ bob 0"} {
				a.answer(t, "ADD "+args, "208 {t}")
			}
			for _, args := range []string{"RL carol@example.com carol", "AL carol@example.com carol 0", "FL carol@example.com carol x"} {
				a.answer(t, "ADD "+args, "201 {t}")
			}
			a.answer(t, "ADD FL", "200 {t}")
		})
		t.Run("ADD FL of the own address is 201, of an address with no account 205", func(t *testing.T) {
			a.answer(t, "ADD FL alice@example.com alice@example.com 0", "201 {t}")
			a.answer(t, "ADD FL nobody@example.com nobody@example.com 0", "205 {t}")
		})
		t.Run("garbage arguments get error lines and the session goes on", func(t *testing.T) {
			for _, line := range []string{"REM", "RMG", "ADG", "REG 1", "REA x", "GTC", "BLP", "ADD FL a@b.c %zz 0", "REM FL a@b.c 0 0", "RMG -1", "REG 0x1 y 0", "ADG %00 0"} {
				f := strings.SplitN(line, " ", 2)
				args := ""
				if len(f) == 2 {
					args = f[1]
				}
				if trid, got := a.do(f[0], args); !isErrorCode(strings.Fields(got)[0]) || strings.Fields(got)[1] != trid {
					t.Errorf("%s: %q", line, got)
				}
			}
			a.Send("PNG")
			a.WaitFor("QNG", soon)
		})
		t.Run("ADG gives ids never sent before, and never renumbers", func(t *testing.T) {
			before := lsgIDs(syn)
			trid, got := a.do("ADG", "Work%20mates 0")
			f := strings.Fields(got)
			if len(f) != 6 || f[0] != "ADG" || f[2] != strconv.FormatInt(x.version(alice), 10) || f[3] != "Work%20mates" || f[5] != "0" {
				t.Fatalf("ADG %s: %q", trid, got)
			}
			work = f[4]
			_, got = a.do("ADG", "Family 0")
			family = strings.Fields(got)[4]
			if work == "0" || family == "0" || work == family || slices.Contains(before, work) || slices.Contains(before, family) {
				t.Errorf("ids %s and %s after LSG ids %q", work, family, before)
			}
			// A new SYN in the session lists the same ids.
			ids := lsgIDs(a.syn("0"))
			if !slices.Contains(ids, work) || !slices.Contains(ids, family) || !slices.Contains(ids, "0") {
				t.Errorf("LSG ids %q, want 0, %s, %s", ids, work, family)
			}
		})
		t.Run("group errors: existing name 228, long name 229, group limit 223", func(t *testing.T) {
			a.answer(t, "ADG work%20MATES 0", "228 {t}")
			a.answer(t, "ADG "+strings.Repeat("x", 62)+" 0", "229 {t}")
			if _, got := a.do("ADG", "Third 0"); !strings.HasPrefix(got, "ADG ") {
				t.Fatalf("third group: %q", got)
			}
			a.answer(t, "ADG Fourth 0", "223 {t}")
		})
		t.Run("ADD FL into a second group keeps group 0; unknown group ids are 224, a group the contact is not in 225", func(t *testing.T) {
			a.answer(t, "ADD FL bob@example.com bob@example.com "+work, "ADD {t} FL {v} bob@example.com Bob "+work)
			a.answer(t, "ADD FL bob@example.com bob@example.com 77", "224 {t}")
			a.answer(t, "REM FL bob@example.com 77", "224 {t}")
			a.answer(t, "REM FL bob@example.com "+family, "225 {t}")
		})
		t.Run("REG renames; group 0 is 230 and an unknown id 224", func(t *testing.T) {
			a.answer(t, "REG "+work+" Mates 0", "REG {t} {v} "+work+" Mates 0")
			a.answer(t, "REG 0 Zero 0", "230 {t}")
			a.answer(t, "REG 99 Nope 0", "224 {t}")
		})
		t.Run("REM FL from group 0 keeps the contact in its other group", func(t *testing.T) {
			a.answer(t, "REM FL bob@example.com 0", "REM {t} FL {v} bob@example.com 0")
			if b := x.entry(alice, "bob@example.com"); b.Lists&nsclient.FL == 0 || len(b.Groups) != 1 || b.Groups[0].Name != "Mates" {
				t.Errorf("bob: %+v", b)
			}
		})
		t.Run("RMG removes a group, its contacts stay on the FL; RMG 0 is 230, an unknown id 224", func(t *testing.T) {
			a.answer(t, "RMG 0", "230 {t}")
			a.answer(t, "RMG 99", "224 {t}")
			a.answer(t, "RMG "+family, "RMG {t} {v} "+family)
			a.answer(t, "ADD FL bob@example.com bob@example.com "+family, "224 {t}")
		})
		t.Run("REM FL from the last group takes the contact off the FL", func(t *testing.T) {
			a.answer(t, "REM FL bob@example.com "+work, "REM {t} FL {v} bob@example.com "+work)
			if b := x.entry(alice, "bob@example.com"); b.Lists&nsclient.FL != 0 {
				t.Errorf("bob still on the FL: %+v", b)
			}
		})
		t.Run("REM AL answers with the version", func(t *testing.T) {
			a.answer(t, "REM AL bob@example.com", "REM {t} AL {v} bob@example.com")
		})
		t.Run("REM FL without a group deletes the contact from every group", func(t *testing.T) {
			a.do("ADD", "FL carol@example.com carol@example.com 0")
			a.do("ADD", "FL carol@example.com carol@example.com "+work)
			a.answer(t, "REM FL carol@example.com", "REM {t} FL {v} carol@example.com")
			if c := x.entry(alice, "carol@example.com"); c.Lists&nsclient.FL != 0 {
				t.Errorf("carol: %+v", c)
			}
		})
		t.Run("GTC and BLP answer with the version; bad values are 201", func(t *testing.T) {
			a.answer(t, "GTC N", "GTC {t} {v} N")
			a.answer(t, "BLP BL", "BLP {t} {v} BL")
			if l := x.of(alice); l.BLP != "BL" || l.GTC != "N" {
				t.Errorf("stored BLP %q GTC %q", l.BLP, l.GTC)
			}
			a.answer(t, "GTC X", "201 {t}")
			a.answer(t, "BLP XL", "201 {t}")
		})
		t.Run("REA on the own address changes the friendly name", func(t *testing.T) {
			a.answer(t, "REA alice@example.com Alice%20%26%20Co", "REA {t} {v} alice@example.com Alice%20%26%20Co")
			p, err := x.api.Profile(context.Background(), alice.Email)
			if err != nil || p.DisplayName != "Alice & Co" {
				t.Errorf("profile %+v %v", p, err)
			}
			a.answer(t, "REA alice@example.com a%0Ab", "209 {t}")
		})
		t.Run("ADC, SBP and the MSNP10 forms are not MSNP9 commands", func(t *testing.T) {
			a.answer(t, "ADC FL N=carol@example.com F=Carol", "200 {t}")
		})
	})
}

// TestLegacyListLimits checks the limits an MSNP9 session meets: a full
// address book is 210, and declining a pending invitation (REM PL) keeps
// the inviter on the RL.
func TestLegacyListLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.MaxContacts = 2
		e := msnptest.Start(t, cfg)
		x := newLists(t, e, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		e.Account("bob@example.com", "Bob")
		e.Account("carol@example.com", "Carol")
		e.Account("dave@example.com", "Dave")
		erin := e.Account("erin@example.com", "Erin")
		e.AddContact(erin, alice) // Erin invites Alice: RL and PL
		a, _ := signInLegacy(t, e, alice, 9)
		a.version = func() int64 { return x.version(alice) }

		t.Run("ADD FL beyond ABCH_MAX_CONTACTS is 210 and adds nothing", func(t *testing.T) {
			for _, who := range []string{"bob@example.com", "carol@example.com"} {
				if _, got := a.do("ADD", "FL "+who+" "+who+" 0"); !strings.HasPrefix(got, "ADD ") {
					t.Fatalf("%s: %q", who, got)
				}
			}
			v := x.version(alice)
			trid, got := a.do("ADD", "FL dave@example.com dave@example.com 0")
			if got != "210 "+trid || x.entry(alice, "dave@example.com").Lists != 0 || x.version(alice) != v {
				t.Errorf("%q %+v", got, x.entry(alice, "dave@example.com"))
			}
		})
		t.Run("REM PL declines the invitation and keeps the RL", func(t *testing.T) {
			a.answer(t, "REM PL erin@example.com", "REM {t} PL {v} erin@example.com")
			roles := findMembership(t, e, alice)
			if len(roles["Pending"]) != 0 || !slices.Equal(roles["Reverse"], []string{"erin@example.com"}) {
				t.Errorf("roles %v", roles)
			}
			a.answer(t, "REM PL erin@example.com", "216 {t}")
		})
	})
}

// TestLegacyListCommandsMSNP11 drives the GUID forms of MSNP10–12: ADC by
// address and by contact GUID, REM by GUID, ADG/REG/RMG by group GUID,
// SBP MFN; another user's GUIDs are refused.
func TestLegacyListCommandsMSNP11(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		x := newLists(t, e, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		e.AddContact(carol, bob) // Carol's contact GUID for Bob is not Alice's
		carolsBob := x.entry(carol, "bob@example.com").ContactGUID
		a, _ := signInLegacy(t, e, alice, 11)
		var bobGUID, groupGUID string

		t.Run("ADC FL N= F= answers with the contact GUID", func(t *testing.T) {
			trid, got := a.do("ADC", "FL N=bob@example.com F=Bobby")
			bobGUID = x.entry(alice, "bob@example.com").ContactGUID
			if want := "ADC " + trid + " FL N=bob@example.com F=Bobby C=" + bobGUID; got != want || bobGUID == "" {
				t.Errorf("got %q, want %q", got, want)
			}
			a.answer(t, "ADC FL N=bob@example.com F=Bobby", "215 {t}")
		})
		t.Run("ADG, ADC into the group by GUIDs, REG and REM from the group", func(t *testing.T) {
			trid, got := a.do("ADG", "Friends")
			for _, g := range x.of(alice).Groups {
				if g.Name == "Friends" {
					groupGUID = g.GUID
				}
			}
			if want := "ADG " + trid + " Friends " + groupGUID; got != want || groupGUID == "" {
				t.Fatalf("got %q, want %q", got, want)
			}
			a.answer(t, "ADC FL C="+bobGUID+" "+groupGUID, "ADC {t} FL C="+bobGUID+" "+groupGUID)
			a.answer(t, "REG "+groupGUID+" Pals", "REG {t} "+groupGUID+" Pals")
			a.answer(t, "REM FL "+bobGUID+" "+groupGUID, "REM {t} FL "+bobGUID+" "+groupGUID)
			if b := x.entry(alice, "bob@example.com"); b.Lists&nsclient.FL == 0 || len(b.Groups) != 0 {
				t.Errorf("bob after REM from the group: %+v", b)
			}
		})
		t.Run("another user's contact GUID is 216, an unknown group GUID 224", func(t *testing.T) {
			a.answer(t, "REM FL "+carolsBob, "216 {t}")
			a.answer(t, "ADC FL C="+bobGUID+" 00000000-0000-0000-0000-00000000abcd", "224 {t}")
			if x.entry(carol, "bob@example.com").Lists&nsclient.FL == 0 {
				t.Error("Carol's contact changed")
			}
		})
		t.Run("SBP MFN stores the contact's name", func(t *testing.T) {
			a.answer(t, "SBP "+bobGUID+" MFN Bob%20B", "SBP {t} "+bobGUID+" MFN Bob%20B")
			if b := x.entry(alice, "bob@example.com"); b.DisplayName != "Bob B" {
				t.Errorf("bob: %+v", b)
			}
		})
		t.Run("RMG by GUID, REM FL by GUID, ADC BL and GTC without versions", func(t *testing.T) {
			a.answer(t, "RMG "+groupGUID, "RMG {t} "+groupGUID)
			a.answer(t, "REM FL "+bobGUID, "REM {t} FL "+bobGUID)
			a.answer(t, "ADC BL N=carol@example.com", "ADC {t} BL N=carol@example.com")
			a.answer(t, "REM BL carol@example.com", "REM {t} BL carol@example.com")
			a.answer(t, "GTC N", "GTC {t} N")
			a.answer(t, "REA alice@example.com Al", "502 {t}")
		})
	})
}

// TestLegacyListsAcrossEras checks the bytes each side receives when an
// MSNP9 session and an MSNP13 session (of different accounts) change
// lists, and what the other era then reads.
func TestLegacyListsAcrossEras(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		x := newLists(t, e, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		bob := e.Account("bob@example.com", "Bob")
		carol := e.Account("carol@example.com", "Carol")
		dave := e.Account("dave@example.com", "Dave")

		b := e.SignIn(e.S.MSNPAddr, bob) // MSNP13
		a, _ := signInLegacy(t, e, alice, 9)
		a.version = func() int64 { return x.version(alice) }

		t.Run("an MSNP9 ADD FL reaches the MSNP13 target as ADL l=8 and NOT", func(t *testing.T) {
			a.T, b.T = t, t
			a.do("ADD", "FL bob@example.com bob@example.com 0")
			a.do("ADD", "AL bob@example.com bob@example.com")
			line, payload := b.WaitFor("ADL 0 ", soon)
			want := `<ml><d n="example.com"><c n="alice" t="1" l="8" f="Alice%20A" /></d></ml>`
			if payload != want || line != fmt.Sprintf("ADL 0 %d", len(want)) {
				t.Errorf("%s\n%s", line, payload)
			}
			b.WaitForPayload("NOT ", "ABCHInternal", soon)
		})
		t.Run("the MSNP13 target's FindMembership and the adder's ABFindAll show exactly that", func(t *testing.T) {
			roles := findMembership(t, e, bob)
			if !slices.Equal(roles["Reverse"], []string{"alice@example.com"}) || !slices.Equal(roles["Pending"], []string{"alice@example.com"}) {
				t.Errorf("Bob's roles %v", roles)
			}
			if got := abContacts(t, e, alice); !slices.Equal(got, []string{"bob@example.com messenger"}) {
				t.Errorf("Alice's address book %q", got)
			}
			if roles := findMembership(t, e, alice); !slices.Equal(roles["Allow"], []string{"bob@example.com"}) {
				t.Errorf("Alice's roles %v", roles)
			}
		})
		t.Run("an MSNP13 ABContactAdd reaches the MSNP9 target as ADD 0 RL", func(t *testing.T) {
			a.T = t
			c := e.SignIn(e.S.MSNPAddr, carol)
			e.AddContact(carol, alice)
			line, _ := a.WaitFor("ADD 0 RL ", soon)
			if want := fmt.Sprintf("ADD 0 RL %d carol@example.com Carol", x.version(alice)); line != want {
				t.Errorf("got %q, want %q", line, want)
			}
			a.Quiet("NOT ", 300*time.Millisecond)
			c.Send("OUT")
		})
		t.Run("the MSNP9 target accepts with ADD AL: no longer Pending in FindMembership", func(t *testing.T) {
			a.T = t
			if roles := findMembership(t, e, alice); !slices.Contains(roles["Pending"], "carol@example.com") {
				t.Fatalf("before: %v", roles)
			}
			a.answer(t, "ADD AL carol@example.com Carol", "ADD {t} AL {v} carol@example.com Carol")
			roles := findMembership(t, e, alice)
			if slices.Contains(roles["Pending"], "carol@example.com") || !slices.Contains(roles["Allow"], "carol@example.com") || !slices.Contains(roles["Reverse"], "carol@example.com") {
				t.Errorf("after: %v", roles)
			}
		})
		t.Run("an MSNP13 ABContactAdd reaches an MSNP11 target as ADC 0 RL, ABContactDelete as REM 0 RL", func(t *testing.T) {
			d, _ := signInLegacy(t, e, dave, 11)
			e.AddContact(carol, dave)
			d.WaitFor("ADC 0 RL N=carol@example.com F=Carol", soon)
			abDelete(e, carol, x.entry(carol, dave.Email).ContactGUID)
			d.WaitFor("REM 0 RL carol@example.com", soon)
			e.AddContact(carol, dave)
			d.WaitFor("ADC 0 RL N=carol@example.com F=Carol", soon)
		})
		t.Run("an MSNP13 ABContactDelete reaches the MSNP9 target as REM 0 RL with the version", func(t *testing.T) {
			a.T = t
			abDelete(e, carol, x.entry(carol, alice.Email).ContactGUID)
			line, _ := a.WaitFor("REM 0 RL ", soon)
			if want := fmt.Sprintf("REM 0 RL %d carol@example.com", x.version(alice)); line != want {
				t.Errorf("got %q, want %q", line, want)
			}
			e.AddContact(carol, alice)
			a.WaitFor("ADD 0 RL ", soon)
		})
		t.Run("the MSNP13 user's next MSNP9 SYN lists the contact it added", func(t *testing.T) {
			c, syn := signInLegacy(t, e, carol, 9)
			var lst []string
			for _, l := range syn {
				if strings.HasPrefix(l, "LST ") {
					lst = append(lst, l)
				}
			}
			want := []string{"LST alice@example.com Alice%20A 3 0", "LST dave@example.com Dave 3 0"}
			if !slices.Equal(lst, want) {
				t.Errorf("LST lines %q, want %q", lst, want)
			}
			c.Send("OUT")
		})
		t.Run("an MSNP9 REM FL reaches the MSNP13 target as RML l=8", func(t *testing.T) {
			a.T, b.T = t, t
			a.do("REM", "FL bob@example.com 0")
			_, payload := b.WaitFor("RML 0 ", soon)
			if want := `<ml><d n="example.com"><c n="alice" t="1" l="8" /></d></ml>`; payload != want {
				t.Errorf("%s", payload)
			}
			if roles := findMembership(t, e, bob); len(roles["Reverse"]) != 0 {
				t.Errorf("Bob's roles %v", roles)
			}
		})
		t.Run("an MSNP9 ADD FL of an online MSNP13 contact brings its presence", func(t *testing.T) {
			a.T = t
			chg := a.Next()
			a.Send("CHG " + chg + " NLN 0")
			a.WaitFor("CHG "+chg+" NLN 0", soon)
			a.do("ADD", "FL bob@example.com bob@example.com 0")
			a.SeenOrWait("NLN NLN bob@example.com Bob 1073741856", soon)
		})
		t.Run("a deleted account reaches the MSNP9 session as REM 0 of each list", func(t *testing.T) {
			a.T = t
			a.do("ADD", "FL dave@example.com dave@example.com 0")
			a.do("ADD", "AL dave@example.com dave@example.com")
			if _, err := e.S.Store.DeleteAccount(context.Background(), dave.Email); err != nil {
				t.Fatal(err)
			}
			v := strconv.FormatInt(x.version(alice), 10)
			a.WaitFor("REM 0 FL "+v+" dave@example.com", soon)
			a.WaitFor("REM 0 AL "+v+" dave@example.com", soon)
		})
	})
}

// abDelete is owner's ABContactDelete of the contact with guid.
func abDelete(e *msnptest.Env, owner *models.Account, guid string) {
	e.T.Helper()
	e.SOAP(owner, "abservice.asmx", "ABContactDelete", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactId>`+guid+`</contactId></Contact></contacts>`)
}

// findMembership returns a's Messenger roles (role → sorted addresses) as
// the Sharing service's FindMembership shows them.
func findMembership(t *testing.T, e *msnptest.Env, a *models.Account) map[string][]string {
	t.Helper()
	body := e.SOAP(a, "SharingService.asmx", "FindMembership", `<serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter>`)
	roles := map[string][]string{}
	for _, m := range soapElems(t, body, "Membership") {
		role := ""
		if r := m.FindElement("./MemberRole"); r != nil {
			role = r.Text()
		}
		for _, p := range m.FindElements(".//PassportName") {
			roles[role] = append(roles[role], strings.ToLower(p.Text()))
		}
		slices.Sort(roles[role])
	}
	return roles
}

// abContacts returns a's address-book contacts as "address messenger" (or
// "address -" when not a messenger user), sorted; the Me contact is left
// out.
func abContacts(t *testing.T, e *msnptest.Env, a *models.Account) []string {
	t.Helper()
	body := e.SOAP(a, "abservice.asmx", "ABFindAll", `<abId>00000000-0000-0000-0000-000000000000</abId><abView>Full</abView><deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`)
	var out []string
	for _, info := range soapElems(t, body, "contactInfo") {
		if ct := info.FindElement("./contactType"); ct != nil && ct.Text() == "Me" {
			continue
		}
		name := info.FindElement("./passportName")
		if name == nil {
			continue
		}
		flag := "-"
		if m := info.FindElement("./isMessengerUser"); m != nil && m.Text() == "true" {
			flag = "messenger"
		}
		out = append(out, strings.ToLower(name.Text())+" "+flag)
	}
	slices.Sort(out)
	return out
}

// soapElems returns every element named tag in a SOAP answer.
func soapElems(t *testing.T, body, tag string) []*etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(body); err != nil {
		t.Fatalf("not XML: %v\n%s", err, body)
	}
	return doc.FindElements("//" + tag)
}

// BenchmarkLegacyAddRemove is one MSNP9 "ADD FL … 0" and "REM FL … 0" pair
// per op, each answered after its NS API write (a transaction with its
// events) through the real stack on the embedded database.
//
//	go test ./services/ns/ -run X -bench LegacyAddRemove -benchtime 3s
func BenchmarkLegacyAddRemove(b *testing.B) {
	e := msnptest.Start(b, testenv.Config(b, testenv.DB{Name: "sqlite"}))
	alice := e.Account("alice@example.com", "Alice A")
	e.Account("bob@example.com", "Bob")
	m := msnptest.Dial(b, e.S.MSNPAddr)
	for _, step := range [][2]string{
		{"VER 1 MSNP9 MSNP8 CVR0", "VER 1 "},
		{"CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS " + alice.Email, "CVR 2 "},
		{"USR 3 TWN I " + alice.Email, "USR 3 "},
		{"USR 4 TWN S " + e.Ticket(alice, auth.AudMessenger).Text(), "USR 4 OK "},
		{"SYN 5 0", "LSG 0 "},
	} {
		m.Send(step[0])
		m.WaitFor(step[1], soon)
	}
	m.Trid = 5
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, cmd := range []string{"ADD", "REM"} {
			trid := m.Next()
			if cmd == "ADD" {
				m.Send("ADD " + trid + " FL bob@example.com bob@example.com 0")
			} else {
				m.Send("REM " + trid + " FL bob@example.com 0")
			}
			line, _ := m.WaitFor(cmd+" "+trid+" ", soon)
			if !strings.Contains(line, "bob@example.com") {
				b.Fatal(line)
			}
		}
	}
}
