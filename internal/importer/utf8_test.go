package importer

import (
	"strings"
	"testing"
)

// TestImportRefusesInvalidUTF8: a lists-format line with bytes that are not
// UTF-8 (or an unpaired surrogate escape) is refused before encoding/json
// would store U+FFFD; an Escargot row with such bytes in any text field
// makes its account skipped with the reason.
func TestImportRefusesInvalidUTF8(t *testing.T) {
	for _, line := range []string{
		"{\"v\":1,\"email\":\"a@example.com\",\"display_name\":\"\xffFuzz\"}",
		`{"v":1,"email":"a@example.com","display_name":"\ud800"}`,
		"{\"v\":1,\"email\":\"a@example.com\",\"contacts\":[{\"email\":\"b@example.com\",\"lists\":1,\"nickname\":\"B\xc3\"}]}",
	} {
		if _, err := ParseLine([]byte(line)); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
			t.Errorf("%q: %v, want invalid JSON", line, err)
		}
	}
	one := 1
	for field, set := range map[string]func(d *AccountDoc){
		"display name is not valid UTF-8":        func(d *AccountDoc) { d.DisplayName = "A\xff" },
		"a group name is not valid UTF-8":        func(d *AccountDoc) { d.Groups = []GroupDoc{{Name: "G\xfe"}} },
		"contact b@example.com: nickname":        func(d *AccountDoc) { d.Contacts[0].Nickname = "\xc0\xaf" },
		"contact b@example.com: comment":         func(d *AccountDoc) { d.Contacts[0].Comment = "x\xed\xa0\x80" },
		"contact b@example.com: display name":    func(d *AccountDoc) { d.Contacts[0].DisplayName = "\x80" },
		"contact b@example.com: last name":       func(d *AccountDoc) { d.Contacts[0].LastName = "\xf8" },
		"a contact address is not valid UTF-8":   func(d *AccountDoc) { d.Contacts[0].Email = "b\xff@example.com" },
		"contact b@example.com: a group or list": func(d *AccountDoc) { d.Contacts[0].Groups = []string{"\xff"} },
	} {
		d := &AccountDoc{V: 1, Email: "a@example.com", Contacts: []ContactDoc{{Email: "b@example.com", Lists: &one}}}
		set(d)
		if err := d.normalize(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}
