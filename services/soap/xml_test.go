package soap_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

func wantCode(t *testing.T, err error, code models.Code) {
	t.Helper()
	if got := models.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

func TestParseRefusesWhatItMustNotExpand(t *testing.T) {
	for name, body := range map[string]string{
		"a DOCTYPE":                   `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>`,
		"a lower-case doctype":        `<!doctype x><x/>`,
		"an entity declaration alone": `<x><!ENTITY a SYSTEM "file:///etc/passwd"></x>`,
	} {
		t.Run(name+" is a BadRequest", func(t *testing.T) {
			_, err := soap.Parse([]byte(body))
			wantCode(t, err, models.CodeBadRequest)
			if !strings.Contains(err.Error(), "DTD") {
				t.Errorf("message %q does not name the DTD", err)
			}
		})
	}
	t.Run("comments and CDATA sections parse", func(t *testing.T) {
		doc, err := soap.Parse([]byte(`<x><!-- a comment --><![CDATA[a<b]]></x>`))
		if err != nil {
			t.Fatal(err)
		}
		if got := doc.Root().Text(); got != "a<b" {
			t.Errorf("text %q", got)
		}
	})
}

func TestParseRefusesMalformedAndDeepDocuments(t *testing.T) {
	for name, body := range map[string]string{
		"unclosed element": `<soap:Envelope><soap:Body>`,
		"mismatched tags":  `<a><b></a></b>`,
		"no root element":  `<?xml version="1.0"?>`,
		"nesting past the depth limit": strings.Repeat("<a>", soap.MaxDepth+1) +
			strings.Repeat("</a>", soap.MaxDepth+1),
	} {
		t.Run(name+" is a BadRequest", func(t *testing.T) {
			_, err := soap.Parse([]byte(body))
			wantCode(t, err, models.CodeBadRequest)
		})
	}
	t.Run("nesting within the limit parses", func(t *testing.T) {
		n := soap.MaxDepth - 1
		if _, err := soap.Parse([]byte(strings.Repeat("<a>", n) + strings.Repeat("</a>", n))); err != nil {
			t.Fatal(err)
		}
	})
}

// request is a body the way clients differ: prefixes or none, any case,
// padded text (PROTOCOL.md §0.6).
const request = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
	`<ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"><abView>
	  Full  </abView><DeltasOnly>TRUE</DeltasOnly><ab:lastChange xmlns:ab="x">0001</ab:lastChange>` +
	`<n>42</n><bad>maybe</bad><nan>4x</nan><item A="1"/><Item a="2" x:b=" 3 " xmlns:x="y"/></ABFindAll></soap:Body></soap:Envelope>`

func TestLookupIsByLocalNameCaseInsensitive(t *testing.T) {
	doc, err := soap.Parse([]byte(request))
	if err != nil {
		t.Fatal(err)
	}
	op := soap.Path(doc.Root(), "BODY", "abfindall")
	if op == nil {
		t.Fatal("Path did not find Body/ABFindAll ignoring case and prefix")
	}
	t.Run("text is trimmed", func(t *testing.T) {
		if got := soap.PathText(op, "ABVIEW"); got != "Full" {
			t.Errorf("abView %q", got)
		}
	})
	t.Run("a prefixed element is found by its local name", func(t *testing.T) {
		if got := soap.Text(soap.Child(op, "LastChange")); got != "0001" {
			t.Errorf("lastChange %q", got)
		}
	})
	t.Run("Children collects every case", func(t *testing.T) {
		if got := len(soap.Children(op, "item")); got != 2 {
			t.Errorf("%d items", got)
		}
	})
	t.Run("attributes match by local name, any case, untrimmed", func(t *testing.T) {
		items := soap.Children(op, "item")
		if v, ok := soap.Attr(items[0], "a"); !ok || v != "1" {
			t.Errorf("A = %q %v", v, ok)
		}
		if v, ok := soap.Attr(items[1], "B"); !ok || v != " 3 " {
			t.Errorf("x:b = %q %v", v, ok)
		}
		if _, ok := soap.Attr(items[1], "c"); ok {
			t.Error("missing attribute found")
		}
	})
	t.Run("booleans in any case", func(t *testing.T) {
		v, present, err := soap.Bool(soap.Child(op, "deltasOnly"))
		if err != nil || !present || !v {
			t.Errorf("deltasOnly = %v %v %v", v, present, err)
		}
		_, present, err = soap.Bool(soap.Child(op, "missing"))
		if err != nil || present {
			t.Errorf("missing element: present %v err %v", present, err)
		}
		_, _, err = soap.Bool(soap.Child(op, "bad"))
		wantCode(t, err, models.CodeBadRequest)
	})
	t.Run("integers", func(t *testing.T) {
		if v, present, err := soap.Int64(soap.Child(op, "n")); err != nil || !present || v != 42 {
			t.Errorf("n = %d %v %v", v, present, err)
		}
		_, _, err := soap.Int64(soap.Child(op, "nan"))
		wantCode(t, err, models.CodeBadRequest)
	})
	t.Run("missing elements are nil and empty, never a panic", func(t *testing.T) {
		if soap.Path(op, "nothing", "below") != nil || soap.Child(nil, "x") != nil || soap.Children(nil, "x") != nil {
			t.Error("found something under a missing element")
		}
		if soap.PathText(op, "nothing", "below") != "" || soap.Text(nil) != "" {
			t.Error("text of a missing element")
		}
		if _, ok := soap.Attr(nil, "a"); ok {
			t.Error("attribute of a nil element")
		}
	})
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"//abservice/abservice.asmx":      "/abservice/abservice.asmx", // purple 2.5+
		"/AbService//SharingService.asmx": "/abservice/sharingservice.asmx",
		"RST.srf":                         "/rst.srf",
		"/":                               "/",
		"":                                "/",
	} {
		if got := soap.NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncateCutsAtACharacterBoundary(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"},
		{"abcdef", 3, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not cut in half
		{"日本", 4, "日"},
		{"日本", 0, ""},
	} {
		if got := soap.Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestActionName(t *testing.T) {
	for in, want := range map[string]string{
		`"http://www.msn.com/webservices/AddressBook/ABFindAll"`: "ABFindAll", // BitlBee, msnp-sharp quote it
		"http://www.msn.com/webservices/AddressBook/ABAdd":       "ABAdd",
		" FindMembership ": "FindMembership",
		"":                 "",
	} {
		if got := soap.ActionName(in); got != want {
			t.Errorf("ActionName(%q) = %q, want %q", in, got, want)
		}
	}
}
