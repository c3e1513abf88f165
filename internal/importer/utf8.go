package importer

import (
	"fmt"
	"unicode/utf8"
)

// checkUTF8 refuses an account whose text is not UTF-8 (an Escargot
// database can hold any bytes; the lists format is checked by ParseLine
// before encoding/json would turn bad bytes into U+FFFD). Such an account
// is reported and skipped rather than repaired: what its owner typed is
// unknown, and nothing that clients cannot parse may be stored.
func (d *AccountDoc) checkUTF8() error {
	bad := func(s string) bool { return !utf8.ValidString(s) }
	switch {
	case bad(d.Email):
		return fmt.Errorf("address is not valid UTF-8")
	case bad(d.DisplayName):
		return fmt.Errorf("display name is not valid UTF-8")
	case bad(d.MPOP), bad(d.PasswordHash), bad(d.Created), bad(d.BLP), bad(d.GTC):
		return fmt.Errorf("a setting is not valid UTF-8")
	}
	for _, g := range d.Groups {
		if bad(g.Name) {
			return fmt.Errorf("a group name is not valid UTF-8")
		}
	}
	for _, c := range d.Contacts {
		if bad(c.Email) {
			return fmt.Errorf("a contact address is not valid UTF-8")
		}
		for _, f := range []struct{ name, v string }{
			{"display name", c.DisplayName}, {"nickname", c.Nickname}, {"first name", c.FirstName},
			{"middle name", c.MiddleName}, {"last name", c.LastName}, {"comment", c.Comment}, {"birthdate", c.Birthdate},
		} {
			if bad(f.v) {
				return fmt.Errorf("contact %s: %s is not valid UTF-8", c.Email, f.name)
			}
		}
		for _, g := range append(c.Groups, c.ListNames...) {
			if bad(g) {
				return fmt.Errorf("contact %s: a group or list name is not valid UTF-8", c.Email)
			}
		}
	}
	return nil
}
