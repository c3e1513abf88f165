package store

import (
	"database/sql/driver"
	"reflect"
	"testing"
	"time"
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

// TestParseWrittenTime: the hand-written reader of the driver's time form
// gives the instant time.Parse gives, and leaves every other form to it.
func TestParseWrittenTime(t *testing.T) {
	for _, s := range []string{
		"2026-12-06 05:39:25.123456789+00:00",
		"2026-12-06 05:39:25+00:00",
		"2008-08-10 15:20:06.5-07:00",
		"2000-02-29 23:59:59.000000001+05:30",
		"0001-01-01 00:00:00+00:00",
	} {
		want, err := time.Parse("2006-01-02 15:04:05.999999999-07:00", s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseWrittenTime(s)
		if !ok || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v %v, want %v", s, got, ok, want)
		}
		if p, err := parseSQLiteTime(s); err != nil || !p.Equal(want) {
			t.Errorf("%s: parseSQLiteTime %v %v", s, p, err)
		}
	}
	for _, s := range []string{"2026-12-06T05:39:25Z", "2026-12-06 05:39:25", "2026-02-31 00:00:00+00:00", "2026-12-06 05:39:25.+00:00", "2026-13-06 05:39:25+00:00", "2026-12-06 05:39:25+0000"} {
		if got, ok := parseWrittenTime(s); ok {
			t.Errorf("%s: read as %v", s, got)
		}
	}
	if p, err := parseSQLiteTime("2026-12-06T05:39:25Z"); err != nil || !p.Equal(time.Date(2026, 12, 6, 5, 39, 25, 0, time.UTC)) {
		t.Errorf("other forms: %v %v", p, err)
	}
}
