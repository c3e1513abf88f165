package soap_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// corpusBodies returns every request body real clients sent: the envelopes
// under clients/requests and the bodies of the .http captures.
func corpusBodies(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	clients := testenv.ClientsDir(t)
	for _, dir := range []string{"requests", "captures"} {
		err := filepath.WalkDir(filepath.Join(clients, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			switch filepath.Ext(p) {
			case ".xml":
			case ".http":
				i := bytes.Index(b, []byte("\r\n\r\n"))
				if i < 0 {
					return nil
				}
				b = b[i+4:]
			default:
				return nil
			}
			rel, _ := filepath.Rel(clients, p)
			out[rel] = b
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 150 {
		t.Fatalf("only %d client bodies found", len(out))
	}
	return out
}

// TestParseAcceptsEveryClientBody: every client body that encoding/xml
// (under etree) reads still parses with the well-formedness checks. The
// rest are templates with placeholders (emesene's &tickettoken;) and purple
// 2.4's unescaped RST passwords, which the passport service repairs first.
func TestParseAcceptsEveryClientBody(t *testing.T) {
	checked := 0
	for name, body := range corpusBodies(t) {
		if etree.NewDocument().ReadFromBytes(body) != nil {
			continue
		}
		checked++
		if _, err := soap.Parse(body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if checked < 150 {
		t.Fatalf("only %d client bodies checked", checked)
	}
}

func TestParseRefusesMalformedDocuments(t *testing.T) {
	const env = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"><abId>x</abId></ABFindAll></soap:Body></soap:Envelope>`
	bad := map[string]string{
		"misspelt version attribute":             `<?xml vevsion='1.0' encoding='utf-8'?>` + env,
		"invalid UTF-8 in the encoding name":     "<?xml version='1.0' encoding='utf-\xff8'?>" + env,
		"encoding name with a space":             `<?xml version="1.0" encoding="utf 8"?>` + env,
		"declared encoding read as UTF-8":        `<?xml version="1.0" encoding="iso-8859-1"?>` + env,
		"declaration without version":            `<?xml encoding="utf-8"?>` + env,
		"declaration with unknown attribute":     `<?xml version="1.0" foo="bar"?>` + env,
		"attributes out of order":                `<?xml version="1.0" standalone="yes" encoding="utf-8"?>` + env,
		"bad standalone":                         `<?xml version="1.0" standalone="maybe"?>` + env,
		"unquoted version":                       `<?xml version=1.0?>` + env,
		"declaration after the root":             env + `<?xml version="1.0"?>`,
		"declaration after a comment":            `<!-- c --><?xml version="1.0"?>` + env,
		"envelope written twice":                 env + env,
		"trailing element":                       env + `<x/>`,
		"trailing text":                          env + `junk`,
		"text before the root":                   `junk` + env,
		"invalid UTF-8 in element text":          strings.Replace(env, "<abId>x", "<abId>\xffx", 1),
		"invalid UTF-8 in a comment":             "<!-- \xff -->" + env,
		"invalid UTF-8 in a processing instruc.": "<?pi \xfe?>" + env,
		"truncated UTF-8 sequence at the end":    env + "\xe2\x82",
	}
	for name, body := range bad {
		t.Run(name+" is BadRequest", func(t *testing.T) {
			_, err := soap.Parse([]byte(body))
			if models.ErrorCode(err) != models.CodeBadRequest {
				t.Fatalf("got %v, want a BadRequest error", err)
			}
		})
	}
	good := map[string]string{
		"no declaration":                   env,
		"double-quoted declaration":        `<?xml version="1.0" encoding="utf-8"?>` + env,
		"single-quoted declaration":        `<?xml version='1.0' encoding='utf-8'?>` + env,
		"space before ?>":                  `<?xml version="1.0" encoding="utf-8" ?>` + env,
		"upper-case UTF-8":                 `<?xml version="1.0" encoding="UTF-8"?>` + env,
		"standalone":                       `<?xml version="1.0" encoding="utf-8" standalone="yes"?>` + env,
		"byte order mark":                  "\ufeff<?xml version=\"1.0\"?>" + env,
		"trailing CRLF and spaces":         env + "\r\n  \n",
		"comment after the root":           env + "<!-- bye -->",
		"xml-stylesheet PI (not the decl)": `<?xml-stylesheet href="a"?>` + env,
		"non-ASCII text":                   strings.Replace(env, "<abId>x", "<abId>é☃😀", 1),
	}
	for name, body := range good {
		t.Run(name+" parses", func(t *testing.T) {
			if _, err := soap.Parse([]byte(body)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
