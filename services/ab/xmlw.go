package ab

import (
	"github.com/abch-im/abch/services/soap"
)

// xw builds compact XML by construction into a byte slice. The address
// book's full answer is the hot path (hundreds of contacts, thousands of
// elements per response), so it is written straight into a buffer instead
// of through an element tree; the output follows the same rules as
// soap.Marshal (clients/RESPONSES.md §1): no whitespace between elements,
// text escaped with &amp; &lt; &gt; only (plus &#xD; as etree does),
// unprefixed payload in the default AB namespace.
type xw struct{ b []byte }

func (w *xw) raw(s string) { w.b = append(w.b, s...) }

// open writes <name>.
func (w *xw) open(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// openNS writes <name xmlns="AB namespace">.
func (w *xw) openNS(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, ` xmlns="`+soap.NSAB+`">`...)
}

// close writes </name>.
func (w *xw) close(name string) {
	w.b = append(w.b, '<', '/')
	w.b = append(w.b, name...)
	w.b = append(w.b, '>')
}

// empty writes <name /> (the spelling of the captures clients accepted).
func (w *xw) empty(name string) {
	w.b = append(w.b, '<')
	w.b = append(w.b, name...)
	w.b = append(w.b, " />"...)
}

// leaf writes <name>text</name> with text escaped.
func (w *xw) leaf(name, text string) {
	w.open(name)
	w.text(text)
	w.close(name)
}

// bool writes <name>true|false</name>.
func (w *xw) bool(name string, v bool) {
	if v {
		w.leaf(name, "true")
	} else {
		w.leaf(name, "false")
	}
}

func (w *xw) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		w.b = append(w.b, s[last:i]...)
		w.b = append(w.b, esc...)
		last = i + 1
	}
	w.b = append(w.b, s[last:]...)
}

// envelopeStart writes the declaration, the soap: envelope and the AB
// ServiceHeader (PROTOCOL.md §0.4; no PreferredHostName: MSNPSharp would
// send every later call to that host, clients/RESPONSES.md §1 rule 12).
func (w *xw) envelopeStart(cacheKey string) {
	w.raw(soap.XMLDeclaration)
	w.raw(`<soap:Envelope xmlns:soap="` + soap.NSEnvelope + `" xmlns:xsi="` + soap.NSXSI + `" xmlns:xsd="` + soap.NSXSD + `">`)
	w.raw(`<soap:Header>`)
	w.openNS("ServiceHeader")
	w.leaf("Version", ServiceVersion)
	w.leaf("CacheKey", cacheKey)
	w.leaf("CacheKeyChanged", "true")
	w.close("ServiceHeader")
	w.raw(`</soap:Header><soap:Body>`)
}

func (w *xw) envelopeEnd() { w.raw(`</soap:Body></soap:Envelope>`) }
