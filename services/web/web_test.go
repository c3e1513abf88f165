package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/importer"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/web"
)

func TestSignUp(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := start(t, cfg, func(c *config.Config) { c.SignupLimit = 8 })
		ctx := context.Background()

		t.Run("open sign-up creates the account and signs the browser in", func(t *testing.T) {
			b := e.browser()
			r := b.signup(signupForm("New.User@Example.com", "New User", "goodpass1"), "")
			wantStatus(t, r, http.StatusSeeOther, "sign-up")
			if r.location() != "/account?done=welcome" {
				t.Fatalf("sent to %q", r.location())
			}
			acct, err := e.s.Store.AccountByEmail(ctx, "new.user@example.com")
			if err != nil || acct.Email != "New.User@Example.com" || acct.DisplayName != "New User" {
				t.Fatalf("account %+v, %v", acct, err)
			}
			page := b.get(r.location())
			wantStatus(t, page, http.StatusOK, "account page")
			if !strings.Contains(page.Body, "New.User@Example.com") || !strings.Contains(page.Body, "Your account is ready") {
				t.Fatalf("account page:\n%s", page.Body)
			}
			if code, ticket := e.rst("new.user@example.com", "goodpass1"); code != http.StatusOK || !e.ticketWorks(ticket) {
				t.Fatalf("RST with the new account: %d, ticket %q", code, ticket)
			}
		})
		t.Run("an address in another letter case is the same account", func(t *testing.T) {
			r := e.browser().signup(signupForm("NEW.USER@example.COM", "", "goodpass1"), "")
			wantStatus(t, r, http.StatusConflict, "second sign-up")
			if !strings.Contains(r.Body, "exists already") {
				t.Fatalf("page does not say why:\n%s", r.Body)
			}
		})
		for _, c := range []struct {
			name string
			form url.Values
			says string
		}{
			{"an invalid address is refused", signupForm("not an address", "", "goodpass1"), "not an e-mail address"},
			{"a password under 8 characters is refused", signupForm("short@example.com", "", "short"), "at least 8"},
			{"a password over 16 characters is refused (purple sends only 16)", signupForm("long@example.com", "", "0123456789abcdefg"), "at most 16"},
			{"the password as the address is refused", signupForm("same@ex.com", "", "same@ex.com"), "must not be the e-mail"},
			{"a display name with a line break is refused", signupForm("nl@example.com", "a\nb", "goodpass1"), "display name"},
			{"differing passwords are refused", url.Values{"email": {"differ@example.com"}, "password": {"goodpass1"}, "password2": {"goodpass2"}}, "differ"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.browser().signup(c.form, "")
				wantStatus(t, r, http.StatusBadRequest, c.name)
				if !strings.Contains(r.Body, c.says) {
					t.Fatalf("page does not say %q:\n%s", c.says, r.Body)
				}
				if strings.Contains(r.Body, "goodpass") {
					t.Fatalf("the password is echoed in the page")
				}
				if _, err := e.s.Store.AccountByEmail(ctx, c.form.Get("email")); models.ErrorCode(err) != models.CodeNotFound && models.ErrorCode(err) != models.CodeInvalidEmail {
					t.Fatalf("account made anyway: %v", err)
				}
			})
		}
		t.Run("a wrong answer to the question is refused", func(t *testing.T) {
			r := e.browser().signup(signupForm("bot@example.com", "", "goodpass1"), "1000")
			wantStatus(t, r, http.StatusBadRequest, "wrong answer")
			if _, err := e.s.Store.AccountByEmail(ctx, "bot@example.com"); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("account made with a wrong answer: %v", err)
			}
		})
		t.Run("a form without the CSRF token is refused with 403", func(t *testing.T) {
			b := e.browser()
			b.get("/signup")
			form := signupForm("csrf@example.com", "", "goodpass1")
			wantStatus(t, b.post("/signup", form), http.StatusForbidden, "no token")
			form.Set("csrf", "forged")
			wantStatus(t, b.post("/signup", form), http.StatusForbidden, "forged token")
			if _, err := e.s.Store.AccountByEmail(ctx, "csrf@example.com"); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("account made without a token: %v", err)
			}
		})
		t.Run("a stale malformed CSRF cookie is replaced, and the form works", func(t *testing.T) {
			b := e.browser()
			u, _ := url.Parse(e.base)
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "abch_csrf", Value: "short"}})
			wantStatus(t, b.signup(signupForm("stale@example.com", "", "goodpass1"), ""), http.StatusSeeOther, "sign-up")
		})
		t.Run("a cross-site form post is refused by the browser's headers", func(t *testing.T) {
			b := e.browser()
			b.hdr.Set("Sec-Fetch-Site", "cross-site")
			wantStatus(t, b.post("/signin", url.Values{"email": {"a@example.com"}}), http.StatusForbidden, "cross-site post")
		})
		t.Run("past ABCH_SIGNUP_LIMIT attempts from one address, 429", func(t *testing.T) {
			b := e.browser()
			var last reply
			for i := 0; i < 10; i++ {
				last = b.signup(signupForm("flood@example.com", "", "x"), "")
				if last.Status == http.StatusTooManyRequests {
					break
				}
			}
			wantStatus(t, last, http.StatusTooManyRequests, "attempts past the limit")
			if last.Header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
			// The limit is per source address (behind the proxy header),
			// in the database: a good form from the same address is
			// refused too, one from another address is not.
			same := e.browser()
			same.hdr.Set("X-Real-IP", b.hdr.Get("X-Real-IP"))
			wantStatus(t, same.signup(signupForm("late@example.com", "", "goodpass1"), ""), http.StatusTooManyRequests, "good form after the limit")
			wantStatus(t, e.browser().signup(signupForm("other@example.com", "", "goodpass1"), ""), http.StatusSeeOther, "another address is not limited")
			if _, err := e.s.Store.AccountByEmail(ctx, "late@example.com"); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("account made past the limit: %v", err)
			}
		})
		t.Run("passwords never reach the log", func(t *testing.T) {
			if strings.Contains(e.logs.String(), "goodpass") {
				t.Fatalf("a password is in the log:\n%s", e.logs.String())
			}
			if !strings.Contains(e.logs.String(), "web sign-up") {
				t.Fatalf("the sign-up is not logged at all:\n%s", e.logs.String())
			}
		})
	})
}

