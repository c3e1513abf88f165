package msnp

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseMLAccepts(t *testing.T) {
	t.Run("pidgin's single-quoted initial list", func(t *testing.T) {
		ml, err := ParseML([]byte(`<ml l='1'><d n='example.com'><c n='carol' l='3' t='1'/><c n='bob' l='3' t='1'/></d></ml>`))
		if err != nil {
			t.Fatal(err)
		}
		if ml.L != 1 || len(ml.Domains) != 1 || len(ml.Domains[0].Contacts) != 2 {
			t.Fatalf("%+v", ml)
		}
		c := ml.Domains[0].Contacts[1]
		if c.Name != "bob" || c.L != 3 || c.T != 1 || c.Email("example.com") != "bob@example.com" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("MSNPSharp's double quotes and space before />", func(t *testing.T) {
		ml, err := ParseML([]byte(`<ml l="1"><d n="example.com"><c n="bob" l="3" t="1" /><c n="carol" l="3" t="1" /></d></ml>`))
		if err != nil || len(ml.Domains[0].Contacts) != 2 {
			t.Fatal(ml, err)
		}
	})
	t.Run("an empty initial list (a new account) is valid", func(t *testing.T) {
		for _, p := range []string{`<ml l="1"></ml>`, `<ml l='1'/>`} {
			if ml, err := ParseML([]byte(p)); err != nil || ml.L != 1 || len(ml.Domains) != 0 {
				t.Errorf("%s: %+v %v", p, ml, err)
			}
		}
	})
	t.Run("the seed's phone contacts in <t>", func(t *testing.T) {
		ml, err := ParseML([]byte(`<ml l="1"><d n="hotmail.com"><c n="anotheruser" l="3" t="1" /></d><t><c n="tel:+15551111222" l="3" /></t></ml>`))
		if err != nil || len(ml.Phones) != 1 || ml.Phones[0].Email("") != "tel:+15551111222" {
			t.Fatal(ml, err)
		}
	})
	t.Run("whitespace between elements and attributes", func(t *testing.T) {
		ml, err := ParseML([]byte("<ml l = \"1\" >\r\n <d\tn=\"example.com\">\n  <c n=\"bob\"\n l=\"1\" t=\"1\"/>\n </d>\n</ml>\r\n"))
		if err != nil || ml.Domains[0].Contacts[0].Name != "bob" {
			t.Fatal(ml, err)
		}
	})
	t.Run("entities and character references are decoded", func(t *testing.T) {
		ml, err := ParseML([]byte(`<ml><d n="example.com"><c n="o&apos;brien&#x2E;x&#46;y" l="4" t="1"/></d></ml>`))
		if err != nil || ml.Domains[0].Contacts[0].Name != "o'brien.x.y" {
			t.Fatal(ml, err)
		}
	})
	t.Run("a Yahoo contact (network 32) in an incremental ADL", func(t *testing.T) {
		ml, err := ParseML([]byte(`<ml><d n="yahoo.com"><c n="fred" l="1" t="32"/></d></ml>`))
		if err != nil || ml.L != 0 || ml.Domains[0].Contacts[0].T != 32 {
			t.Fatal(ml, err)
		}
	})
	t.Run("an FQY query has names only", func(t *testing.T) {
		ml, err := ParseMLKind([]byte(`<ml><d n="example.com"><c n="dave"/></d></ml>`), MLQuery)
		if err != nil || ml.Domains[0].Contacts[0].Name != "dave" {
			t.Fatal(ml, err)
		}
	})
	t.Run("MaxMLContacts contacts fit", func(t *testing.T) {
		if _, err := ParseML(mlWith(MaxMLContacts)); err != nil {
			t.Fatal(err)
		}
	})
}

func mlWith(n int) []byte {
	var b strings.Builder
	b.WriteString(`<ml l="1"><d n="example.com">`)
	for i := 0; i < n; i++ {
		b.WriteString(`<c n="u` + strconv.Itoa(i) + `" l="1" t="1"/>`)
	}
	b.WriteString(`</d></ml>`)
	return []byte(b.String())
}

func TestParseMLRejects(t *testing.T) {
	cases := []struct {
		name string
		kind MLKind
		p    string
		code int
	}{
		{"an empty payload is 240", MLAdd, "", ErrADLEmpty},
		{"a blank payload is 240", MLAdd, " \r\n", ErrADLEmpty},
		{"an incremental ADL naming nobody is 240", MLAdd, `<ml></ml>`, ErrADLEmpty},
		{"a domain without contacts is 240", MLAdd, `<ml><d n="example.com"></d></ml>`, ErrADLEmpty},
		{"an empty-element domain is 240", MLAdd, `<ml><d n="example.com"/></ml>`, ErrADLEmpty},
		{"an empty <t> is 240", MLAdd, `<ml><t></t></ml>`, ErrADLEmpty},
		{"a network id that does not exist is 204", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="3"/></d></ml>`, ErrInvalidNetwork},
		{"a phone contact on another network is 204", MLAdd, `<ml><t><c n="tel:+1555" l="1" t="1"/></t></ml>`, ErrInvalidNetwork},
		{"the RL bit from a client is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="8" t="1"/></d></ml>`, ErrADLInvalid},
		{"the PL bit from a client is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="17" t="1"/></d></ml>`, ErrADLInvalid},
		{"list bits 0 are 241", MLRemove, `<ml><d n="example.com"><c n="bob" l="0" t="1"/></d></ml>`, ErrADLInvalid},
		{"a contact without l is 241", MLAdd, `<ml><d n="example.com"><c n="bob" t="1"/></d></ml>`, ErrADLInvalid},
		{"a contact without t is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1"/></d></ml>`, ErrADLInvalid},
		{"a contact without n is 241", MLAdd, `<ml><d n="example.com"><c l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a domain without n is 241", MLAdd, `<ml><d><c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a domain without a dot is 241", MLAdd, `<ml><d n="localhost"><c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a contact name with a space is 241", MLAdd, `<ml><d n="example.com"><c n="bo b" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a contact name with @ is 241", MLAdd, `<ml><d n="example.com"><c n="bob@evil.com" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a bad tel: URI is 241", MLAdd, `<ml><t><c n="tel:abc" l="1"/></t></ml>`, ErrADLInvalid},
		{"f from a client is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="1" f="x"/></d></ml>`, ErrADLInvalid},
		{"an unknown attribute is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="1" s="x"/></d></ml>`, ErrADLInvalid},
		{"an unknown <ml> attribute is 241", MLAdd, `<ml x="1"><d n="example.com"><c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a duplicate attribute is 241", MLAdd, `<ml><d n="example.com"><c n="bob" n="eve" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"an unquoted attribute is 241", MLAdd, `<ml><d n=example.com><c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"mixed quotes are 241", MLAdd, `<ml><d n="example.com'><c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"attributes without a space between are 241", MLAdd, `<ml><d n="example.com"><c n="bob"l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a non-numeric l is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="x" t="1"/></d></ml>`, ErrADLInvalid},
		{"a signed l is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="+1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a mismatched closing tag is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="1"/></ml></d>`, ErrADLInvalid},
		{"a missing </ml> is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="1"/></d>`, ErrADLInvalid},
		{"a second root is 241", MLAdd, `<ml l="1"></ml><ml l="1"></ml>`, ErrADLInvalid},
		{"another root element is 241", MLAdd, `<list><d n="example.com"><c n="bob" l="1" t="1"/></d></list>`, ErrADLInvalid},
		{"a <c> outside a domain is 241", MLAdd, `<ml><c n="bob" l="1" t="1"/></ml>`, ErrADLInvalid},
		{"a non-empty <c> is 241", MLAdd, `<ml><d n="example.com"><c n="bob" l="1" t="1"></c></d></ml>`, ErrADLInvalid},
		{"text content is 241", MLAdd, `<ml><d n="example.com">x<c n="bob" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"an XML declaration is 241", MLAdd, `<?xml version="1.0"?><ml l="1"></ml>`, ErrADLInvalid},
		{"a comment is 241", MLAdd, `<ml l="1"><!-- x --></ml>`, ErrADLInvalid},
		{"an unknown entity is 241", MLAdd, `<ml><d n="example.com"><c n="b&foo;" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a bare ampersand is 241", MLAdd, `<ml><d n="example.com"><c n="b&b" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"a reference to NUL is 241", MLAdd, `<ml><d n="example.com"><c n="b&#0;" l="1" t="1"/></d></ml>`, ErrADLInvalid},
		{"invalid UTF-8 is 241", MLAdd, "<ml><d n=\"example.com\"><c n=\"b\xff\" l=\"1\" t=\"1\"/></d></ml>", ErrADLInvalid},
		{"more than MaxMLContacts contacts is 241", MLAdd, string(mlWith(MaxMLContacts + 1)), ErrADLInvalid},
		{"an FQY with RL bits is 241", MLQuery, `<ml><d n="example.com"><c n="bob" l="8"/></d></ml>`, ErrADLInvalid},
		{"a server push with unknown bits is 241", MLServer, `<ml><d n="example.com"><c n="bob" l="32" t="1"/></d></ml>`, ErrADLInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseMLKind([]byte(c.p), c.kind)
			var e *Error
			if !errors.As(err, &e) || e.Code != c.code || e.Fatal || e.TrID != "" {
				t.Fatalf("error %v, want code %d", err, c.code)
			}
		})
	}
}

func TestMLAppend(t *testing.T) {
	t.Run("a server ADL 0 is written as PROTOCOL.md §5.1 shows", func(t *testing.T) {
		ml := ML{Domains: []MLDomain{{Name: "example.com", Contacts: []MLContact{{Name: "xuser", T: 1, L: 8, F: URLEncodeName("X friendly name")}}}}}
		want := `<ml><d n="example.com"><c n="xuser" t="1" l="8" f="X%20friendly%20name" /></d></ml>`
		if got := string(ml.Append(nil)); got != want {
			t.Fatalf("%s\nwant %s", got, want)
		}
	})
	t.Run("attribute values are escaped", func(t *testing.T) {
		ml := ML{L: 1, Domains: []MLDomain{{Name: "example.com", Contacts: []MLContact{{Name: `o'b&"<`, L: 1, T: 1}}}}}
		want := `<ml l="1"><d n="example.com"><c n="o&apos;b&amp;&quot;&lt;" t="1" l="1" /></d></ml>`
		if got := string(ml.Append(nil)); got != want {
			t.Fatalf("%s", got)
		}
	})
	t.Run("phones go into <t>", func(t *testing.T) {
		ml := ML{Phones: []MLContact{{Name: "tel:+1555", L: 1}}}
		if got := string(ml.Append(nil)); got != `<ml><t><c n="tel:+1555" l="1" /></t></ml>` {
			t.Fatalf("%s", got)
		}
	})
	t.Run("parse, append, parse gives the same list", func(t *testing.T) {
		in := `<ml l='1'><d n='example.com'><c n='carol' l='3' t='1'/><c n='bob' l='5' t='1'/></d><d n='yahoo.com'><c n='fred' l='1' t='32'/></d><t><c n='tel:+15551234567' l='1'/></t></ml>`
		a, err := ParseML([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseML(a.Append(nil))
		if err != nil {
			t.Fatal(err)
		}
		if string(a.Append(nil)) != string(b.Append(nil)) {
			t.Fatalf("%s\n%s", a.Append(nil), b.Append(nil))
		}
	})
	t.Run("FQYAnswer uses the network lookup and defaults to Passport", func(t *testing.T) {
		q, _ := ParseMLKind([]byte(`<ml l="2"><d n="yahoo.com"><c n="fred"/></d><d n="example.com"><c n="dave"/></d></ml>`), MLQuery)
		got := string(FQYAnswer(q, func(email string) int {
			if email == "fred@yahoo.com" {
				return 32
			}
			return 0
		}))
		want := `<ml><d n="yahoo.com"><c n="fred" t="32" /></d><d n="example.com"><c n="dave" t="1" /></d></ml>`
		if got != want {
			t.Fatalf("%s", got)
		}
	})
}
