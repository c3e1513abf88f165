package models

import (
	"testing"
	"time"
)

func TestRevisionRoundTrip(t *testing.T) {
	for _, ts := range []time.Time{
		time.Date(2008, 8, 10, 15, 20, 6, 427_000_000, time.UTC),
		time.Date(2026, 11, 22, 4, 0, 0, 123_456_700, time.UTC),
	} {
		r := RevisionAt(ts)
		s := FormatRevision(r)
		got, never, err := ParseTimestamp(s)
		if err != nil || never {
			t.Fatalf("%s: %v %v", s, never, err)
		}
		if RevisionAt(got) != r {
			t.Errorf("%s parsed back to revision %d, want %d", s, RevisionAt(got), r)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	want := time.Date(2007, 11, 13, 3, 9, 54, 63_000_000, time.UTC)
	for _, s := range []string{"2007-11-12T19:09:54.0630000-08:00", "2007-11-13T03:09:54.063Z", "2007-11-13T03:09:54.063", " 2007-11-13T03:09:54.0630000+00:00 "} {
		got, never, err := ParseTimestamp(s)
		if err != nil || never || !got.Equal(want) {
			t.Errorf("%q: got %v never=%v err=%v", s, got, never, err)
		}
	}
	for _, s := range []string{"0001-01-01T00:00:00.0000000-08:00", "0001-01-01T00:00:00", ""} {
		if _, never, err := ParseTimestamp(s); err != nil || !never {
			t.Errorf("%q: never=%v err=%v", s, never, err)
		}
	}
	for _, s := range []string{"yesterday", "2007-13-45T00:00:00Z", "2007-11-13T03:09:54.06x", "2007-11-13T03:09:54+8"} {
		if _, _, err := ParseTimestamp(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got, err := NormalizeEmail(" Bob.Smith+x@Example.COM "); err != nil || got != "bob.smith+x@example.com" {
		t.Errorf("got %q %v", got, err)
	}
	for _, bad := range []string{"", "x", "a@b", "a@-b.com", "a..b@c.com", "a@b..com", "<a>@b.com", "a@b.com@c.com"} {
		if _, err := NormalizeEmail(bad); ErrorCode(err) != CodeInvalidEmail {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
