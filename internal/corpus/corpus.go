// Package corpus loads the real client traffic under fixtures/clients
// (requests, captures: copied from the shared reference set, see its README)
// for tests and fuzz seeds.
// It imports only internal/fixtures from abch, so any package's internal
// tests can use it.
package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/fixtures"
)

// ClientBody is one request body a real client sent (clients/requests,
// clients/captures), with the path it was posted to.
type ClientBody struct {
	Name string // relative to clients/
	Path string // HTTP path, e.g. /abservice/abservice.asmx
	Body []byte
}

// SeedPath adds to f, as seeds, the bodies the clients posted to path
// (compared as the SOAP router does: case-insensitively, repeated slashes
// as one).
func SeedPath(f *testing.F, path string) {
	f.Helper()
	for _, c := range ClientBodies(f) {
		if cleanPath(c.Path) == cleanPath(path) {
			f.Add(c.Body)
		}
	}
}

// cleanPath lower-cases p and collapses repeated slashes.
func cleanPath(p string) string {
	p = strings.ToLower(p)
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return p
}

// ClientBodies loads every request body of the client corpus, sorted by
// name: the .xml envelopes under clients/requests (their path follows from
// the operation in the file name) and the bodies of the .http captures.
// Fuzz targets add them as seeds.
func ClientBodies(t testing.TB) []ClientBody {
	t.Helper()
	clients := fixtures.ClientsDir(t)
	var out []ClientBody
	for _, dir := range []string{"requests", "captures"} {
		err := filepath.WalkDir(filepath.Join(clients, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(clients, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			switch filepath.Ext(p) {
			case ".xml":
				if path := pathForOperation(filepath.Base(p)); path != "" {
					out = append(out, ClientBody{Name: rel, Path: path, Body: b})
				}
			case ".http":
				head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
				if !ok {
					return nil
				}
				line, _, _ := bytes.Cut(head, []byte("\r\n"))
				f := strings.Fields(string(line))
				if len(f) == 3 && f[0] == "POST" {
					out = append(out, ClientBody{Name: rel, Path: f[1], Body: body})
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 150 {
		t.Fatalf("only %d client bodies found under %s", len(out), clients)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// pathForOperation maps a clients/requests file name (Operation[.variant].xml)
// to the service path it is posted to.
func pathForOperation(file string) string {
	op, _, _ := strings.Cut(file, ".")
	switch {
	case strings.HasPrefix(op, "AB"):
		return "/abservice/abservice.asmx"
	case op == "FindMembership" || op == "AddMember" || op == "DeleteMember":
		return "/abservice/SharingService.asmx"
	case op == "RequestMultipleSecurityTokens":
		return "/RST.srf"
	case op == "Store" || op == "Store2":
		return "/OimWS/oim.asmx"
	case op == "GetMetadata" || op == "GetMessage" || op == "DeleteMessages":
		return "/rsi/rsi.asmx"
	}
	return ""
}
