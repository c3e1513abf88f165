package msnp

import (
	"strings"
	"testing"
)

func synFixture() SYNList {
	return SYNList{
		Version: "42", Settings: "42", GTC: "N", BLP: "BL", Name: "Al Ice",
		Groups: []SYNGroup{{ID: 1, GUID: "g-1", Name: "Friends"}, {ID: 4, GUID: "g-4", Name: "A & B"}},
		Contacts: []SYNContact{
			{Email: "bob@example.com", Name: "Bob B", GUID: "c-b", Lists: ListFL | ListAL | ListRL, Groups: nil},
			{Email: "carol@example.com", Name: "", GUID: "c-c", Lists: ListFL, Network: 32},
			{Email: "dave@example.com", Name: "Dave", Lists: ListRL | ListPL},
			{Email: "erin@example.com", Name: "Erin", Lists: ListPL}, // nothing a SYN-era client knows
		},
	}
}

func TestAppendSYN(t *testing.T) {
	withGroups := func(l SYNList, groups ...[]string) SYNList {
		for i := range groups {
			l.Contacts[i].Groups = groups[i]
		}
		return l
	}
	cases := []struct {
		name string
		ver  int
		list SYNList
		want []string
	}{
		{"MSNP9: integer groups, group 0 last, FL contacts always with a group, PL shown as RL", 9,
			withGroups(synFixture(), []string{"1", "4"}), []string{
				"SYN 7 42 3 3", "GTC N", "BLP BL", "LSG 1 Friends 0", "LSG 4 A%20%26%20B 0", "LSG 0 Other%20Contacts 0",
				"LST bob@example.com Bob%20B 11 1,4", "LST carol@example.com carol%40example.com 1 0", "LST dave@example.com Dave 8"}},
		{"MSNP8 has the MSNP9 form", 8, withGroups(synFixture(), []string{"0"}), []string{
			"SYN 7 42 3 3", "GTC N", "BLP BL", "LSG 1 Friends 0", "LSG 4 A%20%26%20B 0", "LSG 0 Other%20Contacts 0",
			"LST bob@example.com Bob%20B 11 0", "LST carol@example.com carol%40example.com 1 0", "LST dave@example.com Dave 8"}},
		{"MSNP10: GUIDs, PRP MFN, no group field when none, no network", 10,
			withGroups(synFixture(), []string{"g-1"}), []string{
				"SYN 7 42 42 3 2", "GTC N", "BLP BL", "PRP MFN Al%20Ice", "LSG Friends g-1", "LSG A%20%26%20B g-4",
				"LST N=bob@example.com F=Bob%20B C=c-b 11 g-1", "LST N=carol@example.com F=carol%40example.com C=c-c 1", "LST N=dave@example.com F=Dave 8"}},
		{"MSNP12 adds the network", 12, withGroups(synFixture(), []string{"g-1", "g-4"}), []string{
			"SYN 7 42 42 3 2", "GTC N", "BLP BL", "PRP MFN Al%20Ice", "LSG Friends g-1", "LSG A%20%26%20B g-4",
			"LST N=bob@example.com F=Bob%20B C=c-b 11 1 g-1,g-4", "LST N=carol@example.com F=carol%40example.com C=c-c 1 32", "LST N=dave@example.com F=Dave 8 1"}},
		{"an empty MSNP9 list ends at LSG 0", 9, SYNList{Version: "1"}, []string{"SYN 7 1 0 1", "GTC A", "BLP AL", "LSG 0 Other%20Contacts 0"}},
		{"an empty MSNP11 list without a name has no PRP", 11, SYNList{Version: "t", Settings: "s"}, []string{"SYN 7 t s 0 0", "GTC A", "BLP AL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := string(AppendSYN(nil, "7", c.list, c.ver))
			want := strings.Join(c.want, "\r\n") + "\r\n"
			if got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestSYNUpToDate(t *testing.T) {
	l := SYNList{Version: "42", Settings: "s1"}
	cases := []struct {
		name string
		args string
		ver  int
		want bool
	}{
		{"MSNP9 with the current version", "42", 9, true},
		{"MSNP9 with another version", "41", 9, false},
		{"0 never matches (pidgin 2.2.2 always sends it)", "0", 9, false},
		{"MSNP11 with both timestamps", "42 s1", 11, true},
		{"MSNP11 with an old settings timestamp", "42 s0", 11, false},
		{"MSNP11 with one timestamp", "42", 11, false},
		{"no version", "", 9, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SYNUpToDate(strings.Fields(c.args), l, c.ver); got != c.want {
				t.Fatal(got)
			}
		})
	}
	if z := (SYNList{Version: "0"}); SYNUpToDate([]string{"0"}, z, 9) {
		t.Error("a list at version 0 matched 0")
	}
	if s := string(AppendSYNShort(nil, "3", l, 9)); s != "SYN 3 42\r\n" {
		t.Errorf("%q", s)
	}
	if s := string(AppendSYNShort(nil, "3", l, 12)); s != "SYN 3 42 s1\r\n" {
		t.Errorf("%q", s)
	}
}

func TestLegacySignIn(t *testing.T) {
	t.Run("CVR names the client's own version before MSNP13", func(t *testing.T) {
		args := strings.Fields("2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.com")
		if got := strings.Join(CVRFor(args, 9).Args(), " "); got != "6.0.0602 6.0.0602 6.0.0602 http://msgr.dlservice.microsoft.com http://messenger.msn.com" {
			t.Fatal(got)
		}
		if got := CVRFor(args, 13); got != DefaultCVR {
			t.Fatalf("%+v", got)
		}
		if got := CVRFor([]string{"2"}, 12).Minimum; got != "7.5.0311" {
			t.Fatal(got)
		}
		if got := CVRFor(strings.Fields("2 0x0409 winnt 5.1 i386 MSNMSGR 7.0<b> MSMSGS"), 11).Current; got != "7.0.0777" {
			t.Fatal(got)
		}
	})
	t.Run("the profile has ABCHMigrated from MSNP10 and MPOPEnabled from MSNP13", func(t *testing.T) {
		for _, c := range []struct {
			ver        int
			abch, mpop bool
		}{{8, false, false}, {9, false, false}, {10, true, false}, {12, true, false}, {0, true, true}} {
			f := DefaultProfile()
			f.Version = c.ver
			p := string(ProfilePayload(f))
			if strings.Contains(p, "ABCHMigrated: 1\r\n") != c.abch || strings.Contains(p, "MPOPEnabled") != c.mpop || !strings.HasSuffix(p, "\r\n\r\n") {
				t.Errorf("MSNP%d:\n%s", c.ver, p)
			}
		}
	})
	t.Run("the version predicates", func(t *testing.T) {
		for v, want := range map[int][3]bool{0: {false, false, false}, 8: {true, false, true}, 9: {true, false, true}, 10: {true, true, false}, 12: {true, true, false}, 13: {false, true, false}, 15: {false, true, false}} {
			if got := [3]bool{SYNEra(v), GroupGUIDs(v), ListVersionInts(v)}; v != 0 && got != want || v == 0 && got[0] {
				t.Errorf("MSNP%d: %v, want %v", v, got, want)
			}
		}
	})
}
