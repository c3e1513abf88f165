package ns_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
)

// TestLegacyOwnListsChangedElsewhere: while an MSNP8–12 session is signed
// in, its account's own FL/AL/BL and groups changed through another path
// (an MSNP13 client or the web calling the SOAP services, an account being
// deleted) reach it as the lines its own commands' answers use, with trid
// 0 and the new list version; its own commands are not echoed; and the
// next SYN lists exactly what was pushed.
func TestLegacyOwnListsChangedElsewhere(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		x := newLists(t, e, cfg)
		alice := e.Account("alice@example.com", "Alice A")
		erin := e.Account("erin@example.com", "Erin")
		e.Account("frank@example.com", "Frank")
		e.Account("gina@example.com", "Gina")
		dave := e.Account("dave@example.com", "Dave")
		harry := e.Account("harry@example.com", "Harry")

		a, _ := signInLegacy(t, e, alice, 9)
		a.version = func() int64 { return x.version(alice) }
		ver := func() string { return strconv.FormatInt(x.version(alice), 10) }
		var group string // the session's id of the group made through SOAP

		t.Run("MSNP9: ABContactAdd by the same account is ADD 0 FL and ADD 0 AL", func(t *testing.T) {
			a.T = t
			e.AddContact(alice, erin)
			v := ver()
			allLines(t, a.Conn, "ADD 0 FL "+v+" erin@example.com Erin 0", "ADD 0 AL "+v+" erin@example.com Erin")
			quietLists(t, a.Conn)
		})
		t.Run("MSNP9: ABGroupAdd is ADG 0, ABGroupContactAdd ADD 0 FL with the group", func(t *testing.T) {
			a.T = t
			guid := abGroup(e, alice, "Work")
			line := exactlyPattern(t, a.Conn, `^ADG 0 `+ver()+` Work (\d+) 0$`)
			group = line[1]
			abGroupContact(e, alice, erin, guid)
			exactly(t, a.Conn, "ADD 0 FL "+ver()+" erin@example.com Erin "+group)
			quietLists(t, a.Conn)
		})
		t.Run("MSNP9: AddMember Block is ADD 0 BL", func(t *testing.T) {
			a.T = t
			e.Member(alice, "AddMember", "Block", "frank@example.com")
			// The name as SYN writes it for an entry without one: the address, URL-encoded.
			exactly(t, a.Conn, "ADD 0 BL "+ver()+" frank@example.com frank%40example.com")
			quietLists(t, a.Conn)
		})
		t.Run("MSNP9: ABContactDelete is REM 0 FL; the AL entry stays", func(t *testing.T) {
			a.T = t
			abDelete(e, alice, x.entry(alice, erin.Email).ContactGUID)
			exactly(t, a.Conn, "REM 0 FL "+ver()+" erin@example.com")
			quietLists(t, a.Conn)
		})
		t.Run("MSNP9: the session's own commands are answered, not echoed", func(t *testing.T) {
			a.T = t
			a.answer(t, "ADD FL gina@example.com gina@example.com "+group, "ADD {t} FL {v} gina@example.com Gina "+group)
			a.answer(t, "REM BL frank@example.com", "REM {t} BL {v} frank@example.com")
			quietLists(t, a.Conn)
		})
		t.Run("MSNP9: the next SYN lists what was pushed", func(t *testing.T) {
			a.T = t
			var lst []string
			for _, l := range a.syn("0") {
				if strings.HasPrefix(l, "LST ") {
					lst = append(lst, l)
				}
			}
			want := []string{"LST erin@example.com Erin 2", "LST gina@example.com Gina 1 " + group}
			if !slices.Equal(lst, want) {
				t.Errorf("LST %q, want %q", lst, want)
			}
		})

		d, _ := signInLegacy(t, e, dave, 11)
		t.Run("MSNP11: ABContactAdd is ADC 0 FL with the contact GUID and ADC 0 AL; ABContactDelete REM 0 FL guid", func(t *testing.T) {
			d.T = t
			e.AddContact(dave, erin)
			guid := x.entry(dave, erin.Email).ContactGUID
			allLines(t, d.Conn, "ADC 0 FL N=erin@example.com F=Erin C="+guid, "ADC 0 AL N=erin@example.com")
			abDelete(e, dave, guid)
			exactly(t, d.Conn, "REM 0 FL "+guid)
			quietLists(t, d.Conn)
		})
		t.Run("MSNP11: a deleted account is REM 0 FL guid and REM 0 AL", func(t *testing.T) {
			d.T = t
			e.AddContact(dave, harry)
			guid := x.entry(dave, harry.Email).ContactGUID
			allLines(t, d.Conn, "ADC 0 FL N=harry@example.com F=Harry C="+guid, "ADC 0 AL N=harry@example.com")
			if _, err := e.S.Store.DeleteAccount(context.Background(), harry.Email); err != nil {
				t.Fatal(err)
			}
			// In either order: the deletion may reach the session as more
			// than one event, each with what had changed when it was read.
			allLines(t, d.Conn, "REM 0 FL "+guid, "REM 0 AL harry@example.com")
			quietLists(t, d.Conn)
		})
	})
}

// quietLists requires that no list line with trid 0 arrives for 300 ms.
func quietLists(t *testing.T, m *msnptest.Conn) {
	t.Helper()
	end := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(end) {
		line, _, err := m.Read(time.Until(end))
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] == "0" && slices.Contains([]string{"ADD", "ADC", "REM", "ADG", "RMG", "REG"}, f[0]) {
			t.Fatalf("unexpected %q", line)
		}
		m.Log = append(m.Log, line)
	}
}

// exactlyPattern waits for a line matching the regular expression and
// returns its submatches.
func exactlyPattern(t *testing.T, m *msnptest.Conn, pattern string) []string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	end := time.Now().Add(5 * time.Second)
	for {
		line, _, err := m.Read(time.Until(end))
		if err != nil {
			t.Fatalf("no line like %s: %v (seen %q)", pattern, err, m.Log)
		}
		if s := re.FindStringSubmatch(line); s != nil {
			return s
		}
		m.Log = append(m.Log, line)
	}
}

// allLines waits until every one of want has arrived, in any order.
func allLines(t *testing.T, m *msnptest.Conn, want ...string) {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for len(want) > 0 {
		line, _, err := m.Read(time.Until(end))
		if err != nil {
			t.Fatalf("still waiting for %q: %v (seen %q)", want, err, m.Log)
		}
		if i := slices.Index(want, line); i >= 0 {
			want = slices.Delete(want, i, i+1)
			continue
		}
		m.Log = append(m.Log, line)
	}
}
