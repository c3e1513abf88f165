package soap

import (
	"bytes"

	"github.com/beevik/etree"
)

// Namespaces and SOAPAction prefixes (PROTOCOL.md §0).
const (
	NSEnvelope = "http://schemas.xmlsoap.org/soap/envelope/"
	NSXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	NSXSD      = "http://www.w3.org/2001/XMLSchema"
	NSAB       = "http://www.msn.com/webservices/AddressBook"
	NSOIM      = "http://messenger.msn.com/ws/2004/09/oim/"
	NSRSI      = "http://www.hotmail.msn.com/ws/2004/09/oim/rsi"
	NSRM       = "http://schemas.xmlsoap.org/ws/2003/03/rm"
	NSUtility  = "http://schemas.xmlsoap.org/ws/2002/07/utility"

	XMLDeclaration = `<?xml version="1.0" encoding="utf-8"?>`
)

// Envelope is a response under construction with the soap: prefix every
// client matches literally (clients/RESPONSES.md §1 rule 5).
type Envelope struct {
	Doc    *etree.Document
	Root   *etree.Element
	Header *etree.Element // nil until Head is called
	Body   *etree.Element
}

// NewEnvelope starts <soap:Envelope xmlns:soap xmlns:xsi xmlns:xsd><soap:Body/>.
func NewEnvelope() *Envelope {
	doc := etree.NewDocument()
	root := doc.CreateElement("soap:Envelope")
	root.CreateAttr("xmlns:soap", NSEnvelope)
	root.CreateAttr("xmlns:xsi", NSXSI)
	root.CreateAttr("xmlns:xsd", NSXSD)
	body := root.CreateElement("soap:Body")
	return &Envelope{Doc: doc, Root: root, Body: body}
}

// Head returns soap:Header, creating it before soap:Body on first use.
func (e *Envelope) Head() *etree.Element {
	if e.Header == nil {
		e.Header = etree.NewElement("soap:Header")
		e.Root.InsertChildAt(e.Body.Index(), e.Header)
	}
	return e.Header
}

// Bytes renders the envelope compactly with the XML declaration.
func (e *Envelope) Bytes() []byte { return Marshal(e.Doc) }

// Marshal renders doc the way old clients read it: the XML declaration, no
// whitespace between elements (emesene keeps the last text seen per tag,
// pidgin crashes on whitespace in RST answers), text escaped with only
// &amp; &lt; &gt; (aMSN and emesene decode nothing else; encoding/xml's
// &#39; and &#xA; would show up literally), attributes double-quoted.
func Marshal(doc *etree.Document) []byte {
	var buf bytes.Buffer
	buf.Grow(1024)
	buf.WriteString(XMLDeclaration)
	doc.WriteSettings = etree.WriteSettings{CanonicalText: true, CanonicalAttrVal: true}
	// The declaration is written by hand so no ProcInst is needed in doc.
	_, _ = doc.WriteTo(&buf)
	return buf.Bytes()
}

// Elem appends <name>text</name> to parent and returns it. Empty text yields
// an element without content (<name />-style, written as <name/>).
func Elem(parent *etree.Element, name, text string) *etree.Element {
	c := parent.CreateElement(name)
	if text != "" {
		c.SetText(text)
	}
	return c
}

// BoolText renders b as "true"/"false".
func BoolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