func TestSignUpModes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		t.Run("off: the page says so and a post is refused with 403", func(t *testing.T) {
			e := start(t, cfg, func(c *config.Config) { c.Signup = "off" })
			b := e.browser()
			r := b.get("/signup")
			wantStatus(t, r, http.StatusForbidden, "sign-up page")
			if !strings.Contains(r.Body, "closed") {
				t.Fatalf("page:\n%s", r.Body)
			}
			wantStatus(t, b.submit("/signin", "/signup", signupForm("x@example.com", "", "goodpass1")), http.StatusForbidden, "post")
		})
		t.Run("invite: a code is needed, used once, made by the dashboard", func(t *testing.T) {
			cfg := cfg
			cfg.DataDir = t.TempDir()
			if cfg.DatabaseURL != "" {
				cfg.DatabaseURL = testenv.NewPostgresDB(t)
			}
			e := start(t, cfg, func(c *config.Config) { c.Signup = "invite" })
			ctx := context.Background()
			b := e.browser()
			if r := b.get("/signup"); !strings.Contains(r.Body, `name="invite"`) {
				t.Fatalf("no invitation field:\n%s", r.Body)
			}
			wantStatus(t, b.signup(signupForm("inv@example.com", "", "goodpass1"), ""), http.StatusBadRequest, "no code")
			f := signupForm("inv@example.com", "", "goodpass1")
			f.Set("invite", "NOPE-NOPE-NOPE")
			wantStatus(t, b.signup(f, ""), http.StatusBadRequest, "unknown code")

			op := e.operator()
			r := op.post("/admin/invites", url.Values{"count": {"2"}, "note": {"for friends"}})
			wantStatus(t, r, http.StatusOK, "make codes")
			list, err := e.s.Store.Invites(ctx, 10)
			if err != nil || len(list) != 2 || list[0].Note != "for friends" || !strings.Contains(r.Body, list[0].Code) {
				t.Fatalf("codes %+v, %v", list, err)
			}
			code := list[0].Code
			f.Set("invite", strings.ToLower(code))
			wantStatus(t, b.signup(f, ""), http.StatusSeeOther, "sign-up with a code (typed in lower case)")
			f2 := signupForm("inv2@example.com", "", "goodpass1")
			f2.Set("invite", code)
			r = e.browser().signup(f2, "")
			wantStatus(t, r, http.StatusBadRequest, "second use of a code")
			if !strings.Contains(r.Body, "used") {
				t.Fatalf("page:\n%s", r.Body)
			}
			if _, err := e.s.Store.AccountByEmail(ctx, "inv2@example.com"); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("second account made with one code: %v", err)
			}
			list, _ = e.s.Store.Invites(ctx, 10)
			used := 0
			for _, i := range list {
				if i.UsedBy != "" {
					used++
					if i.UsedBy != "inv@example.com" || i.Code != code {
						t.Errorf("used %+v", i)
					}
				}
			}
			if used != 1 {
				t.Fatalf("%d codes used", used)
			}
		})
	})
}

