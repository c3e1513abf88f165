package passport

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Namespaces of the RST answer. The prefixes are part of the contract:
// aMSN, emesene and BitlBee match prefixed names textually (RST_OIM.md §1.3
// rule 2), so they are written literally.
const (
	nsPSF   = "http://schemas.microsoft.com/Passport/SoapServices/SOAPFault"
	nsWST   = "http://schemas.xmlsoap.org/ws/2004/04/trust"
	nsWSSE  = "http://schemas.xmlsoap.org/ws/2003/06/secext"
	nsWSU   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
	nsSAML  = "urn:oasis:names:tc:SAML:1.0:assertion"
	nsWSP   = "http://schemas.xmlsoap.org/ws/2002/12/policy"
	nsWSA   = "http://schemas.xmlsoap.org/ws/2004/03/addressing"
	nsXENC  = "http://www.w3.org/2001/04/xmlenc#"
	nsDSig  = "http://www.w3.org/2000/09/xmldsig#"
	timeFmt = "2006-01-02T15:04:05Z" // wsu:Created/Expires and ServerTime
)

// serverVersionText is the text of psf:serverInfo (a machine name and a
// build stamp in the real service; nobody parses it).
const serverVersionText = " abch 1.0"

func (s *Service) now() time.Time {
	if s.d.Tickets != nil && s.d.Tickets.Now != nil {
		return s.d.Tickets.Now().UTC()
	}
	return time.Now().UTC()
}

// newEnvelope starts <S:Envelope> with the psf:pp header every answer
// carries; ServerTime is read by aMSN to judge token expiry (RST_OIM.md
// §1.3: without it aMSN re-runs the RST before every SOAP call).
func (s *Service) newEnvelope(now time.Time, failed bool) (doc *etree.Document, root, pp *etree.Element) {
	doc = etree.NewDocument()
	root = doc.CreateElement("S:Envelope")
	root.CreateAttr("xmlns:S", soap.NSEnvelope)
	if failed {
		root.CreateAttr("xmlns:wsse", nsWSSE)
		root.CreateAttr("xmlns:psf", nsPSF)
	}
	hdr := root.CreateElement("S:Header")
	pp = hdr.CreateElement("psf:pp")
	if !failed {
		pp.CreateAttr("xmlns:psf", nsPSF)
	}
	soap.Elem(pp, "psf:serverVersion", "1")
	return doc, root, pp
}

func (s *Service) serverInfo(pp *etree.Element, now time.Time) {
	si := soap.Elem(pp, "psf:serverInfo", s.d.Config.Hostname+serverVersionText)
	si.CreateAttr("Path", "Live1")
	si.CreateAttr("RollingUpgradeState", "ExclusiveNew")
	si.CreateAttr("LocVersion", "0")
	si.CreateAttr("ServerTime", now.Format(timeFmt))
}

// render writes the success answer: psf:pp with the account's PUID and
// credProperties, then one RequestSecurityTokenResponse per requested token
// in request order (RST_OIM.md §1.3 rules 1–7). The output has no
// whitespace between elements: pidgin walks every sibling node and
// crashes on a text node between two responses
// (captures/pidgin-2.10.1-crash-on-indented-rst).
func (s *Service) render(acct *models.Account, tokens []tokenRequest) []byte {
	now := s.now().Truncate(time.Second)
	doc, root, pp := s.newEnvelope(now, false)
	soap.Elem(pp, "psf:PUID", fmt.Sprintf("%016X", acct.PUIDUnsigned()))
	soap.Elem(pp, "psf:configVersion", "3.100.2179.0")
	soap.Elem(pp, "psf:uiVersion", "3.100.2179.0")
	soap.Elem(pp, "psf:authstate", authStateOK)
	soap.Elem(pp, "psf:reqstatus", reqStatusOK)
	s.serverInfo(pp, now)
	pp.CreateElement("psf:cookies")
	cp := pp.CreateElement("psf:credProperties")
	prop := func(name, value string) {
		e := soap.Elem(cp, "psf:credProperty", value)
		e.CreateAttr("Name", name)
	}
	// msnp-sharp echoes MainBrandID as ABApplicationHeader BrandId;
	// CID and AuthMembername match the address book (PROTOCOL.md §6.2).
	prop("MainBrandID", "MSFT")
	prop("BrandIDList", "")
	prop("IsWinLiveUser", "true")
	prop("CID", fmt.Sprintf("%016x", uint64(acct.CID)))
	prop("AuthMembername", acct.Email)
	prop("Country", "US")
	prop("Language", "1033")
	prop("FirstName", acct.DisplayName)
	prop("LastName", "")
	pp.CreateElement("psf:extProperties")
	pp.CreateElement("psf:response")

	body := root.CreateElement("S:Body")
	coll := body.CreateElement("wst:RequestSecurityTokenResponseCollection")
	for _, ns := range [][2]string{{"S", soap.NSEnvelope}, {"wst", nsWST}, {"wsse", nsWSSE}, {"wsu", nsWSU}, {"saml", nsSAML}, {"wsp", nsWSP}, {"psf", nsPSF}} {
		coll.CreateAttr("xmlns:"+ns[0], ns[1])
	}
	created := now.Format(timeFmt)
	for _, tr := range tokens {
		s.renderToken(coll, acct, tr, created)
	}
	return soap.Marshal(doc)
}

