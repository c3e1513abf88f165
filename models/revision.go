package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Revisions are 100 ns ticks since the Unix epoch. The wire form is the
// ISO-8601 timestamp with seven fraction digits, so a cursor a client echoes
// back parses to exactly the revision we sent (PROTOCOL.md §0.6, §1.4).

// TicksPerSecond is the number of revision ticks in a second.
const TicksPerSecond = 10_000_000

// NeverTimestamp is the "never" value clients send and expect (§0.6).
const NeverTimestamp = "0001-01-01T00:00:00"

// RevisionAt returns the revision for time t.
func RevisionAt(t time.Time) int64 {
	return t.Unix()*TicksPerSecond + int64(t.Nanosecond()/100)
}

// RevisionTime returns the time of revision r.
func RevisionTime(r int64) time.Time {
	sec := r / TicksPerSecond
	rem := r % TicksPerSecond
	if rem < 0 {
		sec--
		rem += TicksPerSecond
	}
	return time.Unix(sec, rem*100).UTC()
}

// FormatRevision renders r as 2006-01-02T15:04:05.0000000Z.
func FormatRevision(r int64) string {
	return FormatTime(RevisionTime(r))
}

// FormatTime renders t in UTC with seven fraction digits and Z.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}

// ParseTimestamp parses any ISO-8601 form clients send: with or without a
// fraction (any number of digits), with Z, an offset or no zone (taken as
// UTC). Year 0001 means "never" and yields ok=true with never=true.
func ParseTimestamp(s string) (t time.Time, never bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true, nil
	}
	if strings.HasPrefix(s, "0001-01-01") {
		return time.Time{}, true, nil
	}
	// Split off the zone.
	main, zone := s, ""
	if strings.HasSuffix(main, "Z") || strings.HasSuffix(main, "z") {
		main, zone = main[:len(main)-1], "Z"
	} else if i := strings.LastIndexAny(main, "+-"); i > 10 {
		main, zone = main[:i], main[i:]
	}
	frac := ""
	if i := strings.IndexByte(main, '.'); i >= 0 {
		main, frac = main[:i], main[i+1:]
	}
	base, err := time.Parse("2006-01-02T15:04:05", main)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("bad timestamp %q", s)
	}
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		for _, c := range frac {
			if c < '0' || c > '9' {
				return time.Time{}, false, fmt.Errorf("bad timestamp %q", s)
			}
		}
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		base = base.Add(time.Duration(n))
	}
	if zone != "" && zone != "Z" {
		sign := 1
		if zone[0] == '-' {
			sign = -1
		}
		z := strings.ReplaceAll(zone[1:], ":", "")
		if len(z) != 4 {
			return time.Time{}, false, fmt.Errorf("bad timestamp zone %q", s)
		}
		h, err1 := strconv.Atoi(z[:2])
		m, err2 := strconv.Atoi(z[2:])
		if err1 != nil || err2 != nil {
			return time.Time{}, false, fmt.Errorf("bad timestamp zone %q", s)
		}
		base = base.Add(-time.Duration(sign) * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute))
	}
	return base.UTC(), false, nil
}
