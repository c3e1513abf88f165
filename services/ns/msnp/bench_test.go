package msnp

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// BenchmarkReader reads the client side of the pidgin 2.4.3 sign-in.
func BenchmarkReader(b *testing.B) {
	stream := clientStream(loadCapture(b, "testdata/captures/pidgin-2.4.3-msnp13-login.log"))
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := NewReader(bytes.NewReader(stream), DefaultLimits)
		for {
			if _, err := r.Read(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// BenchmarkParseML parses an initial ADL of 150 contacts (pidgin's batch).
func BenchmarkParseML(b *testing.B) {
	p := mlWith(150)
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseML(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendSYN writes the full MSNP9 and MSNP12 SYN answers of a
// list of 1,000 contacts in 20 groups (the NS API's contact limit).
func BenchmarkAppendSYN(b *testing.B) {
	l := SYNList{Version: "1234", Settings: "2026-12-06T05:14:15.1598562Z", Name: "Alice"}
	for g := 1; g <= 20; g++ {
		l.Groups = append(l.Groups, SYNGroup{ID: g, GUID: "00000000-0000-0000-0000-0000000000" + string(rune('a'+g%26)) + "0", Name: "Group " + string(rune('A'+g%26))})
	}
	for i := 0; i < 1000; i++ {
		l.Contacts = append(l.Contacts, SYNContact{Email: "contact" + string(rune('a'+i%26)) + "@example.com", Name: "Contact Name",
			GUID: "11111111-2222-3333-4444-555555555555", Lists: ListFL | ListAL | ListRL, Groups: []string{"3"}})
	}
	for _, ver := range []int{MSNP9, MSNP12} {
		b.Run(VersionName(ver), func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for i := 0; i < b.N; i++ {
				n = len(AppendSYN(nil, "5", l, ver))
			}
			b.SetBytes(int64(n))
		})
	}
}