func TestSignInAndSelfService(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := start(t, cfg, func(c *config.Config) { c.LoginFailuresPerAccount = 3 })
		ctx := context.Background()
		alice := e.account("alice@example.com", "alicepass1", "Alice")
		bob := e.account("bob@example.com", "bobpass12", "Bob")

		t.Run("without a session the account page sends to sign-in, a post is 401", func(t *testing.T) {
			b := e.browser()
			r := b.get("/account")
			if r.Status != http.StatusSeeOther || r.location() != "/signin" {
				t.Fatalf("GET /account: %d %q", r.Status, r.location())
			}
			wantStatus(t, b.submit("/signin", "/account/name", url.Values{"name": {"x"}}), http.StatusUnauthorized, "post without a session")
		})
		t.Run("a wrong password is 401 and counts against the RST throttle", func(t *testing.T) {
			b := e.browser()
			for i := 0; i < 3; i++ {
				wantStatus(t, b.signin("bob@example.com", "wrong"), http.StatusUnauthorized, "wrong password")
			}
			// Locked: the right password is refused too, on the web and over RST.
			wantStatus(t, b.signin("bob@example.com", "bobpass12"), http.StatusUnauthorized, "right password while locked")
			if code, _ := e.rst("bob@example.com", "bobpass12"); code == http.StatusOK {
				t.Fatalf("RST signs in while the web locked the account")
			}
			r := e.operator().get("/admin/accounts/bob@example.com")
			if !strings.Contains(r.Body, `id="locked"><span class="bad">yes</span>`) {
				t.Fatalf("dashboard does not show the lock:\n%s", r.Body)
			}
			wantStatus(t, e.operator().post("/admin/accounts/bob@example.com/unlock", nil), http.StatusSeeOther, "unlock")
			// The browser's address used up its own limit too.
			wantStatus(t, b.signin("bob@example.com", "bobpass12"), http.StatusUnauthorized, "right password, address still locked")
			wantStatus(t, e.operator().post("/admin/accounts/bob@example.com/unlock", url.Values{"address": {b.hdr.Get("X-Real-IP")}}), http.StatusSeeOther, "unlock with the address")
			wantStatus(t, b.signin("bob@example.com", "bobpass12"), http.StatusSeeOther, "right password after unlock")
		})
		t.Run("the right password signs in; the cookies are HttpOnly and SameSite=Strict", func(t *testing.T) {
			b := e.browser()
			r := b.signin("ALICE@example.com", "alicepass1")
			wantStatus(t, r, http.StatusSeeOther, "sign-in")
			for _, c := range r.Header.Values("Set-Cookie") {
				if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || strings.Contains(c, "Secure") {
					t.Errorf("cookie over plain HTTP: %s", c)
				}
			}
			if p := b.get("/account"); !strings.Contains(p.Body, `id="display-name">Alice<`) {
				t.Fatalf("account page:\n%s", p.Body)
			}
			if sum, _ := e.s.Store.AccountSummary(ctx, "alice@example.com"); sum.LastSignIn.IsZero() {
				t.Errorf("the web sign-in is not recorded")
			}
		})
		t.Run("changing the display name emits profile.changed as the SOAP path does", func(t *testing.T) {
			b := e.browser()
			b.signin("alice@example.com", "alicepass1")
			before := e.events(alice, "profile.changed")
			r := b.submit("/account", "/account/name", url.Values{"name": {"Alice <b>Web</b>"}})
			wantStatus(t, r, http.StatusSeeOther, "change name")
			a, _ := e.s.Store.AccountByID(ctx, alice.ID)
			if a.DisplayName != "Alice <b>Web</b>" || e.events(alice, "profile.changed") != before+1 {
				t.Fatalf("name %q, events %d→%d", a.DisplayName, before, e.events(alice, "profile.changed"))
			}
			if p := b.get("/account"); !strings.Contains(p.Body, "Alice &lt;b&gt;Web&lt;/b&gt;") {
				t.Fatalf("name not escaped in the page:\n%s", p.Body)
			}
			wantStatus(t, b.submit("/account", "/account/name", url.Values{"name": {strings.Repeat("n", 400)}}), http.StatusBadRequest, "over-long name")
		})
		t.Run("offline messages are shown and cleared with oim.deleted", func(t *testing.T) {
			for i, text := range []string{"hello from bob", "second <note>"} {
				m := &models.OfflineMessage{GUID: strings.ToUpper("0000000" + string(rune('a'+i)) + "-0000-0000-0000-000000000000"), SenderEmail: bob.Email,
					SenderFriendly: "=?utf-8?B?Qm9i?=", Body: text, Size: len(text), ReceivedAt: time.Now(), CreatedAt: time.Now()}
				if err := e.s.Store.StoreOfflineMessage(ctx, bob, alice, m, 100); err != nil {
					t.Fatal(err)
				}
			}
			b := e.browser()
			b.signin("alice@example.com", "alicepass1")
			p := b.get("/account")
			if !strings.Contains(p.Body, "hello from bob") || !strings.Contains(p.Body, "second &lt;note&gt;") || !strings.Contains(p.Body, "Bob &lt;bob@example.com&gt;") {
				t.Fatalf("messages not shown:\n%s", p.Body)
			}
			wantStatus(t, b.submit("/account", "/account/messages/clear", url.Values{}), http.StatusBadRequest, "clear nothing ticked")
			wantStatus(t, b.submit("/account", "/account/messages/clear", url.Values{"all": {"1"}}), http.StatusSeeOther, "clear all")
			if left, _ := e.s.Store.OfflineMessages(ctx, alice.ID); len(left) != 0 || e.events(alice, "oim.deleted") != 1 {
				t.Fatalf("%d messages left, %d oim.deleted events", len(left), e.events(alice, "oim.deleted"))
			}
			if p := b.get("/account"); !strings.Contains(p.Body, `id="no-messages"`) {
				t.Fatalf("page after clearing:\n%s", p.Body)
			}
		})
		t.Run("the contact list downloads in the export format", func(t *testing.T) {
			b := e.browser()
			b.signin("alice@example.com", "alicepass1")
			r := b.get("/account/contacts.jsonl")
			wantStatus(t, r, http.StatusOK, "download")
			var want bytes.Buffer
			if _, err := importer.Export(ctx, e.s.Store, &want, "alice@example.com"); err != nil {
				t.Fatal(err)
			}
			if r.Body != want.String() || !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("download differs from abch export:\n%s\nwant\n%s", r.Body, want.String())
			}
		})
		t.Run("changing the password ends earlier tickets and sessions", func(t *testing.T) {
			code, ticket := e.rst("alice@example.com", "alicepass1")
			if code != http.StatusOK || !e.ticketWorks(ticket) {
				t.Fatalf("RST before: %d", code)
			}
			b, other := e.browser(), e.browser()
			b.signin("alice@example.com", "alicepass1")
			other.signin("alice@example.com", "alicepass1")
			wantStatus(t, b.submit("/account", "/account/password", url.Values{"current": {"wrong"}, "password": {"newpass12"}, "password2": {"newpass12"}}), http.StatusUnauthorized, "wrong current password")
			wantStatus(t, b.submit("/account", "/account/password", url.Values{"current": {"alicepass1"}, "password": {"newpass12"}, "password2": {"newpass13"}}), http.StatusBadRequest, "differing new passwords")
			wantStatus(t, b.submit("/account", "/account/password", url.Values{"current": {"alicepass1"}, "password": {"short"}, "password2": {"short"}}), http.StatusBadRequest, "new password too short")
			r := b.submit("/account", "/account/password", url.Values{"current": {"alicepass1"}, "password": {"newpass12"}, "password2": {"newpass12"}})
			wantStatus(t, r, http.StatusSeeOther, "change password")
			if e.ticketWorks(ticket) {
				t.Fatalf("the ticket from before the change still works")
			}
			if code, _ := e.rst("alice@example.com", "alicepass1"); code == http.StatusOK {
				t.Fatalf("the old password still signs in")
			}
			if code, t2 := e.rst("alice@example.com", "newpass12"); code != http.StatusOK || !e.ticketWorks(t2) {
				t.Fatalf("the new password does not sign in: %d", code)
			}
			wantStatus(t, b.get("/account"), http.StatusOK, "the changing browser stays signed in")
			if r := other.get("/account"); r.Status != http.StatusSeeOther {
				t.Fatalf("another browser's session survived the change: %d", r.Status)
			}
			if strings.Contains(e.logs.String(), "newpass12") || strings.Contains(e.logs.String(), "alicepass1") {
				t.Fatalf("a password is in the log")
			}
		})
		t.Run("an idle session expires", func(t *testing.T) {
			b := e.browser()
			wantStatus(t, b.signin("alice@example.com", "newpass12"), http.StatusSeeOther, "sign-in")
			e.clock.advance(cfg.WebSessionIdle - time.Minute)
			wantStatus(t, b.get("/account"), http.StatusOK, "within the idle time")
			e.clock.advance(cfg.WebSessionIdle + time.Second)
			if r := b.get("/account"); r.Status != http.StatusSeeOther || r.location() != "/signin" {
				t.Fatalf("expired session: %d %q", r.Status, r.location())
			}
			wantStatus(t, b.submit("/signin", "/account/name", url.Values{"name": {"late"}}), http.StatusUnauthorized, "post with an expired session")
		})
		t.Run("a disabled account's right password says so; a wrong one does not", func(t *testing.T) {
			if _, _, err := e.s.Store.SetDisabled(ctx, "bob@example.com", true); err != nil {
				t.Fatal(err)
			}
			r := e.browser().signin("bob@example.com", "bobpass12")
			wantStatus(t, r, http.StatusForbidden, "disabled, right password")
			if !strings.Contains(r.Body, "disabled") {
				t.Fatalf("page:\n%s", r.Body)
			}
			r = e.browser().signin("bob@example.com", "guess")
			if r.Status != http.StatusUnauthorized || strings.Contains(r.Body, "disabled") {
				t.Fatalf("disabled, wrong password: %d\n%s", r.Status, r.Body)
			}
		})
	})
}

