package store

import (
	"database/sql/driver"
	"reflect"
	"testing"
)

// TestSplitJSONRow: the split of SQLite's json_array rows returns the
// values the driver would have returned column by column, for every escape
// SQLite writes, and refuses what is not an array of scalars.
func TestSplitJSONRow(t *testing.T) {
	good := []struct {
		in   string
		want []driver.Value
	}{
		{`[]`, nil},
		{`[1,-2,null,"x"]`, []driver.Value{int64(1), int64(-2), nil, "x"}},
		{`[9223372036854775807,1.5]`, []driver.Value{int64(9223372036854775807), 1.5}},
		{`["a\"b\\c\/d","\b\f\n\r\t","\u0001\u00e9","\ud83d\ude00",""]`, []driver.Value{"a\"b\\c/d", "\b\f\n\r\t", "\x01é", "😀", ""}},
		{"[\"ünï\xff\"]", []driver.Value{"ünï\xff"}},
		{`["[{\"name\":\"A\",\"value\":\"1\"}]",3]`, []driver.Value{`[{"name":"A","value":"1"}]`, int64(3)}},
	}
	for _, c := range good {
		got, err := splitJSONRow(nil, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{``, `[`, `[1`, `[1,]`, `["a]`, `["\x"]`, `["\u12"]`, `[1]x`, `[nul]`, `[1 2]`, `[abc]`} {
		if got, err := splitJSONRow(nil, in); err == nil {
			t.Errorf("%q: accepted as %#v", in, got)
		}
	}
}
