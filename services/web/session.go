package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/abch-im/abch/models"
)

// Cookie names. The session cookie names a server-side session; the CSRF
// cookie holds a random nonce whose MAC (with the session id) is the token
// every form carries, so a form posted from elsewhere, which cannot read
// the cookie, has no valid token.
const (
	sessionCookie = "abch_session"
	csrfCookie    = "abch_csrf"
	csrfField     = "csrf"
)

// maxSessionAge bounds a session however active it is.
const maxSessionAge = 12 * time.Hour

// maxSessions bounds the sessions held in memory; past it the oldest idle
// ones go first.
const maxSessions = 100_000

// session is a signed-in user or operator. Sessions live in the memory of
// the process that made them (docs/web.md: run the pages on one process,
// or with sticky sessions).
type session struct {
	id        string
	admin     bool
	accountID int64
	email     string
	// tokenVersion is the account's at sign-in: a password change or a
	// disable (anywhere: CLI, dashboard, another session) ends the session.
	tokenVersion int
	created      time.Time
	lastSeen     time.Time
}

type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
	idle time.Duration
	now  func() time.Time
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, idle: idle, now: now}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session (a fresh id at every sign-in: no fixation).
func (s *sessions) create(admin bool, acct *models.Account) *session {
	now := s.now()
	ss := &session{id: randomToken(32), admin: admin, created: now, lastSeen: now}
	if acct != nil {
		ss.accountID, ss.email, ss.tokenVersion = acct.ID, acct.Email, acct.TokenVersion
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		s.pruneLocked(now)
	}
	s.byID[ss.id] = ss
	return ss
}

func (s *sessions) expired(ss *session, now time.Time) bool {
	return now.Sub(ss.lastSeen) > s.idle || now.Sub(ss.created) > maxSessionAge
}

// pruneLocked drops expired sessions, then the least recently used ones
// while the table is full.
func (s *sessions) pruneLocked(now time.Time) {
	var oldest *session
	for id, ss := range s.byID {
		if s.expired(ss, now) {
			delete(s.byID, id)
		} else if oldest == nil || ss.lastSeen.Before(oldest.lastSeen) {
			oldest = ss
		}
	}
	if len(s.byID) >= maxSessions && oldest != nil {
		delete(s.byID, oldest.id)
	}
}

// get returns the live session id names and marks it used; an expired one
// is dropped.
func (s *sessions) get(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.byID[id]
	if ss == nil {
		return nil
	}
	now := s.now()
	if s.expired(ss, now) {
		delete(s.byID, id)
		return nil
	}
	ss.lastSeen = now
	return ss
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

// endAccount ends every session of the account (deleted, password reset).
func (s *sessions) endAccount(accountID int64) {
	s.mu.Lock()
	for id, ss := range s.byID {
		if !ss.admin && ss.accountID == accountID {
			delete(s.byID, id)
		}
	}
	s.mu.Unlock()
}

// secure reports whether the request came over TLS: the pages' own TLS
// listener (ABCH_WEB_TLS=on; abch's listeners wrap the TLS connection, so
// r.TLS is not set there), a TLS connection of some other server, or the
// reverse proxy ABCH_WEB_ADDRESS_HEADER names saying so. Cookies then get
// Secure.
func (w *Web) secure(r *http.Request) bool {
	return w.deps.Config.WebTLS == "on" || r.TLS != nil ||
		(w.deps.Config.WebAddressHeader != "" && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (w *Web) setCookie(rw http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(rw, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: w.secure(r), SameSite: http.SameSiteStrictMode,
	})
}

// sessionOf returns the request's live session, or nil.
func (w *Web) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return w.sessions.get(c.Value)
}

// startSession signs the browser in: a new session and its cookie.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, admin bool, acct *models.Account) *session {
	if old, err := r.Cookie(sessionCookie); err == nil {
		w.sessions.end(old.Value)
	}
	ss := w.sessions.create(admin, acct)
	w.setCookie(rw, r, sessionCookie, ss.id, 0)
	return ss
}

// csrfNonce returns the browser's CSRF nonce, setting a new cookie when it
// has none.
func (w *Web) csrfNonce(rw http.ResponseWriter, r *http.Request) string {
	if n := nonceOf(r); n != "" {
		return n
	}
	n := randomToken(24)
	w.setCookie(rw, r, csrfCookie, n, 0)
	// Later code in this request (the page's own forms) sees it too.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: n})
	return n
}

// nonceOf is the request's CSRF nonce: the last well-formed one (a nonce
// set earlier in this request comes after a stale one the browser sent).
func nonceOf(r *http.Request) string {
	n := ""
	for _, c := range r.CookiesNamed(csrfCookie) {
		if len(c.Value) >= 20 {
			n = c.Value
		}
	}
	return n
}

