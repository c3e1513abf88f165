package passport

import (
	"bytes"
	"testing"

	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/services/soap"
)

// FuzzRepairPassword: the RST body repair (purple 2.4's unescaped
// passwords) never panics, is idempotent, leaves a body that already parses
// unchanged unless its password element holds markup, and never turns a
// body that parsed into one that does not.
func FuzzRepairPassword(f *testing.F) {
	for _, c := range corpus.ClientBodies(f) {
		if bytes.Contains(c.Body, []byte("Password>")) {
			f.Add(c.Body)
		}
	}
	f.Add([]byte(`<wsse:Password>a&b<c&amp;d</wsse:Password>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		once := repairPassword(body)
		if twice := repairPassword(once); !bytes.Equal(once, twice) {
			t.Fatalf("not idempotent:\n%q\n%q", once, twice)
		}
		if _, err := soap.Parse(body); err != nil {
			return
		}
		if _, err := soap.Parse(once); err != nil {
			t.Fatalf("repair broke a body that parsed: %v\n%q\n%q", err, body, once)
		}
		if loc := passwordElement.FindSubmatchIndex(body); loc != nil && !bytes.Contains(body[loc[4]:loc[5]], []byte("<")) && !bytes.Equal(once, body) {
			t.Fatalf("changed a well-formed password:\n%q\n%q", body, once)
		}
	})
}