func (s *Service) renderToken(coll *etree.Element, acct *models.Account, tr tokenRequest, created string) {
	tk := s.d.Tickets.Issue(acct.ID, acct.TokenVersion, tr.Audience)
	rstr := coll.CreateElement("wst:RequestSecurityTokenResponse")
	legacy := tr.Audience == auth.AudTB
	if legacy {
		soap.Elem(rstr, "wst:TokenType", "urn:passport:legacy")
	} else {
		soap.Elem(rstr, "wst:TokenType", "urn:passport:compact")
	}
	at := rstr.CreateElement("wsp:AppliesTo")
	at.CreateAttr("xmlns:wsa", nsWSA)
	soap.Elem(at.CreateElement("wsa:EndpointReference"), "wsa:Address", tr.Address)
	lt := rstr.CreateElement("wst:LifeTime")
	soap.Elem(lt, "wsu:Created", created)
	soap.Elem(lt, "wsu:Expires", tk.Expires.UTC().Format(timeFmt))
	rst := rstr.CreateElement("wst:RequestedSecurityToken")
	ref := rstr.CreateElement("wst:RequestedTokenReference")
	if legacy {
		// The tb token is opaque to clients (only purple's unimplemented
		// renewal path would send it back); it is the tb ticket in base64.
		id := fmt.Sprintf("BinaryDAToken%d", tr.Index)
		ed := rst.CreateElement("EncryptedData")
		ed.CreateAttr("xmlns", nsXENC)
		ed.CreateAttr("Id", id)
		ed.CreateAttr("Type", nsXENC+"Element")
		ed.CreateElement("EncryptionMethod").CreateAttr("Algorithm", nsXENC+"tripledes-cbc")
		ki := ed.CreateElement("ds:KeyInfo")
		ki.CreateAttr("xmlns:ds", nsDSig)
		soap.Elem(ki, "ds:KeyName", "http://Passport.NET/STS")
		raw, _ := base64.RawURLEncoding.DecodeString(tk.T)
		soap.Elem(ed.CreateElement("CipherData"), "CipherValue", base64.StdEncoding.EncodeToString(raw))
		ref.CreateElement("wsse:KeyIdentifier").CreateAttr("ValueType", "urn:passport")
		ref.CreateElement("wsse:Reference").CreateAttr("URI", "#"+id)
	} else {
		id := fmt.Sprintf("Compact%d", tr.Index)
		bst := soap.Elem(rst, "wsse:BinarySecurityToken", tk.Text())
		bst.CreateAttr("Id", id)
		ref.CreateElement("wsse:KeyIdentifier").CreateAttr("ValueType", "urn:passport:compact")
		ref.CreateElement("wsse:Reference").CreateAttr("URI", "#"+id)
	}
	// Every token carries its proof key: purple 2.5 base64-decodes the
	// messengerclear one unconditionally, BitlBee reads it from slot 1,
	// and the NS derives the USR SSO answer from it (RST_OIM.md §1.1).
	soap.Elem(rstr.CreateElement("wst:RequestedProofToken"), "wst:BinarySecret", base64.StdEncoding.EncodeToString(tk.ProofKey))
}

// Fault is the Passport fault dialect (RST_OIM.md §1.4, PROTOCOL.md §6.3):
// S:Fault directly under S:Envelope after the psf:pp header (purple looks
// for Envelope/Fault, BitlBee for S:Fault whose parent is S:Envelope),
// unprefixed faultcode/faultstring, HTTP 500 (aMSN parses faults only on
// 2xx/500). A failed sign-in is wsse:FailedAuthentication with reqstatus
// 0x80048821; a request we cannot read is S:Client "Invalid Request"
// (0x80048820).
func (s *Service) Fault(r *soap.Request, e *models.Error) *soap.Response {
	now := s.now().Truncate(time.Second)
	code, text, status := "S:Client", "Invalid Request", reqStatusInvalidRequest
	switch e.Code {
	case models.CodeFailedAuthentication, models.CodeAuthFailed:
		code, text, status = "wsse:FailedAuthentication", "Authentication Failure", reqStatusFailedAuth
		if v := e.Detail[detailReqStatus]; v != "" { // admin.go: a disabled account
			status = v
		}
	case models.CodeInternal:
		code, text, status = "S:Server", "Internal Server Error", "0x80048800"
	}
	doc, root, pp := s.newEnvelope(now, true)
	soap.Elem(pp, "psf:authstate", authStateFailed)
	soap.Elem(pp, "psf:reqstatus", status)
	s.serverInfo(pp, now)
	pp.CreateElement("psf:cookies")
	pp.CreateElement("psf:response")
	f := root.CreateElement("S:Fault")
	soap.Elem(f, "faultcode", code)
	soap.Elem(f, "faultstring", text)
	return &soap.Response{Status: http.StatusInternalServerError, Body: soap.Marshal(doc)}
}
