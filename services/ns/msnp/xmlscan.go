package msnp

import (
	"strconv"
	"strings"
)

// xmlScanner tokenises the small attribute-only XML dialect of ML payloads:
// elements, attributes in either quote style, whitespace between elements.
// Text content, comments, processing instructions, CDATA and DOCTYPEs are
// rejected (no client sends them; PROTOCOL.md §4.2).
type xmlScanner struct {
	s   string
	pos int
}

type xmlAttr struct{ name, value string }

type xmlTag struct {
	name    string
	attrs   []xmlAttr
	closing bool // </name>
	empty   bool // <name/>
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (x *xmlScanner) skipSpace() {
	for x.pos < len(x.s) && isXMLSpace(x.s[x.pos]) {
		x.pos++
	}
}

func (x *xmlScanner) name() string {
	start := x.pos
	for x.pos < len(x.s) {
		c := x.s[x.pos]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || x.pos > start && (c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':' || c == '.') {
			x.pos++
			continue
		}
		break
	}
	return x.s[start:x.pos]
}

// open reads the next tag, skipping whitespace before it.
func (x *xmlScanner) open() (xmlTag, error) {
	var t xmlTag
	x.skipSpace()
	if x.pos >= len(x.s) {
		return t, mlErr(ErrADLInvalid, "unexpected end of payload")
	}
	if x.s[x.pos] != '<' {
		return t, mlErr(ErrADLInvalid, "text outside elements")
	}
	x.pos++
	if x.pos < len(x.s) && x.s[x.pos] == '/' {
		x.pos++
		t.closing = true
	}
	t.name = x.name()
	if t.name == "" {
		return t, mlErr(ErrADLInvalid, "bad tag")
	}
	for {
		hadSpace := x.pos < len(x.s) && isXMLSpace(x.s[x.pos])
		x.skipSpace()
		if x.pos >= len(x.s) {
			return t, mlErr(ErrADLInvalid, "unterminated tag")
		}
		switch c := x.s[x.pos]; {
		case c == '>':
			x.pos++
			return t, nil
		case c == '/' && !t.closing:
			if x.pos+1 >= len(x.s) || x.s[x.pos+1] != '>' {
				return t, mlErr(ErrADLInvalid, "bad empty-element tag")
			}
			x.pos += 2
			t.empty = true
			return t, nil
		case t.closing || !hadSpace:
			return t, mlErr(ErrADLInvalid, "bad tag")
		}
		a, err := x.attr()
		if err != nil {
			return t, err
		}
		for _, b := range t.attrs {
			if b.name == a.name {
				return t, mlErr(ErrADLInvalid, "duplicate attribute "+a.name)
			}
		}
		t.attrs = append(t.attrs, a)
	}
}

func (x *xmlScanner) attr() (xmlAttr, error) {
	var a xmlAttr
	a.name = x.name()
	if a.name == "" {
		return a, mlErr(ErrADLInvalid, "bad attribute")
	}
	x.skipSpace()
	if x.pos >= len(x.s) || x.s[x.pos] != '=' {
		return a, mlErr(ErrADLInvalid, "attribute without value")
	}
	x.pos++
	x.skipSpace()
	if x.pos >= len(x.s) || (x.s[x.pos] != '"' && x.s[x.pos] != '\'') {
		return a, mlErr(ErrADLInvalid, "unquoted attribute value")
	}
	q := x.s[x.pos]
	x.pos++
	end := strings.IndexByte(x.s[x.pos:], q)
	if end < 0 {
		return a, mlErr(ErrADLInvalid, "unterminated attribute value")
	}
	raw := x.s[x.pos : x.pos+end]
	x.pos += end + 1
	v, ok := unescapeXML(raw)
	if !ok {
		return a, mlErr(ErrADLInvalid, "bad attribute value")
	}
	a.value = v
	return a, nil
}

// end checks that only whitespace follows the root element and that a
// payload naming nobody is the initial list (<ml l="1"></ml>, which pidgin
// sends for an empty list; PROTOCOL.md §4.2).
func (x *xmlScanner) end(ml *ML) error {
	x.skipSpace()
	if x.pos != len(x.s) {
		return mlErr(ErrADLInvalid, "content after </ml>")
	}
	if len(ml.Domains) == 0 && len(ml.Phones) == 0 && ml.L != 1 {
		return mlErr(ErrADLEmpty, "no contacts")
	}
	return nil
}

// unescapeXML decodes the predefined entities and character references of
// an attribute value; '<' and a bare '&' are errors, as are control
// characters other than TAB, CR, LF and invalid references.
func unescapeXML(s string) (string, bool) {
	if !strings.ContainsAny(s, "&<") {
		return s, validXMLChars(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c == '<' {
			return "", false
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			continue
		}
		semi := strings.IndexByte(s[i:], ';')
		if semi < 0 {
			return "", false
		}
		ent := s[i+1 : i+semi]
		i += semi + 1
		switch ent {
		case "amp":
			b.WriteByte('&')
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			var n uint64
			var err error
			switch {
			case strings.HasPrefix(ent, "#x"):
				n, err = strconv.ParseUint(ent[2:], 16, 32)
			case strings.HasPrefix(ent, "#"):
				n, err = strconv.ParseUint(ent[1:], 10, 32)
			default:
				return "", false
			}
			r := rune(n)
			if err != nil || len(ent) < 3 || !isXMLChar(r) {
				return "", false
			}
			b.WriteRune(r)
		}
	}
	out := b.String()
	return out, validXMLChars(out)
}

// isXMLChar reports whether r is allowed in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func validXMLChars(s string) bool {
	for _, r := range s {
		if !isXMLChar(r) {
			return false
		}
	}
	return true
}

// appendText appends s escaped for XML character data: the named
// entities only (&amp; &lt; &gt;), which every client decodes
// (clients/RESPONSES.md rule 8).
func appendText(dst []byte, s string) []byte { return appendEscaped(dst, s, false) }

// appendAttr appends s escaped for a double-quoted attribute value.
func appendAttr(dst []byte, s string) []byte { return appendEscaped(dst, s, true) }

// appendEscaped appends s with &, < and > escaped, and with quotes too
// when quotes is set.
func appendEscaped(dst []byte, s string, quotes bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&':
			dst = append(dst, "&amp;"...)
		case c == '<':
			dst = append(dst, "&lt;"...)
		case c == '>':
			dst = append(dst, "&gt;"...)
		case quotes && c == '"':
			dst = append(dst, "&quot;"...)
		case quotes && c == '\'':
			dst = append(dst, "&apos;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
