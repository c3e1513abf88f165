package passport

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
)

// Passport 1.4 ("Tweener"), the login of MSNP8–12 clients (docs/passport.md
// "Passport 1.4"): the client asks the nexus for the login URL
// (GET /rdr/pprdr.asp → PassportURLs: …,DALogin=<host/path>,…), then sends
// the credentials with the NS challenge to DALogin (GET /login2.srf,
// Authorization: Passport1.4 …) and passes the from-PP ticket to the NS in
// USR TWN S. The bytes follow pidgin 2.2.2's nexus.c, which looks for the
// literal "HTTP/1.1 200 OK" / "HTTP/1.1 401 Unauthorized" /
// "HTTP/1.1 503 Service Unavailable" status lines and for from-PP='…'
// (NS_CLIENT_FACTS.md "Passport 1.4"). The password check, the throttle and
// the ticket rules are RST's (login.go); the ticket's audience is the
// messenger one, which the NS checks through the NS API.

// Default nexus fields other than DALogin (the values the 2003–2006 service
// sent; clients only read DALogin).
const passportURLsRest = "DAReg=http://register.passport.net/uixpwiz.srf," +
	"Properties=https://register.passport.net/editprof.srf," +
	"Privacy=http://www.passport.com/consumer/privacypolicy.asp," +
	"GeneralRedir=http://nexusrdr.passport.com/redir.asp," +
	"Help=http://memberservices.passport.net/memberservice.srf," +
	"ConfigVersion=11"

// failedAuth is the WWW-Authenticate of a refused login2.srf; pidgin shows
// the URL-decoded cbtxt ("Type your e-mail address and password
// correctly…", as the real service said).
const failedAuth = "Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt," +
	"cburl=http://www.passportimages.com/XPPassportLogo.gif," +
	"cbtxt=Type%20your%20e-mail%20address%20and%20password%20correctly."

// maxAuthorization bounds the Authorization header of login2.srf (pidgin's
// is under 600 bytes with a 16-byte password).
const maxAuthorization = 4 << 10

// Tweener serves Passport 1.4: the nexus (PPRDRPath) and the login
// (LoginPath, the path part of ABCH_PASSPORT_DALOGIN).
type Tweener struct {
	svc     *service
	daLogin string
}

// PPRDRPath is the nexus request's path.
const PPRDRPath = "/rdr/pprdr.asp"

// NewTweener returns the Passport 1.4 handlers.
func NewTweener(deps Deps) *Tweener {
	return &Tweener{svc: &service{deps: deps}, daLogin: deps.Config.PassportDALogin}
}

// LoginPath is the path of the DALogin URL ("/login2.srf" by default).
func (tw *Tweener) LoginPath() string {
	if i := strings.IndexByte(tw.daLogin, '/'); i >= 0 {
		return tw.daLogin[i:]
	}
	return "/login2.srf"
}

// PPRDR answers the nexus: 200 with the PassportURLs header. pidgin reads
// DALogin up to the next ',' as host (up to the first '/') and path, and
// connects to that host on 443.
func (tw *Tweener) PPRDR(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Header names are set as written (not canonicalised to
	// "Passporturls"): nexus.c finds them with a case-sensitive strstr.
	h["PassportURLs"] = []string{"DARealm=Passport.Net,DALogin=" + tw.daLogin + "," + passportURLsRest}
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// Login is login2.srf: the Passport1.4 Authorization header's sign-in and
// pwd checked as RST checks them. Success is 200 with Authentication-Info
// carrying the messenger ticket in from-PP; every failure (wrong password,
// unknown or disabled account, throttled, a missing or malformed header) is
// the same 401; a storage failure is 503 (pidgin: "service unavailable").
func (tw *Tweener) Login(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "0")
	a := attempt{Ctx: r.Context(), ID: newID(), RemoteIP: remoteIP(r)}
	user, pwd, ok := parsePassport14(r.Header.Get("Authorization"))
	if !ok {
		tw.refuse(w, a, "", "malformed or missing Authorization header")
		return
	}
	acct, err := tw.svc.authenticate(a, user, pwd)
	if err != nil {
		if models.ErrorCode(err) == models.CodeFailedAuthentication {
			tw.refuse(w, a, user, err.Error())
			return
		}
		if log := tw.svc.deps.Log; log != nil {
			log.Error("passport 1.4 login", "request_id", a.ID, "account", user, "error", err.Error())
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	tk := tw.svc.deps.Tickets.Issue(acct.ID, acct.TokenVersion, auth.AudMessenger)
	h.Set("Authentication-Info", "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,"+
		"from-PP='"+tk.Text()+"',ru=http://messenger.msn.com")
	if log := tw.svc.deps.Log; log != nil {
		log.Info("passport 1.4 sign-in", "request_id", a.ID, "account", acct.Email, "source", a.RemoteIP)
	}
	w.WriteHeader(http.StatusOK)
}

func (tw *Tweener) refuse(w http.ResponseWriter, a attempt, user, reason string) {
	if log := tw.svc.deps.Log; log != nil {
		log.Info("passport 1.4 sign-in refused", "request_id", a.ID, "account", user, "source", a.RemoteIP, "reason", reason)
	}
	w.Header()["WWW-Authenticate"] = []string{failedAuth}
	w.WriteHeader(http.StatusUnauthorized)
}

// parsePassport14 reads "Passport1.4 OrgVerb=GET,OrgURL=…,sign-in=<urlenc>,
// pwd=<urlenc>,lc=…,…" (nexus.c login_connect_cb): comma-separated
// key=value pairs whose values are URL-encoded (so hold no commas). It
// needs a sign-in and a pwd, each given once.
func parsePassport14(header string) (user, pwd string, ok bool) {
	if len(header) > maxAuthorization {
		return "", "", false
	}
	scheme, params, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Passport1.4") {
		return "", "", false
	}
	var haveUser, havePwd bool
	for _, kv := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		var dst *string
		switch strings.ToLower(k) {
		case "sign-in":
			if haveUser {
				return "", "", false
			}
			dst, haveUser = &user, true
		case "pwd":
			if havePwd {
				return "", "", false
			}
			dst, havePwd = &pwd, true
		default:
			continue
		}
		dec, err := url.PathUnescape(v)
		if err != nil {
			return "", "", false
		}
		*dst = dec
	}
	if !haveUser || !havePwd || user == "" {
		return "", "", false
	}
	return user, pwd, true
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
