package store_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/store"
)

// TestStoredBodyRoundTrip: every body comes back byte for byte from its
// stored form, empty, tiny, incompressible and answer-sized alike, into a
// recycled buffer when it fits; damaged forms are refused, never decoded
// into something else.
func TestStoredBodyRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 100_000)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	xml := strings.Repeat(`<Contact><contactId>5fa6bd0c-0b8d-4b38-a5a6-0b0e6b3f2a1`+"\u00e9"+`</contactId><contactInfo><isMessengerUser>true</isMessengerUser></contactInfo></Contact>`, 3000)
	bodies := [][]byte{{}, []byte("x"), []byte("STORED"), random[:14], random[:15], random[:270], random, []byte(xml)}
	for _, body := range bodies {
		enc := store.EncodeStoredBody(body)
		got, err := store.DecodeStoredBody(nil, enc)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: round trip gave %d bytes, %v", len(body), len(got), err)
		}
		buf := make([]byte, 0, len(body)+10)
		got, err = store.DecodeStoredBody(buf, enc)
		if err != nil || !bytes.Equal(got, body) || len(body) > 0 && &got[0] != &buf[:1][0] {
			t.Fatalf("%d bytes: not decoded into the recycled buffer (%v)", len(body), err)
		}
		if len(body) > 0 { // (an empty body has two forms: the length alone, or with an empty block)
			if _, err := store.DecodeStoredBody(nil, enc[:len(enc)-1]); err == nil {
				t.Errorf("%d bytes: a truncated form was accepted", len(body))
			}
		}
	}
	if enc := store.EncodeStoredBody([]byte(xml)); len(enc) > len(xml)/5 {
		t.Errorf("an answer-like body of %d bytes is stored in %d", len(xml), len(enc))
	}
	for _, bad := range [][]byte{nil, {0x80}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, {0x80, 0x80, 0x80, 0x80, 0x01, 0x10, 'x'}, {0x00, 0x10, 'x'}, {0x05, 0x50, 'a', 'b', 'c'}} {
		if got, err := store.DecodeStoredBody(nil, bad); err == nil {
			t.Errorf("% x: accepted as %q", bad, got)
		}
	}
}

// FuzzDecodeStoredBody: no stored form makes the decoder panic or return
// more than it claims; what decodes re-encodes to the same body.
func FuzzDecodeStoredBody(f *testing.F) {
	f.Add(store.EncodeStoredBody([]byte("<ab>hello hello hello hello</ab>")))
	f.Add([]byte{0x05, 0x50, 'a', 'b', 'c', 'd', 'e'})
	f.Fuzz(func(t *testing.T, enc []byte) {
		got, err := store.DecodeStoredBody(nil, enc)
		if err != nil {
			return
		}
		back, err := store.DecodeStoredBody(nil, store.EncodeStoredBody(got))
		if err != nil || !bytes.Equal(back, got) {
			t.Fatalf("re-encoding %d bytes: %v", len(got), err)
		}
	})
}

// BenchmarkEncodeStoredBody: the encoding every reader of a changed book
// pays before queueing its answer (a 337 KB ABFindAll-like body).
func BenchmarkEncodeStoredBody(b *testing.B) {
	body := []byte(strings.Repeat(`<Contact><contactId>5fa6bd0c-0b8d-4b38-a5a6-0b0e6b3f2a17</contactId><contactInfo><passportName>someone@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact>`, 1700))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		store.EncodeStoredBody(body)
	}
}