func TestOperatorDashboard(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := start(t, cfg, nil)
		ctx := context.Background()
		carol := e.account("carol@example.com", "carolpass1", "Carol")
		e.account("dave@example.com", "davepass12", "Dave")

		t.Run("a wrong bearer token is 401", func(t *testing.T) {
			b := e.browser()
			b.hdr.Set("Authorization", "Bearer wrong-token-wrong-token")
			wantStatus(t, b.get("/admin"), http.StatusUnauthorized, "dashboard")
			wantStatus(t, b.post("/admin/accounts/carol@example.com/disable", nil), http.StatusUnauthorized, "disable")
		})
		t.Run("a user's session is refused every operator page and action (403)", func(t *testing.T) {
			b := e.browser()
			wantStatus(t, b.signin("carol@example.com", "carolpass1"), http.StatusSeeOther, "user sign-in")
			wantStatus(t, b.get("/admin"), http.StatusForbidden, "dashboard")
			wantStatus(t, b.get("/admin/accounts/dave@example.com"), http.StatusForbidden, "account page")
			wantStatus(t, b.submit("/account", "/admin/accounts/dave@example.com/disable", nil), http.StatusForbidden, "disable with a valid CSRF token")
			if a, _ := e.s.Store.AccountByEmail(ctx, "dave@example.com"); a.Disabled {
				t.Fatalf("a user disabled another account")
			}
		})
		t.Run("without a session the dashboard sends to the token form", func(t *testing.T) {
			r := e.browser().get("/admin")
			if r.Status != http.StatusSeeOther || r.location() != "/admin/login" {
				t.Fatalf("%d %q", r.Status, r.location())
			}
		})
		t.Run("the login form takes the token, never a Messenger password", func(t *testing.T) {
			b := e.browser()
			wantStatus(t, b.submit("/admin/login", "/admin/login", url.Values{"token": {"carolpass1"}}), http.StatusUnauthorized, "a Messenger password")
			wantStatus(t, b.submit("/admin/login", "/admin/login", url.Values{"token": {testToken}}), http.StatusSeeOther, "the token")
			wantStatus(t, b.get("/admin"), http.StatusOK, "dashboard after login")
			wantStatus(t, b.post("/admin/accounts/dave@example.com/disable", url.Values{}), http.StatusForbidden, "an action without the CSRF token")
			if strings.Contains(e.logs.String(), testToken) {
				t.Fatalf("the token is in the log")
			}
			e.clock.advance(cfg.WebSessionIdle + time.Second)
			if r := b.get("/admin"); r.Status != http.StatusSeeOther || r.location() != "/admin/login" {
				t.Fatalf("an idle operator session still opens the dashboard: %d %q", r.Status, r.location())
			}
		})
		t.Run("the dashboard shows health and charts from /metrics", func(t *testing.T) {
			if code, _ := e.rst("carol@example.com", "carolpass1"); code != http.StatusOK {
				t.Fatal("RST failed")
			}
			e.rst("carol@example.com", "wrong")
			deadline := time.Now().Add(10 * time.Second)
			var st web.Status
			for time.Now().Before(deadline) {
				r := e.operator().get("/admin/metrics.json")
				wantStatus(t, r, http.StatusOK, "metrics.json")
				if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
					t.Fatal(err)
				}
				if st.SignInsPerMin > 0 && st.FaultsPerMin > 0 {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if st.SignInsPerMin <= 0 || st.FaultsPerMin <= 0 || !st.DatabaseOK || !st.BrokerOK || !st.NSHere || st.Backlog < 0 || st.Accounts != 2 || st.Version == "" {
				t.Fatalf("status %+v", st)
			}
			r := e.operator().get("/admin")
			wantStatus(t, r, http.StatusOK, "dashboard")
			for _, want := range []string{`<meta http-equiv="refresh" content="30">`, `id="database"><span class="ok">up</span>`, `id="broker"><span class="ok">connected</span>`, "<svg", "<polyline", "Sign-ins per minute", "Outbox backlog"} {
				if !strings.Contains(r.Body, want) {
					t.Fatalf("dashboard lacks %q:\n%s", want, r.Body)
				}
			}
		})
		t.Run("online counts the accounts signed in to the NS, as /metrics does", func(t *testing.T) {
			ns := &msnptest.Env{T: t, S: e.s}
			ns.SignIn(e.s.MSNPAddr, carol)
			deadline := time.Now().Add(10 * time.Second)
			for {
				var st web.Status
				r := e.operator().get("/admin/metrics.json")
				if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
					t.Fatal(err)
				}
				if st.SignedIn == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("signed in: %d, want 1", st.SignedIn)
				}
				time.Sleep(20 * time.Millisecond)
			}
			resp, err := http.Get("http://" + e.s.HTTPAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(raw), "\nabch_ns_signed_in 1\n") {
				t.Fatalf("/metrics lacks abch_ns_signed_in 1")
			}
			if r := e.operator().get("/admin"); !strings.Contains(r.Body, `id="online">1 signed in`) {
				t.Fatalf("dashboard online:\n%s", r.Body)
			}
		})
		t.Run("search finds by address or name in any case", func(t *testing.T) {
			r := e.operator().get("/admin/accounts?q=CAR")
			if !strings.Contains(r.Body, "carol@example.com") || strings.Contains(r.Body, "dave@example.com") {
				t.Fatalf("search:\n%s", r.Body)
			}
			if r := e.operator().get("/admin/accounts?q=dav"); !strings.Contains(r.Body, "dave@example.com") {
				t.Fatalf("search by name:\n%s", r.Body)
			}
			if r := e.operator().get("/admin/accounts?q=%25"); strings.Contains(r.Body, "@example.com") {
				t.Fatalf("a %% matched everything:\n%s", r.Body)
			}
			wantStatus(t, e.operator().get("/admin/accounts/nobody@example.com"), http.StatusNotFound, "unknown account")
		})
		t.Run("disable ends tickets and sessions; enable lets the account in again", func(t *testing.T) {
			_, ticket := e.rst("carol@example.com", "carolpass1")
			user := e.browser()
			user.signin("carol@example.com", "carolpass1")
			r := e.operator().post("/admin/accounts/CAROL@example.com/disable", nil)
			wantStatus(t, r, http.StatusSeeOther, "disable")
			a, _ := e.s.Store.AccountByID(ctx, carol.ID)
			if !a.Disabled || e.ticketWorks(ticket) || e.events(carol, "account.disabled") != 1 {
				t.Fatalf("disabled %v, ticket works %v, events %d", a.Disabled, e.ticketWorks(ticket), e.events(carol, "account.disabled"))
			}
			if r := user.get("/account"); r.Status != http.StatusSeeOther {
				t.Fatalf("the user's web session survived the disable: %d", r.Status)
			}
			if p := e.operator().get("/admin/accounts/carol@example.com?done=disable"); !strings.Contains(p.Body, `id="status"><span class="bad">disabled`) {
				t.Fatalf("account page:\n%s", p.Body)
			}
			wantStatus(t, e.operator().post("/admin/accounts/carol@example.com/enable", nil), http.StatusSeeOther, "enable")
			if code, _ := e.rst("carol@example.com", "carolpass1"); code != http.StatusOK {
				t.Fatalf("enabled account cannot sign in")
			}
			wantStatus(t, e.operator().post("/admin/accounts/carol@example.com/fly", nil), http.StatusNotFound, "unknown action")
		})
		t.Run("reset password: the operator's policy, earlier tickets end", func(t *testing.T) {
			_, ticket := e.rst("carol@example.com", "carolpass1")
			wantStatus(t, e.operator().post("/admin/accounts/carol@example.com/password", url.Values{"password": {"a"}, "password2": {"b"}}), http.StatusBadRequest, "differing")
			wantStatus(t, e.operator().post("/admin/accounts/carol@example.com/password", url.Values{"password": {""}, "password2": {""}}), http.StatusBadRequest, "empty")
			wantStatus(t, e.operator().post("/admin/accounts/carol@example.com/password", url.Values{"password": {"reset-pass"}, "password2": {"reset-pass"}}), http.StatusSeeOther, "reset")
			if e.ticketWorks(ticket) {
				t.Fatalf("ticket from before the reset works")
			}
			if code, _ := e.rst("carol@example.com", "reset-pass"); code != http.StatusOK {
				t.Fatalf("reset password does not sign in")
			}
		})
		t.Run("delete needs the address typed again, then removes the account", func(t *testing.T) {
			wantStatus(t, e.operator().post("/admin/accounts/dave@example.com/delete", url.Values{"confirm": {"carol@example.com"}}), http.StatusBadRequest, "wrong confirmation")
			if _, err := e.s.Store.AccountByEmail(ctx, "dave@example.com"); err != nil {
				t.Fatalf("deleted without confirmation: %v", err)
			}
			wantStatus(t, e.operator().post("/admin/accounts/dave@example.com/delete", url.Values{"confirm": {"DAVE@example.com"}}), http.StatusSeeOther, "delete")
			if _, err := e.s.Store.AccountByEmail(ctx, "dave@example.com"); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("still there: %v", err)
			}
			wantStatus(t, e.operator().post("/admin/accounts/dave@example.com/delete", url.Values{"confirm": {"dave@example.com"}}), http.StatusNotFound, "delete again")
		})
	})
}

