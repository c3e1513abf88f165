package xmlw_test

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/xmlw"
)

func TestTextUsesNamedEntitiesOnly(t *testing.T) {
	// aMSN's xml2list decodes only the five named entities; a nickname with
	// quotes, apostrophes and a newline must reach it as typed
	// (clients/RESPONSES.md §1 rule 8).
	w := xmlw.New(0)
	w.Leaf("displayName", "Tom & \"Jerry\" <it's>\nsecond line\ttab")
	want := "<displayName>Tom &amp; \"Jerry\" &lt;it's&gt;\nsecond line\ttab</displayName>"
	if got := w.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestCarriageReturnSurvivesParsing(t *testing.T) {
	// A raw \r\n would be folded to \n by every XML parser; &#xD; keeps it.
	w := xmlw.New(0)
	w.Leaf("a", "x\r\ny")
	if got := w.String(); got != "<a>x&#xD;\ny</a>" {
		t.Fatalf("got %s", got)
	}
	if got := parseText(t, w.String()); got != "x\r\ny" {
		t.Errorf("parsed %q", got)
	}
}

func TestNonXMLCharactersBecomeReplacementCharacter(t *testing.T) {
	// A control character or a broken UTF-8 sequence in a stored display
	// name must not make the whole address book unreadable.
	for name, in := range map[string]string{
		"control character": "a\x01b",
		"invalid UTF-8":     "a\xffb",
		"U+FFFE":            "a\uFFFEb",
		"NUL":               "a\x00b",
	} {
		t.Run(name, func(t *testing.T) {
			w := xmlw.New(0)
			w.Leaf("a", in)
			if got := parseText(t, w.String()); got != "a\uFFFDb" {
				t.Errorf("parsed %q, want a\\uFFFDb", got)
			}
		})
	}
	t.Run("valid multi-byte text is copied as is", func(t *testing.T) {
		w := xmlw.New(0)
		w.Leaf("a", "Zoë 😀 日本")
		if got := w.String(); got != "<a>Zoë 😀 日本</a>" {
			t.Errorf("got %s", got)
		}
	})
}

func TestAttributeValuesEscapeQuotesAndWhitespace(t *testing.T) {
	w := xmlw.New(0)
	w.Start("c")
	w.Attr("n", "a\"b&c<d>e\tf\ng\rh")
	w.EndEmpty()
	want := `<c n="a&quot;b&amp;c&lt;d&gt;e&#x9;f&#xA;g&#xD;h"/>`
	if got := w.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var v struct {
		N string `xml:"n,attr"`
	}
	if err := xml.Unmarshal(w.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.N != "a\"b&c<d>e\tf\ng\rh" {
		t.Errorf("parsed %q", v.N)
	}
}

func TestEmptyElementSpelling(t *testing.T) {
	t.Run("compact by default, as etree wrote Sharing and Passport answers", func(t *testing.T) {
		w := xmlw.New(0)
		w.Empty("Changes")
		w.Leaf("ForeignId", "")
		w.EmptyAttr("r", "URI", "#x")
		if got := w.String(); got != `<Changes/><ForeignId/><r URI="#x"/>` {
			t.Errorf("got %s", got)
		}
	})
	t.Run("spaced, as the Address Book captures and MSNP payloads", func(t *testing.T) {
		w := &xmlw.Writer{Spaced: true}
		w.Empty("propertiesChanged")
		w.LeafAttr("x", "xmlns", "urn:a", "")
		if got := w.String(); got != `<propertiesChanged /><x xmlns="urn:a" />` {
			t.Errorf("got %s", got)
		}
	})
}

func TestDocumentIsCompactAndWellFormed(t *testing.T) {
	w := xmlw.New(64)
	w.Raw(xmlw.Declaration)
	w.OpenAttr("r", "xmlns", "urn:x")
	w.Bool("yes", true)
	w.Bool("no", false)
	w.Int("n", -42)
	w.LeafAttr("e", "xmlns", "urn:y", "t")
	w.Open("t")
	w.Text("a&b")
	w.Close("t")
	w.Close("r")
	want := `<?xml version="1.0" encoding="utf-8"?><r xmlns="urn:x"><yes>true</yes><no>false</no><n>-42</n><e xmlns="urn:y">t</e><t>a&amp;b</t></r>`
	if got := w.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if w.Len() != len(want) {
		t.Errorf("Len %d, want %d", w.Len(), len(want))
	}
	d := xml.NewDecoder(strings.NewReader(w.String()))
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v", err)
			}
			break
		}
		if cd, ok := tok.(xml.CharData); ok && strings.TrimSpace(string(cd)) == "" && len(cd) > 0 {
			t.Errorf("whitespace-only text node %q", cd)
		}
	}
}

// parseText returns the character data of the single element in doc.
func parseText(t *testing.T, doc string) string {
	t.Helper()
	var v struct {
		Text string `xml:",chardata"`
	}
	if err := xml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return v.Text
}

func BenchmarkLeaf(b *testing.B) {
	w := xmlw.New(1 << 16)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if w.Len() > 1<<15 {
			w = xmlw.New(1 << 16)
		}
		w.Leaf("displayName", "Bob Builder <bob@example.com> & friends")
	}
}

// FuzzRoundTrip: whatever a client stored, an XML parser reads back exactly
// the same text and attribute value, except that characters XML cannot
// carry come back as U+FFFD.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "plain", "a&b<c>d\"e'f", "x\r\ny\tz\n", "Zoë 😀", "\x00\x01\x1f", "\xff\xfe", "\uFFFE\uFFFF", "]]>", "&amp;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w := xmlw.New(0)
		w.Start("a")
		w.Attr("v", s)
		w.EndStart()
		w.Text(s)
		w.Close("a")
		var v struct {
			V    string `xml:"v,attr"`
			Text string `xml:",chardata"`
		}
		if err := xml.Unmarshal(w.Bytes(), &v); err != nil {
			t.Fatalf("%q: not well-formed: %v\n%s", s, err, w.Bytes())
		}
		want := xmlCharsOnly(s)
		if v.Text != want || v.V != want {
			t.Errorf("%q: text %q, attribute %q, want %q", s, v.Text, v.V, want)
		}
	})
}

// xmlCharsOnly is s with every non-XML character replaced by U+FFFD.
func xmlCharsOnly(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		ok := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if r == utf8.RuneError && n == 1 || !ok {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// TestTimeMatchesTimeFormat: the hand-written timestamp is byte for byte
// time.Format's 2006-01-02T15:04:05.0000000Z in UTC, for instants in other
// zones, with and without a fraction, at the edges of the 100 ns tick, and
// for years time.Format has to write itself.
func TestTimeMatchesTimeFormat(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	for _, tm := range []time.Time{
		time.Date(2008, 8, 10, 15, 20, 6, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2009, 1, 2, 3, 4, 5, 100, east),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1234567, time.UTC),
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.0000000Z")
		if got := string(xmlw.AppendTime(nil, tm)); got != want {
			t.Errorf("%v: got %s, want %s", tm, got, want)
		}
		w := xmlw.New(0)
		w.Time("lastChange", tm)
		if got := w.String(); got != "<lastChange>"+want+"</lastChange>" {
			t.Errorf("Time wrote %s", got)
		}
	}
}
