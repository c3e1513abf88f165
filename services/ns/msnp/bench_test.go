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
