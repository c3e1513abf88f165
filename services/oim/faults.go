package oim

import (
	"net/http"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// detailLockKeyChallenge is the models.Error.Detail key of the challenge.
const detailLockKeyChallenge = "LockKeyChallenge"

// dotNetFaultString is the faultstring the real OIM service sent with the
// lock-key challenge (RST_OIM.md §2.2).
const dotNetFaultString = "Exception of type 'System.Web.Services.Protocols.SoapException' was thrown."

// storeCode maps an error to the OIM fault code clients know: only
// AuthenticationFailed, SystemUnavailable, SenderThrottleLimitExceeded and
// InvalidContent are evidenced (PROTOCOL.md §7.1, §10.17); quotas and
// internal errors are SystemUnavailable (PROTOCOL.md §11 "OIM").
func storeCode(e *models.Error) models.Code {
	switch e.Code {
	case models.CodeAuthenticationFailed, models.CodeSystemUnavailable,
		models.CodeInvalidContent, models.CodeSenderThrottleLimitExceeded:
		return e.Code
	case models.CodePassportAuthFail:
		return models.CodeAuthenticationFailed
	case models.CodeBadRequest, models.CodeForbidden, models.CodeBadArgumentLength:
		return models.CodeInvalidContent
	}
	return models.CodeSystemUnavailable
}

// storeFault renders the OIM Store fault (RST_OIM.md §2.2): HTTP 500,
// faultcode q0:<Code> with xmlns:q0 bound to the OIM namespace on the
// faultcode element (msnp-sharp reads SoapException.Code.Name, purple and
// aMSN compare the text), and a detail holding only the LockKeyChallenge
// when there is one (msnp-sharp takes Detail.InnerText as the challenge).
func storeFault(_ *soap.Request, e *models.Error) *soap.Response {
	challenge := e.Detail[detailLockKeyChallenge]
	text := e.Message
	if challenge != "" || text == "" {
		text = dotNetFaultString
	}
	w := soap.BeginPlain(1024)
	w.Open("soap:Fault")
	w.LeafAttr("faultcode", "xmlns:q0", soap.NSOIM, "q0:"+string(storeCode(e)))
	w.Leaf("faultstring", text)
	w.Leaf("faultactor", StoreActor)
	if challenge != "" {
		w.Open("detail")
		w.LeafAttr("LockKeyChallenge", "xmlns", soap.NSOIM, challenge)
		w.Close("detail")
	} else {
		w.Empty("detail")
	}
	w.Close("soap:Fault")
	return &soap.Response{Status: http.StatusInternalServerError, Body: soap.End(w)}
}

// tweenerChallenge is the TweenerChallenge of the RSI auth fault (the XSD's
// AuthenticationFailed/TweenerChallenge); no client reads its content.
const tweenerChallenge = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,kpp=1,kv=9,ver=2.1.6000.1,rn=1lgjBfIL,tpf=b0735e3a873dfb5e75054465196398e0"

// rsiFault renders RSI faults. A bad ticket gets faultcode
// AuthenticationFailed, which purple 2.5+ answers by renewing its token and
// aMSN by retrying (RST_OIM.md §3.1); anything else is soap:Client (or
// soap:Server for internal errors) with a readable faultstring.
func rsiFault(_ *soap.Request, e *models.Error) *soap.Response {
	var code, text string
	auth := e.Code == models.CodePassportAuthFail || e.Code == models.CodeAuthenticationFailed
	switch {
	case auth:
		code, text = "AuthenticationFailed", "Authentication failed: sign in again."
	case e.Code == models.CodeInternalError:
		code, text = "soap:Server", "Internal server error"
	default:
		code, text = "soap:Client", e.Message
		if text == "" {
			text = string(e.Code)
		}
	}
	w := soap.BeginPlain(1024)
	w.Open("soap:Fault")
	w.Leaf("faultcode", code)
	w.Leaf("faultstring", text)
	w.Leaf("faultactor", RSIActor)
	if auth {
		w.Open("detail")
		w.OpenAttr("AuthenticationFailed", "xmlns", soap.NSRSI)
		w.Leaf("TweenerChallenge", tweenerChallenge)
		w.Close("AuthenticationFailed")
		w.Close("detail")
	} else {
		w.Empty("detail")
	}
	w.Close("soap:Fault")
	return &soap.Response{Status: http.StatusInternalServerError, Body: soap.End(w)}
}
