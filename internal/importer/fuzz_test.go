package importer

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzParseLine: a line of the lists format never panics the reader or the
// validation; an account that passes is valid UTF-8 throughout and in
// canonical form: written out (as `abch export` does) and read back it is
// the same account.
func FuzzParseLine(f *testing.F) {
	src, err := OpenEscargot(context.Background(), filepath.Join(escargotDir(f), "escargot-sample.sqlite"))
	if err != nil {
		f.Fatal(err)
	}
	_ = src.Each(context.Background(), func(d *AccountDoc, _ string, bad error) error {
		if b, err := json.Marshal(d); err == nil {
			f.Add(b)
		}
		return nil
	})
	f.Add([]byte(`{"v":1,"email":" a@example.com ","contacts":[{"email":"C@example.com","list_names":["rl","pl"]},{"email":"b@example.com","lists":1,"messenger":true,"birthdate":"1971-04-22","groups":["x","X"]}],"groups":[{"name":"X"}]}`))
	f.Add([]byte("{\"v\":1,\"email\":\"a@example.com\",\"display_name\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := ParseLine(line)
		if err != nil {
			return
		}
		if d.normalize() != nil {
			return
		}
		if s, ok := invalidString(reflect.ValueOf(d)); ok {
			t.Fatalf("accepted account holds invalid UTF-8 %q", s)
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := ParseLine(b)
		if err != nil {
			t.Fatalf("written account does not read back: %v\n%s", err, b)
		}
		if err := d2.normalize(); err != nil {
			t.Fatalf("written account no longer valid: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("not canonical:\n%+v\n%+v", d, d2)
		}
	})
}

// FuzzEscargotDoc: an Escargot user row with any settings, groups and
// contact columns converts without panicking, and what validation accepts
// is valid UTF-8.
func FuzzEscargotDoc(f *testing.F) {
	f.Add("Alice", `{"BLP":"BL","GTC":"N","MPOP":"1"}`, `[{"id":"1","uuid":"g1","name":"Friends","is_favorite":true}]`, `[{"id":"1","uuid":"g1"}]`, "Bobby", "Bob", 11, true)
	f.Add("\xff", `{}`, `{}`, `[]`, "", "", 3, false)
	f.Add("Alice", `{}`, `{}`, `[]`, "\xff", "Bob", 1, false)
	f.Fuzz(func(t *testing.T, friendly, settings, groups, contactGroups, nick, name string, lists int, pending bool) {
		u := &escUser{ID: 1, UUID: "u1", Email: "alice@example.com", FriendlyName: friendly, Password: "", Groups: groups, Settings: settings}
		other := &escUser{ID: 2, UUID: "u2", Email: "bob@example.com"}
		rows := []escContact{{UserID: 1, ContactID: 2, UUID: "c1", Name: name, Lists: lists, Pending: pending, Groups: contactGroups, IsMessengerUser: true, Nickname: &nick}}
		d, err := escargotDoc(u, rows, map[int64]*escUser{1: u, 2: other})
		if err != nil || d.normalize() != nil {
			return
		}
		if s, ok := invalidString(reflect.ValueOf(d)); ok {
			t.Fatalf("accepted account holds invalid UTF-8 %q", s)
		}
	})
}

// invalidString finds a string that is not UTF-8 anywhere in v.
func invalidString(v reflect.Value) (string, bool) {
	switch v.Kind() {
	case reflect.String:
		return v.String(), !utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return invalidString(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if s, bad := invalidString(v.Field(i)); bad {
				return s, true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if s, bad := invalidString(v.Index(i)); bad {
				return s, true
			}
		}
	}
	return "", false
}
