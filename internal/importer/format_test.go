package importer

import (
	"strings"
	"testing"
)

// TestNormalizeRejects lists the per-account rules of the lists format and
// the reason each violation is reported with.
func TestNormalizeRejects(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{`{"v":1,"email":"a@example.com","blp":"XX"}`, `blp "XX" is neither AL nor BL`},
		{`{"v":1,"email":"a@example.com","gtc":"Y"}`, `gtc "Y" is neither A nor N`},
		{`{"v":1,"email":"a@example.com","created":"yesterday"}`, `created "yesterday" is not an RFC 3339 time`},
		{`{"v":1,"email":"a@example.com","password_hash":"pbkdf2_sha256$0$salt$AAAA"}`, `iteration count "0" out of range`},
		{`{"v":1,"email":"a@example.com","password_hash":"$argon2id$v=19$m=1,t=1$c2FsdA$a2V5"}`, `malformed argon2id`},
		{`{"v":1,"email":"a@example.com","groups":[{"name":"A"},{"name":"a"}]}`, `group name "a" appears twice`},
		{`{"v":1,"email":"a@example.com","groups":[{"name":"(No Group)"}]}`, `is reserved`},
		{`{"v":1,"email":"a@example.com","groups":[{"name":"` + strings.Repeat("é", 62) + `"}]}`, `longer than 61 characters`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"A@example.com","lists":1}]}`, `cannot be its own contact`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":1},{"email":"B@example.com","lists":2}]}`, `contact b@example.com appears twice`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":32}]}`, `lists 32 is not a combination`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com"}]}`, `neither lists nor list_names given`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":3,"list_names":["FL"]}]}`, `disagree`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","list_names":["XL"]}]}`, `unknown list name "XL"`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":2,"nickname":"B"}]}`, `need FL`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":8,"first_name":"B"}]}`, `need FL`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":1,"groups":["Nope"]}]}`, `group "Nope" is not one of the account's groups`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@example.com","lists":1,"birthdate":"22/04/1971"}]}`, `birthdate "22/04/1971" is not YYYY-MM-DD`},
		{`{"v":1,"email":"a@example.com","contacts":[{"email":"b@@example.com","lists":1}]}`, `malformed address`},
	} {
		d, err := ParseLine([]byte(tc.line))
		if err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if err := d.normalize(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.line, err, tc.want)
		}
	}
	d, _ := ParseLine([]byte(`{"v":1,"email":" a@example.com ","contacts":[{"email":"C@example.com","list_names":["rl","pl"]},{"email":"b@example.com","lists":1,"messenger":true,"birthdate":"1971-04-22","groups":["x","X"]}],"groups":[{"name":"X"}]}`))
	if err := d.normalize(); err != nil {
		t.Fatal(err)
	}
	if d.Email != "a@example.com" || d.DisplayName != "a@example.com" || d.BLP != "AL" || d.GTC != "A" ||
		d.Contacts[0].Email != "b@example.com" || d.Contacts[0].Messenger != nil || d.Contacts[0].Birthdate != "1971-04-22T00:00:00" ||
		strings.Join(d.Contacts[0].Groups, ",") != "X" || d.Contacts[1].Email != "c@example.com" || d.Contacts[1].bits() != 24 {
		t.Errorf("normalized: %+v", d)
	}
}