func TestNoDashboardWithoutToken(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := start(t, cfg, func(c *config.Config) { c.AdminToken = "" })
		b := e.browser()
		b.hdr.Set("Authorization", "Bearer ")
		wantStatus(t, b.get("/admin"), http.StatusNotFound, "dashboard without a token")
		wantStatus(t, e.browser().get("/admin/login"), http.StatusNotFound, "login form without a token")
	})
}

func TestConnectPage(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		t.Run("hosts lines, certificate and clients from the settings", func(t *testing.T) {
			e := start(t, cfg, nil)
			r := e.browser().get("/connect")
			wantStatus(t, r, http.StatusOK, "connect")
			for _, want := range []string{"127.0.0.1 contacts.msn.com", "127.0.0.1 messenger.hotmail.com", "no TLS certificate configured", "MSNP15", "no HTTPS listener"} {
				if !strings.Contains(r.Body, want) {
					t.Fatalf("connect page lacks %q:\n%s", want, r.Body)
				}
			}
			if h := e.browser().get("/connect/hosts.txt"); !strings.Contains(h.Body, "127.0.0.1 login.live.com") {
				t.Fatalf("hosts.txt:\n%s", h.Body)
			}
			wantStatus(t, e.browser().get("/connect/abch-ca.crt"), http.StatusNotFound, "certificate without TLS")
		})
		t.Run("with TLS: the CA abch certs made downloads, and HTTPS clients work", func(t *testing.T) {
			cfg := cfg
			cfg.DataDir = t.TempDir()
			if cfg.DatabaseURL != "" {
				cfg.DatabaseURL = testenv.NewPostgresDB(t)
			}
			certs := t.TempDir()
			if _, err := cli.WriteCerts(certs, nil, time.Now()); err != nil {
				t.Fatal(err)
			}
			e := start(t, cfg, func(c *config.Config) {
				c.HTTPSAddr = "127.0.0.1:0"
				c.TLSCert, c.TLSKey = filepath.Join(certs, "server.pem"), filepath.Join(certs, "server-key.pem")
			})
			r := e.browser().get("/connect")
			if !strings.Contains(r.Body, `href="/connect/abch-ca.crt"`) || !strings.Contains(r.Body, `<td>Windows Live Messenger 8.5</td><td>MSNP15</td><td><span class="ok">yes</span>`) {
				t.Fatalf("connect page with TLS:\n%s", r.Body)
			}
			caPEM, err := os.ReadFile(filepath.Join(certs, "ca.pem"))
			if err != nil {
				t.Fatal(err)
			}
			blk, _ := pem.Decode(caPEM)
			der := e.browser().get("/connect/abch-ca.crt")
			if der.Status != http.StatusOK || der.Body != string(blk.Bytes) {
				t.Fatalf("abch-ca.crt is not ca.pem's certificate (%d)", der.Status)
			}
			if _, err := x509.ParseCertificate([]byte(der.Body)); err != nil {
				t.Fatal(err)
			}
			if p := e.browser().get("/connect/abch-ca.pem"); p.Body != string(caPEM) {
				t.Fatalf("abch-ca.pem differs from ca.pem")
			}
			wantStatus(t, e.browser().get("/connect/server-key.pem"), http.StatusNotFound, "the key")
		})
	})
}

