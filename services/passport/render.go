package passport

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/xmlw"
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

func (s *service) now() time.Time {
	if s.deps.Tickets != nil && s.deps.Tickets.Now != nil {
		return s.deps.Tickets.Now().UTC()
	}
	return time.Now().UTC()
}

// begin starts <S:Envelope> and the psf:pp header every answer carries,
// up to psf:serverVersion. A failed answer declares wsse and psf on the
// envelope (its faultcode is wsse:FailedAuthentication), a success
// declares psf on psf:pp, as the captures do.
func begin(capacity int, failed bool) *xmlw.Writer {
	w := xmlw.New(capacity)
	w.Raw(xmlw.Declaration)
	w.Start("S:Envelope")
	w.Attr("xmlns:S", soap.NSEnvelope)
	if failed {
		w.Attr("xmlns:wsse", nsWSSE)
		w.Attr("xmlns:psf", nsPSF)
	}
	w.EndStart()
	w.Open("S:Header")
	if failed {
		w.Open("psf:pp")
	} else {
		w.OpenAttr("psf:pp", "xmlns:psf", nsPSF)
	}
	w.Leaf("psf:serverVersion", "1")
	return w
}

// serverInfo writes psf:serverInfo; ServerTime is read by aMSN to judge
// token expiry (RST_OIM.md §1.3: without it aMSN re-runs the RST before
// every SOAP call).
func (s *service) serverInfo(w *xmlw.Writer, now time.Time) {
	w.Start("psf:serverInfo")
	w.Attr("Path", "Live1")
	w.Attr("RollingUpgradeState", "ExclusiveNew")
	w.Attr("LocVersion", "0")
	w.Attr("ServerTime", now.Format(timeFmt))
	w.EndStart()
	w.Text(s.deps.Config.Hostname + serverVersionText)
	w.Close("psf:serverInfo")
}

// render writes the success answer: psf:pp with the account's PUID and
// credProperties, then one RequestSecurityTokenResponse per requested token
// in request order (RST_OIM.md §1.3 rules 1–7). The output has no
// whitespace between elements: pidgin walks every sibling node and
// crashes on a text node between two responses
// (captures/pidgin-2.10.1-crash-on-indented-rst).
func (s *service) render(acct *models.Account, tokens []tokenRequest) []byte {
	now := s.now().Truncate(time.Second)
	w := begin(2048+1600*len(tokens), false)
	w.Leaf("psf:PUID", fmt.Sprintf("%016X", acct.PUIDUnsigned()))
	w.Leaf("psf:configVersion", "3.100.2179.0")
	w.Leaf("psf:uiVersion", "3.100.2179.0")
	w.Leaf("psf:authstate", authStateOK)
	w.Leaf("psf:reqstatus", reqStatusOK)
	s.serverInfo(w, now)
	w.Empty("psf:cookies")
	w.Open("psf:credProperties")
	prop := func(name, value string) { w.LeafAttr("psf:credProperty", "Name", name, value) }
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
	w.Close("psf:credProperties")
	w.Empty("psf:extProperties")
	w.Empty("psf:response")
	w.Close("psf:pp")
	w.Close("S:Header")

	w.Open("S:Body")
	w.Start("wst:RequestSecurityTokenResponseCollection")
	for _, ns := range [][2]string{{"S", soap.NSEnvelope}, {"wst", nsWST}, {"wsse", nsWSSE}, {"wsu", nsWSU}, {"saml", nsSAML}, {"wsp", nsWSP}, {"psf", nsPSF}} {
		w.Attr("xmlns:"+ns[0], ns[1])
	}
	w.EndStart()
	created := now.Format(timeFmt)
	for _, tr := range tokens {
		s.renderToken(w, acct, tr, created)
	}
	w.Close("wst:RequestSecurityTokenResponseCollection")
	w.Close("S:Body")
	w.Close("S:Envelope")
	return w.Bytes()
}

