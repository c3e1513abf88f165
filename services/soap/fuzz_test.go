package soap_test

import (
	"bytes"
	"testing"

	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// FuzzParse: the request parser never panics; what it refuses is a
// BadRequest error; what it accepts re-encodes (etree) to a document that
// parses again to the same document.
func FuzzParse(f *testing.F) {
	for _, c := range corpus.ClientBodies(f) {
		f.Add(c.Body)
	}
	f.Add([]byte(`<?xml version="1.0"?><a/><a/>`))
	f.Add([]byte("<?xml version='1.0' encoding='\xff'?><a/>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := soap.Parse(body)
		if err != nil {
			if models.ErrorCode(err) != models.CodeBadRequest {
				t.Fatalf("refused with %v, want a BadRequest error", err)
			}
			return
		}
		if doc.Root() == nil {
			t.Fatal("accepted a document without a root")
		}
		first, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		again, err := soap.Parse(first)
		if err != nil {
			t.Fatalf("re-encoded document does not parse: %v\n%q", err, first)
		}
		second, err := again.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("re-encoding is not stable:\n%q\n%q", first, second)
		}
	})
}
