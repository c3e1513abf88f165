package web

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/internal/importer"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/passport"
)

func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "home", view{Title: "Welcome", Data: w.deps.Config.Signup})
}

// signupForm is what the sign-up page shows (and shows again after a
// refusal, without the passwords).
type signupForm struct {
	Mode        string // ABCH_SIGNUP
	Email, Name string
	Invite      string
	Challenge   challenge
	Max, Min    int
}

func (w *Web) signupView(rw http.ResponseWriter, r *http.Request, f signupForm) view {
	f.Mode = w.deps.Config.Signup
	f.Challenge = w.newChallenge(w.csrfNonce(rw, r))
	f.Min, f.Max = accounts.SelfService.Min, accounts.SelfService.Max
	return view{Title: "Sign up", Data: f}
}

func (w *Web) signupPage(rw http.ResponseWriter, r *http.Request) {
	status := http.StatusOK
	if w.deps.Config.Signup == "off" {
		status = http.StatusForbidden
	}
	w.render(rw, r, status, "signup", w.signupView(rw, r, signupForm{Invite: r.URL.Query().Get("invite")}))
}

// signup creates an account: sign-up open (or an unused invitation code),
// within the source address's limit, the sum answered, the passwords the
// same and within the policy, the address new in any letter case. The
// browser is signed in to the new account.
func (w *Web) signup(rw http.ResponseWriter, r *http.Request) {
	mode := w.deps.Config.Signup
	f := signupForm{Email: strings.TrimSpace(r.PostFormValue("email")), Name: strings.TrimSpace(r.PostFormValue("name")),
		Invite: strings.TrimSpace(r.PostFormValue("invite"))}
	again := func(status int, problem string) {
		v := w.signupView(rw, r, f)
		v.Problem = problem
		w.render(rw, r, status, "signup", v)
	}
	if mode == "off" {
		again(http.StatusForbidden, "Sign-up is closed on this server.")
		return
	}
	ip := w.clientIP(r)
	hits, err := w.deps.Store.HitSignup(r.Context(), "signup:"+ip, w.deps.Config.SignupWindow)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	if hits > int64(w.deps.Config.SignupLimit) {
		rw.Header().Set("Retry-After", strconv.Itoa(int(w.deps.Config.SignupWindow.Seconds())))
		again(http.StatusTooManyRequests, "Too many sign-up attempts from your address. Try again later.")
		return
	}
	nonce := w.csrfNonce(rw, r)
	switch {
	case !w.checkChallenge(r.PostFormValue("challenge"), r.PostFormValue("answer"), nonce):
		again(http.StatusBadRequest, "The answer to the question is wrong (or the page is too old). Try the new question.")
		return
	case mode == "invite" && f.Invite == "":
		again(http.StatusBadRequest, "Sign-up needs an invitation code on this server.")
		return
	case r.PostFormValue("password") != r.PostFormValue("password2"):
		again(http.StatusBadRequest, "The two passwords differ.")
		return
	}
	u := accounts.NewUser{Email: f.Email, Password: r.PostFormValue("password"), DisplayName: f.Name}
	if mode == "invite" {
		u.Invite = f.Invite
	}
	acct, err := w.deps.Ops.Create(r.Context(), u, accounts.SelfService)
	if err != nil {
		switch models.ErrorCode(err) {
		case models.CodeInvalidEmail:
			again(http.StatusBadRequest, "That is not an e-mail address we can use.")
		case models.CodeAccountExists:
			again(http.StatusConflict, "An account with that address exists already.")
		case models.CodeInvalidPassword, models.CodeBadArgumentLength:
			again(http.StatusBadRequest, capitalize(messageOf(err))+".")
		case models.CodeNotFound:
			again(http.StatusBadRequest, "That invitation code is unknown or has been used.")
		default:
			w.internal(rw, r, err)
		}
		return
	}
	w.deps.Log.Info("web sign-up", "account", acct.Email, "source", ip, "invite", u.Invite != "")
	w.startSession(rw, r, false, acct)
	http.Redirect(rw, r, "/account?done=welcome", http.StatusSeeOther)
}

func messageOf(err error) string {
	if e, ok := err.(*models.Error); ok {
		return e.Message
	}
	return err.Error()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (w *Web) signinPage(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusOK, "signin", view{Title: "Sign in"})
}

// signin checks the Messenger password exactly as RST does (the same
// throttle counters: a guess here counts there too). Every refusal reads
// the same, except a disabled account's right password.
func (w *Web) signin(rw http.ResponseWriter, r *http.Request) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	acct, err := w.deps.SignIn.Check(r.Context(), email, r.PostFormValue("password"), w.clientIP(r), "web")
	if err != nil {
		v := view{Title: "Sign in", Data: email}
		switch {
		case passport.Disabled(err):
			v.Problem = "This account is disabled. Ask the operator of this server."
			w.render(rw, r, http.StatusForbidden, "signin", v)
		case models.ErrorCode(err) == models.CodeFailedAuthentication:
			v.Problem = "Wrong e-mail address or password (or too many attempts: wait a few minutes)."
			w.render(rw, r, http.StatusUnauthorized, "signin", v)
		default:
			w.internal(rw, r, err)
		}
		return
	}
	w.startSession(rw, r, false, acct)
	http.Redirect(rw, r, "/account", http.StatusSeeOther)
}

func (w *Web) signout(rw http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		w.sessions.end(c.Value)
	}
	w.setCookie(rw, r, sessionCookie, "", -1)
	http.Redirect(rw, r, "/", http.StatusSeeOther)
}

