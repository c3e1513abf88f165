package soap

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/abch-im/abch/internal/xmlw"
	"github.com/abch-im/abch/models"
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
)

// ServiceVersion is the ServiceHeader/Version of every Address Book and
// Sharing answer: the value of the captures MSNPSharp and pidgin accepted
// (PROTOCOL.md §0.4; only Version is mandatory in the XSD).
const ServiceVersion = "15.01.1408.0000"

// envelopeOpen is the declaration and the soap: envelope with the prefix
// every client matches literally (clients/RESPONSES.md §1 rule 5).
const envelopeOpen = xmlw.Declaration + `<soap:Envelope xmlns:soap="` + NSEnvelope +
	`" xmlns:xsi="` + NSXSI + `" xmlns:xsd="` + NSXSD + `">`

// Begin starts an answer: the XML declaration and <soap:Envelope …>. Write
// the soap:Header (if any) next, then call BeginBody.
func Begin(capacity int) *xmlw.Writer {
	w := xmlw.New(capacity)
	w.Raw(envelopeOpen)
	return w
}

// BeginBody writes <soap:Body>.
func BeginBody(w *xmlw.Writer) { w.Raw("<soap:Body>") }

// BeginPlain starts an answer without a header, ready for the body's
// content.
func BeginPlain(capacity int) *xmlw.Writer {
	w := Begin(capacity)
	BeginBody(w)
	return w
}

// BeginAB starts an Address Book or Sharing answer for the account with
// accountID: the envelope, its ServiceHeader (CacheKey of the account) and
// <soap:Body>.
func BeginAB(capacity int, accountID int64) *xmlw.Writer {
	w := Begin(capacity)
	ServiceHeader{CacheKey: CacheKey(accountID)}.Write(w)
	BeginBody(w)
	return w
}

// CacheKey is the opaque ServiceHeader/CacheKey of an account's Address
// Book and Sharing answers: stable per account, so cached answers can carry
// it (pidgin ≥ 2.6 echoes it back as ABApplicationHeader/CacheKey; nothing
// else reads it).
func CacheKey(accountID int64) string {
	h := sha256.Sum256([]byte("abch ab cache key " + strconv.FormatInt(accountID, 10)))
	return "12r1:" + hex.EncodeToString(h[:12])
}

// ServiceHeader is the soap:Header of Address Book and Sharing answers
// (PROTOCOL.md §0.4), written in the one shape every captured AB and
// Sharing answer has (clients/captures: ABFindAll, ABContactUpdate,
// FindMembership …): Version, CacheKey, CacheKeyChanged=true, then
// PreferredHostName and SessionId only when set. pidgin ≥ 2.6 stores the
// key when CacheKeyChanged is true and echoes it back (clients/RESPONSES.md
// §1 rule 12). Answers leave PreferredHostName out: MSNPSharp would send
// every later call to that host (rule 12); only the redirect probe
// (services/probe.go) names one.
type ServiceHeader struct {
	CacheKey          string
	PreferredHostName string
	SessionID         string
}

// Write writes h as <soap:Header><ServiceHeader …>…</soap:Header>.
func (h ServiceHeader) Write(w *xmlw.Writer) {
	w.Raw(`<soap:Header>`)
	w.OpenAttr("ServiceHeader", "xmlns", NSAB)
	w.Leaf("Version", ServiceVersion)
	w.Leaf("CacheKey", h.CacheKey)
	w.Leaf("CacheKeyChanged", "true")
	if h.PreferredHostName != "" {
		w.Leaf("PreferredHostName", h.PreferredHostName)
	}
	if h.SessionID != "" {
		w.Leaf("SessionId", h.SessionID)
	}
	w.Close("ServiceHeader")
	w.Raw(`</soap:Header>`)
}

// End closes soap:Body and soap:Envelope and returns the answer.
func End(w *xmlw.Writer) []byte {
	w.Raw(`</soap:Body></soap:Envelope>`)
	return w.Bytes()
}

// EmptyResponse is the answer whose body is only <name xmlns="ns"/> (or
// <name xmlns="ns" /> with spaced, the Address Book's spelling).
func EmptyResponse(w *xmlw.Writer, name, ns string) []byte {
	w.EmptyAttr(name, "xmlns", ns)
	return End(w)
}

// WriteAnnotations writes anns as <list><Annotation><Name/><Value/>…</list>,
// nothing when there are none: the Address Book calls the list
// "annotations", Sharing "Annotations" (msnab_datatypes.xsd); the parser of
// both is Annotations.
func WriteAnnotations(w *xmlw.Writer, list string, anns []models.Annotation) {
	if len(anns) == 0 {
		return
	}
	w.Open(list)
	for _, a := range anns {
		w.Open("Annotation")
		w.Leaf("Name", a.Name)
		w.Leaf("Value", a.Value)
		w.Close("Annotation")
	}
	w.Close(list)
}