// mac is the HMAC-SHA256 of the parts under the process key.
func (w *Web) mac(parts ...string) string {
	h := hmac.New(sha256.New, w.key)
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// csrfToken is the token forms of this browser and session carry.
func (w *Web) csrfToken(rw http.ResponseWriter, r *http.Request) string {
	sid := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		sid = c.Value
	}
	return w.mac("csrf", w.csrfNonce(rw, r), sid)
}

// csrfValid checks the form's token against the cookies it came with.
func (w *Web) csrfValid(r *http.Request) bool {
	nonce := nonceOf(r)
	if nonce == "" {
		return false
	}
	sid := ""
	if s, err := r.Cookie(sessionCookie); err == nil {
		sid = s.Value
	}
	want := w.mac("csrf", nonce, sid)
	return hmac.Equal([]byte(want), []byte(r.PostFormValue(csrfField)))
}

// maxForm bounds a form body: the largest is a handful of short fields.
const maxForm = 64 << 10

// form guards a POST: a bounded body, and a valid CSRF token unless the
// operator's bearer token authenticates the request (no cookie is involved
// then, so no other site can make a browser send it). A refused token is
// 403 with a page that says to reload.
func (w *Web) form(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(rw, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			w.fail(rw, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if r.Header.Get("Authorization") != "" && !w.bearerOK(r) {
			rw.Header().Set("WWW-Authenticate", `Bearer realm="abch"`)
			w.fail(rw, r, http.StatusUnauthorized, "Wrong operator token.")
			return
		}
		if !w.bearerOK(r) && !w.csrfValid(r) {
			w.fail(rw, r, http.StatusForbidden, "This form has expired or did not come from this site. Go back, reload the page and send it again.")
			return
		}
		h(rw, r)
	}
}

type ctxKey int

const sessionKey ctxKey = iota

func withSession(r *http.Request, ss *session) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), sessionKey, ss))
}

func sessionFrom(r *http.Request) *session {
	ss, _ := r.Context().Value(sessionKey).(*session)
	return ss
}

// user guards a signed-in user's page: without a live user session a GET
// goes to the sign-in page (303), a POST is 401. A session whose account
// changed its password, was disabled or deleted since ends here.
func (w *Web) user(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		ss := w.sessionOf(r)
		if ss != nil && !ss.admin {
			acct, err := w.deps.Store.AccountByID(r.Context(), ss.accountID)
			if err == nil && acct.TokenVersion == ss.tokenVersion && !acct.Disabled {
				h(rw, withSession(r, ss))
				return
			}
			if err != nil && models.ErrorCode(err) != models.CodeNotFound {
				w.internal(rw, r, err)
				return
			}
			w.sessions.end(ss.id)
		}
		if r.Method == http.MethodGet {
			http.Redirect(rw, r, "/signin", http.StatusSeeOther)
			return
		}
		w.fail(rw, r, http.StatusUnauthorized, "Your session has ended. Sign in again.")
	}
}

// bearerOK reports whether the request carries ABCH_ADMIN_TOKEN as a
// bearer token (compared in constant time; never with an empty token).
func (w *Web) bearerOK(r *http.Request) bool {
	tok := w.deps.Config.AdminToken
	h := r.Header.Get("Authorization")
	if tok == "" || len(h) < 7 || !strings.EqualFold(h[:7], "Bearer ") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(h[7:])), []byte(tok)) == 1
}

// admin guards an operator's page: the bearer token, or an operator
// session from the login form. With no ABCH_ADMIN_TOKEN the dashboard does
// not exist (404). A wrong bearer token is 401; a user's session is 403
// (a Messenger password never opens the dashboard); a browser without a
// session is sent to the login form.
func (w *Web) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case w.deps.Config.AdminToken == "":
			w.fail(rw, r, http.StatusNotFound, "There is no operator dashboard on this server (ABCH_ADMIN_TOKEN is not set).")
			return
		case w.bearerOK(r):
			h(rw, withSession(r, &session{admin: true}))
			return
		case r.Header.Get("Authorization") != "":
			rw.Header().Set("WWW-Authenticate", `Bearer realm="abch"`)
			w.fail(rw, r, http.StatusUnauthorized, "Wrong operator token.")
			return
		}
		ss := w.sessionOf(r)
		switch {
		case ss != nil && ss.admin:
			h(rw, withSession(r, ss))
		case ss != nil:
			w.fail(rw, r, http.StatusForbidden, "This page is for operators. Sign out and sign in with the operator token.")
		case r.Method == http.MethodGet:
			http.Redirect(rw, r, "/admin/login", http.StatusSeeOther)
		default:
			w.fail(rw, r, http.StatusUnauthorized, "Your operator session has ended. Sign in again.")
		}
	}
}

// clientIP is the request's source address: the connection's, or the
// last entry of ABCH_WEB_ADDRESS_HEADER (the one the proxy wrote) when a
// reverse proxy is configured.
func (w *Web) clientIP(r *http.Request) string {
	if hdr := w.deps.Config.WebAddressHeader; hdr != "" {
		if v := r.Header.Values(hdr); len(v) > 0 {
			parts := strings.Split(v[len(v)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
