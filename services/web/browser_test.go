package web_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// chromiumPath finds Debian's chromium. Under CI (CI=true, where .ci/run
// installs it) a missing browser fails the test; elsewhere it skips.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: the browser test must run in CI (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium)")
	return ""
}

// artifactsDir is where the screenshots go: $ABCH_TEST_ARTIFACTS/web, or
// artifacts/web in the repository (gitignored).
func artifactsDir(t *testing.T, sub string) string {
	t.Helper()
	base := os.Getenv("ABCH_TEST_ARTIFACTS")
	if base == "" {
		base = filepath.Join(testenv.RepoRoot(t), "artifacts")
	}
	dir := filepath.Join(base, "web", sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// TestBrowserEndToEnd drives the pages in real headless Chromium: a user
// signs up (answering the written question), signs in to Messenger through
// Passport RST with the new account (pidgin 2.5's captured envelope,
// posted to the real SOAP listener), changes the password on the web and
// the old ticket is refused; then an operator signs in to the dashboard
// with the token and disables the account. Each page is kept as a
// screenshot.
func TestBrowserEndToEnd(t *testing.T) {
	bin := chromiumPath(t)
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := start(t, cfg, func(c *config.Config) { c.WebAddressHeader = "" })
		shots := artifactsDir(t, filepath.Base(t.Name()))

		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(bin),
			chromedp.Flag("headless", true),
			chromedp.NoSandbox, // root in CI
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.WindowSize(1024, 800),
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancelAlloc()
		browser, cancelTab := chromedp.NewContext(actx)
		defer cancelTab()
		// The first call starts the browser and must have no deadline of
		// its own (the deadline would stop the browser); later steps do.
		if err := chromedp.Do(browser); err != nil {
			t.Fatalf("starting chromium: %v", err)
		}
		ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
		defer cancel()

		run := func(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
			t.Helper()
			if err := chromedp.Do(ctx, steps...); err != nil {
				page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
				t.Fatalf("%s: %v\npage:\n%s", what, err, page)
			}
		}
		shot := func(t *testing.T, name string) {
			t.Helper()
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		text := func(t *testing.T, sel string) string {
			t.Helper()
			s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
			if err != nil {
				t.Fatalf("read %s: %v", sel, err)
			}
			return strings.TrimSpace(s)
		}
		css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

		const email, pw, newPW = "Browser.User@example.com", "first-pass1", "second-pass2"
		t.Run("sign up in the browser, answering the written question", func(t *testing.T) {
			run(t, "open the start page", chromedp.Navigate(e.base+"/"), chromedp.WaitVisible(css(`a[href="/signup"]`)))
			shot(t, "01-home")
			run(t, "open sign-up", chromedp.Navigate(e.base+"/signup"), chromedp.WaitVisible(css("#question")))
			m := regexp.MustCompile(`What is (\d+) plus (\d+)\?`).FindStringSubmatch(text(t, "#question"))
			if m == nil {
				t.Fatalf("no question on the page")
			}
			a, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			run(t, "fill the form",
				chromedp.SendKeys(css(`input[name="email"]`), email),
				chromedp.SendKeys(css(`input[name="name"]`), "Browser User"),
				chromedp.SendKeys(css(`input[name="password"]`), pw),
				chromedp.SendKeys(css(`input[name="password2"]`), pw),
				chromedp.SendKeys(css(`input[name="answer"]`), strconv.Itoa(a+b)))
			shot(t, "02-signup")
			run(t, "send it", chromedp.Click(css(`form[action="/signup"] button[type="submit"]`)), chromedp.WaitVisible(css("#display-name")))
			if got := text(t, "#email"); got != email {
				t.Fatalf("account page shows %q", got)
			}
			shot(t, "03-account")
		})

		var ticket string
		t.Run("the new account signs in through Passport RST", func(t *testing.T) {
			code, tk := e.rst(strings.ToLower(email), pw)
			if code != http.StatusOK || !e.ticketWorks(tk) {
				t.Fatalf("RST: %d, ticket %q", code, tk)
			}
			ticket = tk
		})

		t.Run("a password change on the web ends the earlier ticket", func(t *testing.T) {
			form := `form[action="/account/password"] `
			run(t, "reload the account page", chromedp.Navigate(e.base+"/account"), chromedp.WaitVisible(css("#display-name")))
			run(t, "change the password",
				chromedp.SendKeys(css(form+`input[name="current"]`), pw),
				chromedp.SendKeys(css(form+`input[name="password"]`), newPW),
				chromedp.SendKeys(css(form+`input[name="password2"]`), newPW),
				chromedp.Click(css(form+`button[type="submit"]`)),
				chromedp.WaitVisible(css(`.notice`)))
			if n := text(t, ".notice"); !strings.Contains(n, "password is changed") {
				t.Fatalf("notice %q", n)
			}
			shot(t, "04-password-changed")
			if e.ticketWorks(ticket) {
				t.Fatalf("the ticket from before the change still works")
			}
			if code, _ := e.rst(email, pw); code == http.StatusOK {
				t.Fatalf("the old password still signs in over RST")
			}
			if code, tk := e.rst(email, newPW); code != http.StatusOK || !e.ticketWorks(tk) {
				t.Fatalf("the new password does not sign in over RST: %d", code)
			}
			run(t, "how to connect", chromedp.Navigate(e.base+"/connect"), chromedp.WaitVisible(css("pre.hosts")))
			shot(t, "05-connect")
			run(t, "sign out", chromedp.Click(css(`form[action="/signout"] button`)), chromedp.WaitVisible(css(`a[href="/signin"]`)))
			run(t, "the sign-in page", chromedp.Navigate(e.base+"/signin"), chromedp.WaitVisible(css(`input[name="password"]`)))
			shot(t, "05b-signin")
		})

		t.Run("an operator signs in with the token and disables the account", func(t *testing.T) {
			run(t, "operator login",
				chromedp.Navigate(e.base+"/admin"),
				chromedp.WaitVisible(css(`input[name="token"]`)),
				chromedp.SendKeys(css(`input[name="token"]`), testToken))
			shot(t, "06-operator-login")
			run(t, "open the dashboard", chromedp.Click(css(`form[action="/admin/login"] button`)), chromedp.WaitVisible(css("#database")))
			if d := text(t, "#database"); !strings.HasPrefix(d, "up") {
				t.Fatalf("dashboard database: %q", d)
			}
			shot(t, "07-dashboard")
			run(t, "find the account",
				chromedp.SendKeys(css(`input[name="q"]`), "browser"),
				chromedp.Click(css(`form.search button`)),
				chromedp.WaitVisible(css(`a[href="/admin/accounts/browser.user@example.com"]`)))
			shot(t, "08-accounts")
			run(t, "open it", chromedp.Click(css(`a[href="/admin/accounts/browser.user@example.com"]`)), chromedp.WaitVisible(css("#toggle")))
			if s := text(t, "#status"); s != "enabled" {
				t.Fatalf("status %q", s)
			}
			run(t, "disable", chromedp.Click(css("#toggle")), chromedp.WaitVisible(css(`.notice`)))
			if s := text(t, "#status"); s != "disabled" {
				t.Fatalf("status after disable %q", s)
			}
			shot(t, "09-disabled")
			acct, err := e.s.Store.AccountByEmail(context.Background(), email)
			if err != nil || !acct.Disabled {
				t.Fatalf("account %+v, %v", acct, err)
			}
			if code, _ := e.rst(email, newPW); code == http.StatusOK {
				t.Fatalf("a disabled account signs in over RST")
			}
			run(t, "make an invitation code",
				chromedp.Navigate(e.base+"/admin/invites"),
				chromedp.WaitVisible(css(`input[name="count"]`)),
				chromedp.SendKeys(css(`input[name="note"]`), "for a friend"),
				chromedp.Click(css(`form[action="/admin/invites"] button`)),
				chromedp.WaitVisible(css("#fresh")))
			shot(t, "09b-invites")
		})

		t.Run("the sign-up page fits a phone", func(t *testing.T) {
			run(t, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
				chromedp.Navigate(e.base+"/signup"), chromedp.WaitVisible(css("#question")))
			scrollW, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			clientW, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if scrollW > clientW {
				t.Errorf("the page scrolls sideways on a phone: %d > %d", scrollW, clientW)
			}
			shot(t, "10-signup-phone")
		})
	})
}
