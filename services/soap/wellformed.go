package soap

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
)

// What encoding/xml (under etree) lets through and a well-formed document
// (XML 1.0 §2.1, §2.8) does not, checked around Parse:
//
//   - bytes that are not UTF-8 outside element text and attribute values
//     (comments, processing instructions, the declaration): encoding/xml
//     checks only text and attributes, and etree's pass-through charset
//     reader reads every document as UTF-8 whatever it declares;
//   - a malformed XML declaration (`<?xml vevsion='1.0'?>`, an encoding
//     name with stray bytes, an encoding other than UTF-8 that would be
//     misread as UTF-8), or a declaration anywhere but first;
//   - content outside the root element: a second root, text, a misplaced
//     declaration. encoding/xml reads tokens until EOF and etree keeps them
//     all, so the first envelope of a body holding two would run.
//
// Real clients send `<?xml version="1.0" encoding="utf-8"?>` with either
// quote style and an optional space before "?>", or no declaration
// (clients/requests, clients/captures); all of that passes. Whitespace
// before the declaration is tolerated (not strictly well-formed, harmless,
// and a frozen client might do it).

// checkBytes refuses a body that is not UTF-8 or whose XML declaration is
// malformed; it runs before parsing.
func checkBytes(body []byte) error {
	if !utf8.Valid(body) {
		return models.Errorf(models.CodeBadRequest, "request is not valid UTF-8")
	}
	b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(b, []byte("<?xml")) || len(b) < 6 || !isDeclSpace(b[5]) && b[5] != '?' {
		return nil // no declaration (or a PI like <?xml-stylesheet, checked after parsing)
	}
	if msg := xmlDeclError(b[5:]); msg != "" {
		return models.Errorf(models.CodeBadRequest, "malformed XML declaration: %s", msg)
	}
	return nil
}

// xmlDeclError checks the rest of an XML declaration after "<?xml" against
// XMLDecl (XML 1.0 §2.8, §4.3.3) and returns what is wrong, or "".
//
//	XMLDecl ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'
func xmlDeclError(b []byte) string {
	p := declParser{b: b}
	val, ok := p.attr("version")
	if !ok {
		return "version missing"
	}
	if !isVersionNum(val) {
		return "bad version"
	}
	if val, ok := p.attr("encoding"); ok {
		if !isEncName(val) {
			return "bad encoding name"
		}
		// The body is read as UTF-8 (and checked to be): any other
		// declared encoding would be misread.
		if !strings.EqualFold(val, "utf-8") && !strings.EqualFold(val, "us-ascii") {
			return "encoding " + val + " is not accepted, only UTF-8"
		}
	}
	if val, ok := p.attr("standalone"); ok && val != "yes" && val != "no" {
		return "bad standalone value"
	}
	p.space()
	if !bytes.HasPrefix(p.b[p.i:], []byte("?>")) {
		return "unexpected content"
	}
	return ""
}

type declParser struct {
	b []byte
	i int
}

func isDeclSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (p *declParser) space() int {
	n := 0
	for p.i < len(p.b) && isDeclSpace(p.b[p.i]) {
		p.i++
		n++
	}
	return n
}

// attr reads S name Eq quoted-value if name comes next; otherwise it leaves
// the position alone and reports false.
func (p *declParser) attr(name string) (string, bool) {
	start := p.i
	if p.space() == 0 || !bytes.HasPrefix(p.b[p.i:], []byte(name)) {
		p.i = start
		return "", false
	}
	p.i += len(name)
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '=' {
		p.i = start
		return "", false
	}
	p.i++
	p.space()
	if p.i >= len(p.b) || (p.b[p.i] != '"' && p.b[p.i] != '\'') {
		p.i = start
		return "", false
	}
	q := p.b[p.i]
	end := bytes.IndexByte(p.b[p.i+1:], q)
	if end < 0 {
		p.i = start
		return "", false
	}
	val := string(p.b[p.i+1 : p.i+1+end])
	p.i += end + 2
	return val, true
}

// isVersionNum: '1.' [0-9]+
func isVersionNum(s string) bool {
	if len(s) < 3 || s[:2] != "1." {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isEncName: [A-Za-z] ([A-Za-z0-9._] | '-')*
func isEncName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
		if i == 0 && !alpha {
			return false
		}
		if !alpha && !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// checkDocument refuses what lies outside the root element and is not a
// comment, a processing instruction or whitespace, and an XML declaration
// anywhere but at the start. doc is the parsed body.
func checkDocument(doc *etree.Document) error {
	roots := 0
	for i, tok := range doc.Child {
		switch t := tok.(type) {
		case *etree.Element:
			if roots++; roots > 1 {
				return models.Errorf(models.CodeBadRequest, "content after the root element: a second element <%s>", Truncate(t.Tag, 64))
			}
		case *etree.CharData:
			data := t.Data
			if i == 0 {
				data = strings.TrimPrefix(data, "\ufeff")
			}
			if strings.Trim(data, " \t\r\n") != "" {
				where := "before"
				if roots > 0 {
					where = "after"
				}
				return models.Errorf(models.CodeBadRequest, "text %s the root element", where)
			}
		case *etree.ProcInst:
			if strings.EqualFold(t.Target, "xml") && !declFirst(doc, i) {
				return models.Errorf(models.CodeBadRequest, "XML declaration not at the start of the document")
			}
		case *etree.Comment:
		default:
			return models.Errorf(models.CodeBadRequest, "unexpected content outside the root element")
		}
	}
	return nil
}

// declFirst reports whether token i comes first, after at most a byte order
// mark and whitespace.
func declFirst(doc *etree.Document, i int) bool {
	if i == 0 {
		return true
	}
	if i > 1 {
		return false
	}
	cd, ok := doc.Child[0].(*etree.CharData)
	return ok && strings.Trim(strings.TrimPrefix(cd.Data, "\ufeff"), " \t\r\n") == ""
}