// TestSecureCookiesOverTLS serves the pages over TLS (ABCH_WEB_TLS=on,
// the certificate abch certs made): the cookies get Secure.
func TestSecureCookiesOverTLS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		certs := t.TempDir()
		if _, err := cli.WriteCerts(certs, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		e := start(t, cfg, func(c *config.Config) {
			c.WebTLS = "on"
			c.TLSCert, c.TLSKey = filepath.Join(certs, "server.pem"), filepath.Join(certs, "server-key.pem")
		})
		caPEM, err := os.ReadFile(filepath.Join(certs, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "login.live.com"}}}
		resp, err := c.Get(strings.Replace(e.base, "http://", "https://", 1) + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cookies := resp.Header.Values("Set-Cookie")
		if resp.StatusCode != http.StatusOK || len(cookies) == 0 {
			t.Fatalf("%d, cookies %v", resp.StatusCode, cookies)
		}
		for _, ck := range cookies {
			if !strings.Contains(ck, "Secure") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
				t.Errorf("cookie over TLS: %s", ck)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q", csp)
		}
		if _, err := http.Get(e.base + "/signin"); err == nil {
			t.Errorf("plain HTTP answered on the TLS listener")
		}
	})
}

// TestSecureCookiesBehindAProxy: with ABCH_WEB_ADDRESS_HEADER set (a
// reverse proxy in front), X-Forwarded-Proto: https marks cookies Secure.
func TestSecureCookiesBehindAProxy(t *testing.T) {
	db := testenv.Databases(t)[0]
	e := start(t, testenv.Config(t, db), nil)
	for _, c := range []struct {
		proto  string
		secure bool
	}{{"https", true}, {"", false}} {
		b := e.browser()
		if c.proto != "" {
			b.hdr.Set("X-Forwarded-Proto", c.proto)
		}
		r := b.get("/signin")
		for _, ck := range r.Header.Values("Set-Cookie") {
			if strings.Contains(ck, "Secure") != c.secure {
				t.Errorf("X-Forwarded-Proto %q: cookie %s", c.proto, ck)
			}
		}
	}
}
