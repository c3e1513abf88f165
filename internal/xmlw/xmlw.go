// Package xmlw writes compact XML by construction into a byte slice: the one
// writer of every SOAP answer and fault (Address Book, Sharing, Passport,
// OIM/RSI) and of the XML payloads the NS sends (internal/events). It imports
// nothing from the project, so any package can use it.
//
// The output is what the frozen clients read (clients/RESPONSES.md §1): no
// whitespace between elements (emesene keeps the last text seen per tag,
// pidgin crashes on whitespace between RST answers), and one escaping rule
// (Escape) that uses named entities for markup characters, because aMSN and
// emesene decode nothing else: encoding/xml's &#39; and &#xA; would show up
// literally in nicknames.
//
// Parsing requests is not this package's job (services/soap, etree).
package xmlw

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Declaration is the XML declaration every SOAP answer starts with.
const Declaration = `<?xml version="1.0" encoding="utf-8"?>`

// Writer appends XML to a byte slice. Element and attribute names are the
// caller's constants and are written as given; text and attribute values
// are escaped. The zero value is ready to use.
type Writer struct {
	b []byte
	// Spaced writes empty elements as <name /> instead of <name/>: the
	// spelling of the Address Book captures and of the MSNP list payloads
	// (<c n="bob" t="1" l="8" />). Both are the same XML; each document
	// keeps the spelling its golden files and captures have.
	Spaced bool
}

// New returns a Writer with capacity bytes preallocated.
func New(capacity int) *Writer { return &Writer{b: make([]byte, 0, capacity)} }

// Bytes returns what was written. The Writer must not be used afterwards
// if the caller keeps the slice.
func (w *Writer) Bytes() []byte { return w.b }

// String returns what was written as a string.
func (w *Writer) String() string { return string(w.b) }

// Len is the number of bytes written.
func (w *Writer) Len() int { return len(w.b) }

// Raw appends s unchanged: trusted markup such as Declaration or a
// constant fragment. Never pass data through Raw.
func (w *Writer) Raw(s string) { w.b = append(w.b, s...) }

// Open writes <name>.
func (w *Writer) Open(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// OpenAttr writes <name key="value">, the common case of one namespace
// declaration on an element.
func (w *Writer) OpenAttr(name, key, value string) {
	w.Start(name)
	w.Attr(key, value)
	w.b = append(w.b, '>')
}

// Start writes <name and leaves the tag open for Attr; finish it with
// EndStart (content follows) or EndEmpty (no content).
func (w *Writer) Start(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
}

// Attr writes key="value" inside a tag begun with Start, value escaped.
func (w *Writer) Attr(key, value string) {
	w.b = append(w.b, ' ')
	w.b = append(w.b, key...)
	w.b = append(w.b, '=', '"')
	w.b = appendEscaped(w.b, value, true)
	w.b = append(w.b, '"')
}

// EndStart closes a tag begun with Start: >.
func (w *Writer) EndStart() { w.b = append(w.b, '>') }

// EndEmpty closes a tag begun with Start as an empty element: /> (or />
// after a space when Spaced).
func (w *Writer) EndEmpty() {
	if w.Spaced {
		w.b = append(w.b, ' ')
	}
	w.b = append(w.b, '/', '>')
}

// Close writes </name>.
func (w *Writer) Close(name string) {
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// Empty writes the empty element <name/> (<name /> when Spaced).
func (w *Writer) Empty(name string) {
	w.Start(name)
	w.EndEmpty()
}

// EmptyAttr writes the empty element <name key="value"/>.
func (w *Writer) EmptyAttr(name, key, value string) {
	w.Start(name)
	w.Attr(key, value)
	w.EndEmpty()
}

// Leaf writes <name>text</name> with text escaped, or the empty element
// when text is empty.
func (w *Writer) Leaf(name, text string) {
	if text == "" {
		w.Empty(name)
		return
	}
	w.Open(name)
	w.b = appendEscaped(w.b, text, false)
	w.Close(name)
}

// LeafAttr writes <name key="value">text</name>.
func (w *Writer) LeafAttr(name, key, value, text string) {
	w.Start(name)
	w.Attr(key, value)
	if text == "" {
		w.EndEmpty()
		return
	}
	w.b = append(w.b, '>')
	w.b = appendEscaped(w.b, text, false)
	w.Close(name)
}

// Bool writes <name>true</name> or <name>false</name>.
func (w *Writer) Bool(name string, v bool) {
	if v {
		w.Leaf(name, "true")
	} else {
		w.Leaf(name, "false")
	}
}

// Int writes <name>n</name> in decimal.
func (w *Writer) Int(name string, n int64) {
	w.Open(name)
	w.b = strconv.AppendInt(w.b, n, 10)
	w.Close(name)
}

// Time writes <name>t</name> with t in UTC as 2006-01-02T15:04:05.0000000Z
// (seven fraction digits: the .NET round-trip form every timestamp of the
// SOAP services has), without time.Format's work per call.
func (w *Writer) Time(name string, t time.Time) {
	w.Open(name)
	w.b = AppendTime(w.b, t)
	w.Close(name)
}

// AppendTime appends t in UTC as 2006-01-02T15:04:05.0000000Z; a year
// outside 0–9999 falls back to time.Format.
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.0000000Z")
	}
	hour, min, sec := t.Clock()
	frac := t.Nanosecond() / 100
	var buf [28]byte
	put := func(at, n, digits int) {
		for i := at + digits - 1; i >= at; i-- {
			buf[i] = byte('0' + n%10)
			n /= 10
		}
	}
	put(0, year, 4)
	buf[4] = '-'
	put(5, int(month), 2)
	buf[7] = '-'
	put(8, day, 2)
	buf[10] = 'T'
	put(11, hour, 2)
	buf[13] = ':'
	put(14, min, 2)
	buf[16] = ':'
	put(17, sec, 2)
	buf[19] = '.'
	put(20, frac, 7)
	buf[27] = 'Z'
	return append(b, buf[:]...)
}

// Text writes character data, escaped.
func (w *Writer) Text(s string) { w.b = appendEscaped(w.b, s, false) }

// needs marks the ASCII bytes that text escaping looks at: & < > and the
// control characters (\r gets &#xD; so a parser does not fold \r\n; the
// other controls are not XML characters at all). Attribute values also
// escape " \t \n (attribute-value normalisation would turn them into
// spaces).
var needs = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = c != '\t' && c != '\n'
	}
	t['&'], t['<'], t['>'] = true, true, true
	return t
}()

// appendEscaped is the one escaping rule: &amp; &lt; &gt; (and &quot; in
// attribute values) by name; \r as &#xD;, and in attribute values \t and
// \n as &#x9; &#xA;; a byte that is not part of an XML character (other
// controls, invalid UTF-8, U+FFFE, U+FFFF) becomes U+FFFD so the document
// stays well-formed for every client. Everything else, including raw
// newlines in text, is copied as is.
func appendEscaped(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if !needs[c] && !(attr && (c == '"' || c == '\t' || c == '\n')) {
				i++
				continue
			}
			b = append(b, s[last:i]...)
			b = append(b, asciiEntity(c)...)
			i++
			last = i
			continue
		}
		r, width := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && width == 1) || r == 0xFFFE || r == 0xFFFF {
			b = append(b, s[last:i]...)
			b = append(b, "\uFFFD"...)
			last = i + width
		}
		i += width
	}
	return append(b, s[last:]...)
}

func asciiEntity(c byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '"':
		return "&quot;"
	case '\t':
		return "&#x9;"
	case '\n':
		return "&#xA;"
	case '\r':
		return "&#xD;"
	}
	return "\uFFFD"
}
