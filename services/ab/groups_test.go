package ab_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestGroupAddRenameOnConflict: ABGroupAdd with fRenameOnMsgrConflict=true
// adds a clashing name as "Name (2)", "Name (3)", … within the 61-character
// limit; with false (what every client sends) the clash still faults.
func TestGroupAddRenameOnConflict(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		add := func(name string, rename bool) reply {
			flag := "false"
			if rename {
				flag = "true"
			}
			return e.call(alice, op("ABGroupAdd", `<groupAddOptions><fRenameOnMsgrConflict>`+flag+`</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>`+name+`</name></GroupInfo></groupInfo>`))
		}
		long := strings.Repeat("é", 61)
		for _, name := range []string{"Friends", long} {
			wantOK(t, add(name, false), "ABGroupAdd")
		}
		cursor := abLastChange(t, e.findAll(alice))
		wantFault(t, add("friends", false), models.CodeGroupAlreadyExists)
		for _, name := range []string{"FRIENDS", "Friends", long} {
			wantOK(t, add(name, true), "ABGroupAdd")
		}
		names := regexp.MustCompile(`<name>([^<]*)</name>`)
		var got []string
		for _, m := range names.FindAllStringSubmatch(e.delta(alice, cursor).Body, -1) {
			got = append(got, m[1])
		}
		want := []string{"FRIENDS (2)", "Friends (3)", strings.Repeat("é", 57) + " (2)"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("renamed groups in the delta: %q, want %q", got, want)
		}
		if n := utf8.RuneCountInString(want[2]); n != 61 {
			t.Fatalf("shortened name has %d characters", n)
		}
		if n := strings.Count(e.findAll(alice).Body, "<Group>"); n != 5 {
			t.Fatalf("book holds %d groups, want 5", n)
		}
	})
}
