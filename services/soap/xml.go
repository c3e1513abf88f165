// Package soap is the layer every abch SOAP service shares: parsing requests
// with etree (local names, case-insensitive, trimmed text, no DTDs), the
// route table and dispatcher, credentials, faults, and compact responses
// written the way 2006–2009 clients can read them.
package soap

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
)

// MaxDepth bounds element nesting in requests.
const MaxDepth = 64

// Parse reads a request body. It refuses DTDs and entity declarations
// without expanding anything (billion-laughs and external entities cannot
// happen), and any document that is not well-formed: invalid UTF-8, a
// malformed XML declaration, content after the root (wellformed.go).
func Parse(body []byte) (*etree.Document, error) {
	if hasDTD(body) {
		return nil, models.Errorf(models.CodeBadRequest, "DTDs and entity declarations are not accepted")
	}
	if err := checkBytes(body); err != nil { // wellformed.go
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{MaxDepth: MaxDepth}
	if err := doc.ReadFromBytes(body); err != nil {
		return nil, &models.Error{Code: models.CodeBadRequest, Message: "request is not well-formed XML", Err: err}
	}
	if doc.Root() == nil {
		return nil, models.Errorf(models.CodeBadRequest, "request has no root element")
	}
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func hasDTD(body []byte) bool {
	// Case-insensitive search for "<!DOCTYPE" and "<!ENTITY".
	for i := bytes.Index(body, []byte("<!")); i >= 0; {
		rest := body[i+2:]
		if len(rest) >= 7 && (strings.EqualFold(string(rest[:7]), "DOCTYPE") || (len(rest) >= 6 && strings.EqualFold(string(rest[:6]), "ENTITY"))) {
			return true
		}
		j := bytes.Index(rest, []byte("<!"))
		if j < 0 {
			break
		}
		i = i + 2 + j
	}
	return false
}

// FirstOperation parses body and returns the operation element of its SOAP
// envelope, the first child of Body, as the dispatcher takes it (nil when
// body does not parse or its Body is missing or empty). The decoders' fuzz
// targets start from it.
func FirstOperation(body []byte) *etree.Element {
	doc, err := Parse(body)
	if err != nil {
		return nil
	}
	b := Child(doc.Root(), "Body")
	if b == nil || len(b.ChildElements()) == 0 {
		return nil
	}
	return b.ChildElements()[0]
}

// Child returns the first child element of e whose local name equals name,
// case-insensitively (PROTOCOL.md §0.6: View/view, lastChange/LastChange).
// A nil e yields nil.
func Child(e *etree.Element, name string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if strings.EqualFold(c.Tag, name) {
			return c
		}
	}
	return nil
}

// Path follows a chain of child names from e.
func Path(e *etree.Element, names ...string) *etree.Element {
	for _, n := range names {
		e = Child(e, n)
		if e == nil {
			return nil
		}
	}
	return e
}

// Children returns every child element of e named name.
func Children(e *etree.Element, name string) []*etree.Element {
	if e == nil {
		return nil
	}
	var out []*etree.Element
	for _, c := range e.ChildElements() {
		if strings.EqualFold(c.Tag, name) {
			out = append(out, c)
		}
	}
	return out
}

// Text returns the trimmed text of e (papyon pads values with newlines,
// purple adds trailing spaces). A nil e yields "".
func Text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

// PathText is Text(Path(e, names...)).
func PathText(e *etree.Element, names ...string) string { return Text(Path(e, names...)) }

// Bool parses true/false/1/0 (any case). present is false when the element
// is missing or empty; a value that is not a boolean is a CodeBadRequest error.
func Bool(e *etree.Element) (value, present bool, err error) {
	s := strings.ToLower(Text(e))
	switch s {
	case "":
		return false, false, nil
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, true, models.Errorf(models.CodeBadRequest, "element %s: %q is not a boolean", e.Tag, s)
}

// Int64 parses a decimal integer element. present is false when missing.
func Int64(e *etree.Element) (value int64, present bool, err error) {
	s := Text(e)
	if s == "" {
		return 0, false, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, models.Errorf(models.CodeBadRequest, "element %s: %q is not an integer", e.Tag, s)
	}
	return v, true, nil
}

// Attr returns the value of the attribute with local name key (any prefix,
// case-insensitive), and whether it exists.
func Attr(e *etree.Element, key string) (string, bool) {
	if e == nil {
		return "", false
	}
	for _, a := range e.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Value, true
		}
	}
	return "", false
}