// accountPage is the signed-in user's page.
type accountPage struct {
	Account  *models.Account
	Messages []models.OfflineMessage
	Min, Max int
}

var notices = map[string]string{
	"welcome":  "Your account is ready. Sign in to Messenger with this address and password.",
	"name":     "Your display name is changed; your contacts see it now.",
	"password": "Your password is changed. Sign in to Messenger again with the new one.",
	"cleared":  "Your offline messages are deleted.",
}

func (w *Web) accountView(r *http.Request) (view, error) {
	ss := sessionFrom(r)
	acct, err := w.deps.Store.AccountByID(r.Context(), ss.accountID)
	if err != nil {
		return view{}, err
	}
	msgs, err := w.deps.Store.OfflineMessages(r.Context(), acct.ID)
	if err != nil {
		return view{}, err
	}
	return view{Title: "Your account", Notice: notices[r.URL.Query().Get("done")],
		Data: accountPage{Account: acct, Messages: msgs, Min: accounts.SelfService.Min, Max: accounts.SelfService.Max}}, nil
}

func (w *Web) account(rw http.ResponseWriter, r *http.Request) {
	v, err := w.accountView(r)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "account", v)
}

// accountProblem shows the account page again with a problem.
func (w *Web) accountProblem(rw http.ResponseWriter, r *http.Request, status int, problem string) {
	v, err := w.accountView(r)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	v.Problem = problem
	w.render(rw, r, status, "account", v)
}

// changeName sets the display name the way PRP MFN does (the account row,
// the Me contact, and the profile.changed event that tells the NS).
func (w *Web) changeName(rw http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if err := accounts.CheckDisplayName(name, false); err != nil {
		w.accountProblem(rw, r, http.StatusBadRequest, capitalize(messageOf(err))+".")
		return
	}
	if _, err := w.deps.Store.SetDisplayName(r.Context(), sessionFrom(r).accountID, name); err != nil {
		w.internal(rw, r, err)
		return
	}
	http.Redirect(rw, r, "/account?done=name", http.StatusSeeOther)
}

// changePassword needs the current password (checked like a sign-in) and
// the new one twice; every ticket issued before stops working, and the
// browser gets a new session (the old one ends with the old tickets).
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) {
	ss := sessionFrom(r)
	if _, err := w.deps.SignIn.Check(r.Context(), ss.email, r.PostFormValue("current"), w.clientIP(r), "web"); err != nil {
		if models.ErrorCode(err) != models.CodeFailedAuthentication {
			w.internal(rw, r, err)
			return
		}
		w.accountProblem(rw, r, http.StatusUnauthorized, "The current password is wrong.")
		return
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		w.accountProblem(rw, r, http.StatusBadRequest, "The two new passwords differ.")
		return
	}
	acct, err := w.deps.Ops.SetPassword(r.Context(), ss.email, r.PostFormValue("password"), accounts.SelfService)
	if err != nil {
		if models.ErrorCode(err) == models.CodeInvalidPassword {
			w.accountProblem(rw, r, http.StatusBadRequest, capitalize(messageOf(err))+".")
			return
		}
		w.internal(rw, r, err)
		return
	}
	w.deps.Log.Info("web password change", "account", acct.Email, "source", w.clientIP(r))
	w.sessions.endAccount(acct.ID)
	w.startSession(rw, r, false, acct)
	http.Redirect(rw, r, "/account?done=password", http.StatusSeeOther)
}

// clearMessages deletes the offline messages ticked on the page (all of
// them with all=1), with the oim.deleted event the RSI path emits.
func (w *Web) clearMessages(rw http.ResponseWriter, r *http.Request) {
	ss := sessionFrom(r)
	acct, err := w.deps.Store.AccountByID(r.Context(), ss.accountID)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	ids := r.PostForm["id"]
	if r.PostFormValue("all") == "1" {
		msgs, err := w.deps.Store.OfflineMessages(r.Context(), acct.ID)
		if err != nil {
			w.internal(rw, r, err)
			return
		}
		ids = ids[:0]
		for _, m := range msgs {
			ids = append(ids, m.GUID)
		}
	}
	if len(ids) == 0 {
		w.accountProblem(rw, r, http.StatusBadRequest, "Tick the messages to delete.")
		return
	}
	if _, err := w.deps.Store.DeleteOfflineMessages(r.Context(), acct, ids); err != nil {
		if models.ErrorCode(err) == models.CodeBadRequest {
			w.accountProblem(rw, r, http.StatusBadRequest, capitalize(messageOf(err))+".")
			return
		}
		w.internal(rw, r, err)
		return
	}
	http.Redirect(rw, r, "/account?done=cleared", http.StatusSeeOther)
}

// exportContacts downloads the account's lists in the format `abch export
// lists` writes (docs/migration.md), one JSON line.
func (w *Web) exportContacts(rw http.ResponseWriter, r *http.Request) {
	ss := sessionFrom(r)
	var buf bytes.Buffer
	if _, err := importer.Export(r.Context(), w.deps.Store, &buf, ss.email); err != nil {
		w.internal(rw, r, err)
		return
	}
	name := strings.NewReplacer("@", "_at_", "/", "_", `"`, "_").Replace(ss.email)
	rw.Header().Set("Content-Type", "application/x-ndjson; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="`+name+`.jsonl"`)
	rw.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = rw.Write(buf.Bytes())
}
