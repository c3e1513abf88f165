package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/passport"
	"github.com/abch-im/abch/services/web"
)

// testToken is the operator token of the tests.
const testToken = "operator-token-0123456789"

// clock is the web pages' session clock, moved by the tests.
type clock struct {
	mu sync.Mutex
	at time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.at = c.at.Add(d)
	c.mu.Unlock()
}

// env is abch with its web pages on loopback.
type env struct {
	t     *testing.T
	s     *server.Server
	base  string
	clock *clock
	logs  *testenv.SyncBuffer
	ips   atomic.Int32
}

// start runs abch (cfg changed by edit) with the web pages: the operator
// token set, sign-up open, the session clock the test's, every log line
// (the Passport check's too) kept to look for passwords in.
func start(t *testing.T, cfg config.Config, edit func(*config.Config)) *env {
	t.Helper()
	cfg.WebAddr = "127.0.0.1:0"
	cfg.AdminToken = testToken
	// Each test browser comes from its own address (documentation range),
	// as a reverse proxy would say; the per-address limits are per browser.
	cfg.WebAddressHeader = "X-Real-IP"
	if edit != nil {
		edit(&cfg)
	}
	s := testenv.StartServer(t, cfg)
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := &clock{at: time.Now()}
	d := web.DepsOf(s, func(w io.Writer, ip, nsIP net.IP) { cli.WriteHosts(w, ip, nsIP, "hosts", s.Config.PassportDALogin) })
	d.Log, d.Now, d.SampleEvery = log, c.now, 50*time.Millisecond
	d.SignIn = passport.NewSignIn(passport.Deps{Store: s.Store, Tickets: s.Deps.Tickets, Throttle: s.Deps.Throttle, Config: s.Config, Log: log})
	_, addr, err := web.MountDeps(s, d)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, s: s, base: "http://" + addr, clock: c, logs: logs}
}

// account creates an account with a password (the CLI's code path).
func (e *env) account(email, password, name string) *models.Account {
	e.t.Helper()
	return testenv.NewAccount(e.t, e.s, email, password, name)
}

// reply is an answer as a browser gets it (redirects not followed).
type reply struct {
	Status int
	Body   string
	Header http.Header
}

func (r reply) location() string { return r.Header.Get("Location") }

// browser is a cookie-keeping client of the pages.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	page string // the last page read, for its forms' tokens
	hdr  http.Header
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	hdr := http.Header{}
	hdr.Set("X-Real-IP", "192.0.2."+strconv.Itoa(int(e.ips.Add(1))%250+1))
	return &browser{t: e.t, e: e, hdr: hdr, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, body io.Reader, ctype string) reply {
	b.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, b.e.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range b.hdr {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	r := reply{Status: resp.StatusCode, Body: string(raw), Header: resp.Header}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		b.page = r.Body
	}
	return r
}

func (b *browser) get(path string) reply { b.t.Helper(); return b.do(http.MethodGet, path, nil, "") }

// post sends form as it is (no token added).
func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// submit reads page, then posts form to action with the page's CSRF token.
func (b *browser) submit(page, action string, form url.Values) reply {
	b.t.Helper()
	if r := b.get(page); r.Status != http.StatusOK {
		b.t.Fatalf("GET %s: %d %s", page, r.Status, r.Body)
	}
	m := csrfRE.FindStringSubmatch(b.page)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s", page)
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", html.UnescapeString(m[1]))
	return b.post(action, form)
}

var questionRE = regexp.MustCompile(`What is (\d+) plus (\d+)\?`)
var challengeRE = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// signup fills the sign-up page: the question answered right unless
// answer is given.
func (b *browser) signup(form url.Values, answer string) reply {
	b.t.Helper()
	if r := b.get("/signup"); r.Status != http.StatusOK {
		b.t.Fatalf("GET /signup: %d", r.Status)
	}
	q, ch, tok := questionRE.FindStringSubmatch(b.page), challengeRE.FindStringSubmatch(b.page), csrfRE.FindStringSubmatch(b.page)
	if q == nil || ch == nil || tok == nil {
		b.t.Fatalf("sign-up page lacks the question, its token or the CSRF token:\n%s", b.page)
	}
	if answer == "" {
		x, _ := strconv.Atoi(q[1])
		y, _ := strconv.Atoi(q[2])
		answer = strconv.Itoa(x + y)
	}
	form.Set("challenge", html.UnescapeString(ch[1]))
	form.Set("answer", answer)
	form.Set("csrf", html.UnescapeString(tok[1]))
	return b.post("/signup", form)
}

func signupForm(email, name, pw string) url.Values {
	return url.Values{"email": {email}, "name": {name}, "password": {pw}, "password2": {pw}}
}

// signin signs the browser in with a Messenger password.
func (b *browser) signin(email, password string) reply {
	b.t.Helper()
	return b.submit("/signin", "/signin", url.Values{"email": {email}, "password": {password}})
}

// operator is a browser with the bearer token (no cookies needed).
func (e *env) operator() *browser {
	b := e.browser()
	b.hdr.Set("Authorization", "Bearer "+testToken)
	return b
}

func wantStatus(t *testing.T, r reply, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, r.Status, status, r.Body)
	}
}

// rst signs in through Passport RST on the SOAP listener with pidgin
// 2.5's captured envelope and returns the status and the messengerclear
// ticket ("" when refused).
func (e *env) rst(email, password string) (int, string) {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ClientsDir(e.t), "requests", "libpurple-2.5.0", "RequestMultipleSecurityTokens.xml"))
	if err != nil {
		e.t.Fatal(err)
	}
	body := strings.Replace(string(raw), "<wsse:Username>alice@example.com</wsse:Username>", "<wsse:Username>"+html.EscapeString(email)+"</wsse:Username>", 1)
	body = strings.Replace(body, "<wsse:Password>secret-password</wsse:Password>", "<wsse:Password>"+html.EscapeString(password)+"</wsse:Password>", 1)
	resp, err := http.Post("http://"+e.s.HTTPAddr+"/RST.srf", "text/xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	m := ticketRE.FindStringSubmatch(string(out))
	if resp.StatusCode != http.StatusOK || m == nil {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, html.UnescapeString(m[1])
}

var ticketRE = regexp.MustCompile(`<wsa:Address>messengerclear\.live\.com</wsa:Address>.*?<wsse:BinarySecurityToken Id="Compact\d+">([^<]+)<`)

// ticketWorks asks the NS API, as the NS does at sign-in, whether the
// ticket is still good.
func (e *env) ticketWorks(ticket string) bool {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+e.s.NSAddr+"/ns/v1/tickets/verify", strings.NewReader(`{"ticket":"`+ticket+`"}`))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.s.Config.NSKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// events counts the outbox events of type typ for the account.
func (e *env) events(acct *models.Account, typ string) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Store.DB.Table("outbox").Where("recipient_id = ? AND payload LIKE ?", acct.ID, `%"type":"`+typ+`"%`).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}
