package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// adminLoginLimit bounds the login-form attempts per source address per
// ABCH_SIGNUP_WINDOW (the token has at least 16 characters; this only
// keeps guessers from filling the logs).
const adminLoginLimit = 20

func (w *Web) adminLoginPage(rw http.ResponseWriter, r *http.Request) {
	if w.deps.Config.AdminToken == "" {
		w.fail(rw, r, http.StatusNotFound, "There is no operator dashboard on this server (ABCH_ADMIN_TOKEN is not set).")
		return
	}
	w.render(rw, r, http.StatusOK, "adminlogin", view{Title: "Operator sign-in"})
}

// adminLogin starts an operator session for the right ABCH_ADMIN_TOKEN
// typed into the form (never a Messenger password).
func (w *Web) adminLogin(rw http.ResponseWriter, r *http.Request) {
	tok := w.deps.Config.AdminToken
	if tok == "" {
		w.fail(rw, r, http.StatusNotFound, "There is no operator dashboard on this server (ABCH_ADMIN_TOKEN is not set).")
		return
	}
	ip := w.clientIP(r)
	hits, err := w.deps.Store.HitSignup(r.Context(), "admin:"+ip, w.deps.Config.SignupWindow)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	if hits > adminLoginLimit {
		w.render(rw, r, http.StatusTooManyRequests, "adminlogin", view{Title: "Operator sign-in", Problem: "Too many attempts from your address. Try again later."})
		return
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(r.PostFormValue("token"))), []byte(tok)) != 1 {
		w.deps.Log.Warn("web operator sign-in refused", "source", ip)
		w.render(rw, r, http.StatusUnauthorized, "adminlogin", view{Title: "Operator sign-in", Problem: "Wrong operator token."})
		return
	}
	w.deps.Log.Info("web operator signed in", "source", ip)
	w.startSession(rw, r, true, nil)
	http.Redirect(rw, r, "/admin", http.StatusSeeOther)
}

// dashboardPage is the service health at a glance.
type dashboardPage struct {
	Status Status
	Charts []chart
}

func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request) {
	st := w.status(r)
	// The page reloads itself (no script): health at a glance stays fresh.
	w.render(rw, r, http.StatusOK, "dashboard", view{Title: "Dashboard", Refresh: 30, Data: dashboardPage{Status: st, Charts: w.samples.charts()}})
}

func (w *Web) searchAccounts(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	list, err := w.deps.Store.SearchAccounts(r.Context(), q, 100)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "accounts", view{Title: "Accounts", Data: struct {
		Q        string
		Accounts []models.Account
	}{q, list}})
}

// adminAccount is the operator's view of one account.
type adminAccount struct {
	*accounts.Summary
	Path string // /admin/accounts/<escaped address>
}

var adminNotices = map[string]string{
	"disable":  "The account is disabled: its tickets stopped working and its Messenger sessions are closed.",
	"enable":   "The account is enabled.",
	"unlock":   "The failed sign-ins are cleared.",
	"password": "The password is reset; every earlier ticket stopped working.",
	"same":     "Nothing changed: the account was already so.",
}

func (w *Web) showAccount(rw http.ResponseWriter, r *http.Request) {
	w.showAccountWith(rw, r, http.StatusOK, "")
}

func (w *Web) showAccountWith(rw http.ResponseWriter, r *http.Request, status int, problem string) {
	sum, err := w.deps.Ops.Show(r.Context(), r.PathValue("email"))
	if err != nil {
		w.opError(rw, r, err)
		return
	}
	w.render(rw, r, status, "adminaccount", view{Title: sum.Account.Email, Problem: problem,
		Notice: adminNotices[r.URL.Query().Get("done")],
		Data:   adminAccount{Summary: sum, Path: "/admin/accounts/" + url.PathEscape(sum.Account.EmailLower)}})
}

// opError answers an account operation's error: an unknown or invalid
// address is 404, anything else a logged 500.
func (w *Web) opError(rw http.ResponseWriter, r *http.Request, err error) {
	switch models.ErrorCode(err) {
	case models.CodeNotFound, models.CodeInvalidEmail:
		w.fail(rw, r, http.StatusNotFound, "There is no such account.")
	default:
		w.internal(rw, r, err)
	}
}