func (s *service) renderToken(w *xmlw.Writer, acct *models.Account, tr tokenRequest, created string) {
	tk := s.deps.Tickets.Issue(acct.ID, acct.TokenVersion, tr.Audience)
	w.Open("wst:RequestSecurityTokenResponse")
	legacy := tr.Audience == auth.AudTB
	if legacy {
		w.Leaf("wst:TokenType", "urn:passport:legacy")
	} else {
		w.Leaf("wst:TokenType", "urn:passport:compact")
	}
	w.OpenAttr("wsp:AppliesTo", "xmlns:wsa", nsWSA)
	w.Open("wsa:EndpointReference")
	w.Leaf("wsa:Address", tr.Address)
	w.Close("wsa:EndpointReference")
	w.Close("wsp:AppliesTo")
	w.Open("wst:LifeTime")
	w.Leaf("wsu:Created", created)
	w.Leaf("wsu:Expires", tk.Expires.UTC().Format(timeFmt))
	w.Close("wst:LifeTime")
	w.Open("wst:RequestedSecurityToken")
	var id, valueType string
	if legacy {
		// The tb token is opaque to clients (only purple's unimplemented
		// renewal path would send it back); it is the tb ticket in base64.
		id, valueType = fmt.Sprintf("BinaryDAToken%d", tr.Index), "urn:passport"
		raw, _ := base64.RawURLEncoding.DecodeString(tk.T)
		encryptedData(w, id, base64.StdEncoding.EncodeToString(raw))
	} else {
		id, valueType = fmt.Sprintf("Compact%d", tr.Index), "urn:passport:compact"
		w.LeafAttr("wsse:BinarySecurityToken", "Id", id, tk.Text())
	}
	w.Close("wst:RequestedSecurityToken")
	w.Open("wst:RequestedTokenReference")
	w.EmptyAttr("wsse:KeyIdentifier", "ValueType", valueType)
	w.EmptyAttr("wsse:Reference", "URI", "#"+id)
	w.Close("wst:RequestedTokenReference")
	// Every token carries its proof key: purple 2.5 base64-decodes the
	// messengerclear one unconditionally, BitlBee reads it from slot 1,
	// and the NS derives the USR SSO answer from it (RST_OIM.md §1.1).
	w.Open("wst:RequestedProofToken")
	w.Leaf("wst:BinarySecret", base64.StdEncoding.EncodeToString(tk.ProofKey))
	w.Close("wst:RequestedProofToken")
	w.Close("wst:RequestSecurityTokenResponse")
}

// encryptedData writes the legacy (tb) token as xmlenc EncryptedData.
func encryptedData(w *xmlw.Writer, id, cipher string) {
	w.Start("EncryptedData")
	w.Attr("xmlns", nsXENC)
	w.Attr("Id", id)
	w.Attr("Type", nsXENC+"Element")
	w.EndStart()
	w.EmptyAttr("EncryptionMethod", "Algorithm", nsXENC+"tripledes-cbc")
	w.OpenAttr("ds:KeyInfo", "xmlns:ds", nsDSig)
	w.Leaf("ds:KeyName", "http://Passport.NET/STS")
	w.Close("ds:KeyInfo")
	w.Open("CipherData")
	w.Leaf("CipherValue", cipher)
	w.Close("CipherData")
	w.Close("EncryptedData")
}

// Fault is the Passport fault dialect (RST_OIM.md §1.4, PROTOCOL.md §6.3):
// S:Fault directly under S:Envelope after the psf:pp header (purple looks
// for Envelope/Fault, BitlBee for S:Fault whose parent is S:Envelope),
// unprefixed faultcode/faultstring, HTTP 500 (aMSN parses faults only on
// 2xx/500). A failed sign-in is wsse:FailedAuthentication with reqstatus
// 0x80048821; a request we cannot read is S:Client "Invalid Request"
// (0x80048820).
func (s *service) Fault(r *soap.Request, e *models.Error) *soap.Response {
	now := s.now().Truncate(time.Second)
	code, text, status := "S:Client", "Invalid Request", reqStatusInvalidRequest
	switch e.Code {
	case models.CodeFailedAuthentication, models.CodePassportAuthFail:
		code, text, status = "wsse:FailedAuthentication", "Authentication Failure", reqStatusFailedAuth
		if v := e.Detail[detailReqStatus]; v != "" { // admin.go: a disabled account
			status = v
		}
	case models.CodeInternalError:
		code, text, status = "S:Server", "Internal Server Error", "0x80048800"
	}
	w := begin(1024, true)
	w.Leaf("psf:authstate", authStateFailed)
	w.Leaf("psf:reqstatus", status)
	s.serverInfo(w, now)
	w.Empty("psf:cookies")
	w.Empty("psf:response")
	w.Close("psf:pp")
	w.Close("S:Header")
	w.Open("S:Fault")
	w.Leaf("faultcode", code)
	w.Leaf("faultstring", text)
	w.Close("S:Fault")
	w.Close("S:Envelope")
	return &soap.Response{Status: http.StatusInternalServerError, Body: w.Bytes()}
}