// accountAction runs one operator action on an account: the same
// internal/accounts calls as `abch user disable|enable|unlock|passwd|delete`.
func (w *Web) accountAction(rw http.ResponseWriter, r *http.Request) {
	email, action := r.PathValue("email"), r.PathValue("action")
	ctx := r.Context()
	done := action
	switch action {
	case "disable", "enable":
		acct, changed, err := w.deps.Ops.SetDisabled(ctx, email, action == "disable")
		if err != nil {
			w.opError(rw, r, err)
			return
		}
		if !changed {
			done = "same"
		}
		if action == "disable" {
			w.sessions.endAccount(acct.ID)
		}
		w.deps.Log.Info("web operator action", "action", action, "account", acct.Email)
	case "unlock":
		if _, err := w.deps.Store.AccountByEmail(ctx, email); err != nil {
			w.opError(rw, r, err)
			return
		}
		if err := w.deps.Ops.Unlock(ctx, email, strings.TrimSpace(r.PostFormValue("address"))); err != nil {
			w.internal(rw, r, err)
			return
		}
	case "password":
		if r.PostFormValue("password") != r.PostFormValue("password2") {
			w.showAccountWith(rw, r, http.StatusBadRequest, "The two passwords differ.")
			return
		}
		acct, err := w.deps.Ops.SetPassword(ctx, email, r.PostFormValue("password"), accounts.Operator)
		if err != nil {
			if models.ErrorCode(err) == models.CodeInvalidPassword {
				w.showAccountWith(rw, r, http.StatusBadRequest, capitalize(messageOf(err))+".")
				return
			}
			w.opError(rw, r, err)
			return
		}
		w.sessions.endAccount(acct.ID)
		w.deps.Log.Info("web operator action", "action", action, "account", acct.Email)
	case "delete":
		// The address typed again: a delete cannot be undone.
		lower, err := models.NormalizeEmail(email)
		if err != nil {
			w.opError(rw, r, err)
			return
		}
		if typed, err := models.NormalizeEmail(r.PostFormValue("confirm")); err != nil || typed != lower {
			w.showAccountWith(rw, r, http.StatusBadRequest, "Type the account's address to confirm the deletion.")
			return
		}
		res, err := w.deps.Ops.Delete(ctx, email)
		if err != nil {
			w.opError(rw, r, err)
			return
		}
		w.sessions.endAccount(res.Account.ID)
		w.deps.Log.Info("web operator action", "action", action, "account", res.Account.Email, "affected", len(res.Affected))
		http.Redirect(rw, r, "/admin/accounts?deleted="+url.QueryEscape(res.Account.Email), http.StatusSeeOther)
		return
	default:
		w.fail(rw, r, http.StatusNotFound, "There is no such action.")
		return
	}
	http.Redirect(rw, r, "/admin/accounts/"+url.PathEscape(email)+"?done="+done, http.StatusSeeOther)
}

func (w *Web) invitesView(r *http.Request, fresh []string) (view, error) {
	list, err := w.deps.Store.Invites(r.Context(), 200)
	if err != nil {
		return view{}, err
	}
	return view{Title: "Invitations", Data: struct {
		Mode   string
		Fresh  []string
		Invite []store.Invite
	}{w.deps.Config.Signup, fresh, list}}, nil
}

func (w *Web) invites(rw http.ResponseWriter, r *http.Request) {
	v, err := w.invitesView(r, nil)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	w.render(rw, r, http.StatusOK, "invites", v)
}

// createInvites makes invitation codes (as `abch invite create` does).
func (w *Web) createInvites(rw http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("count")))
	if err != nil || n < 1 || n > 100 {
		w.fail(rw, r, http.StatusBadRequest, "Make 1 to 100 invitation codes at a time.")
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if utf8.RuneCountInString(note) > 200 || strings.ContainsAny(note, "\r\n") {
		w.fail(rw, r, http.StatusBadRequest, "The note must be one line of at most 200 characters.")
		return
	}
	codes, err := w.deps.Store.CreateInvites(r.Context(), n, note)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	w.deps.Log.Info("web operator made invitation codes", "count", n)
	v, err := w.invitesView(r, codes)
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	v.Notice = "New invitation codes: give each to one person."
	w.render(rw, r, http.StatusOK, "invites", v)
}
