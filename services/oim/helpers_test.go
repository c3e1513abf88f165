package oim_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns/msnp"
)

var update = flag.Bool("update", false, "rewrite the golden files in fixtures/oim")

// fixedNow is the deterministic clock of golden-file tests.
var fixedNow = time.Date(2008, 8, 10, 15, 20, 6, 423_000_000, time.UTC)

// env is one running server with Alice, Bob and Carol.
type env struct {
	t                 testing.TB
	s                 *server.Server
	base              string
	alice, bob, carol *models.Account
}

func newEnv(t *testing.T, s *server.Server) *env {
	t.Helper()
	testenv.Deterministic(s.Deps.Store, fixedNow, 0, "a3d2b9c8-6f1e-4d7a-8b0c-")
	e := &env{t: t, s: s, base: "http://" + s.HTTPAddr}
	e.alice = e.account("alice@example.com", "Alice")
	e.bob = e.account("bob@example.com", "Bob")
	e.carol = e.account("carol@example.com", "Carol")
	return e
}

func (e *env) account(email, name string) *models.Account {
	e.t.Helper()
	a, err := e.s.Deps.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, DisplayName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) ticket(a *models.Account, aud auth.Audience) auth.Ticket {
	return e.s.Deps.Tickets.Issue(a.ID, a.TokenVersion, aud)
}

// lockKey is what a client computes for the challenge of ticket tk.
func (e *env) lockKey(tk auth.Ticket, appid string) string {
	return msnp.QRYHash(e.s.Deps.Tickets.LockKeyChallenge(tk.T), appid, msnp.ProductKeys[appid])
}

// post sends one SOAP request and returns the status and body.
func (e *env) post(path, action, body string, hdr ...string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.ContentLength != int64(len(b)) {
		e.t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
	}
	return resp.StatusCode, string(b)
}

func (e *env) count(model any, where string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Deps.Store.DB.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) oims(recipient *models.Account) int64 {
	return e.count(&models.OfflineMessage{}, "recipient_id = ?", recipient.ID)
}

func (e *env) outbox(recipient *models.Account) []models.OutboxEvent {
	e.t.Helper()
	var rows []models.OutboxEvent
	if err := e.s.Deps.Store.DB.Where("recipient_id = ?", recipient.ID).Order("id").Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	return rows
}

func readShared(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.SharedDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	rePassport = regexp.MustCompile(`passport=(['"])[^'"]*(['"])`)
	reLockKey  = regexp.MustCompile(`lockkey=(['"])[^'"]*(['"])`)
	reAppID    = regexp.MustCompile(`appid=['"]([^'"]*)['"]`)
	reT        = regexp.MustCompile(`<t>[^<]*</t>`)
	reP        = regexp.MustCompile(`<p>[^<]*</p>`)
	reMsgID    = regexp.MustCompile(`<messageId>[^<]*</messageId>`)
)

// withTicket puts a real ticket (and lock key) into a recorded Store request.
func withTicket(body string, tk auth.Ticket, lockkey string) string {
	body = rePassport.ReplaceAllString(body, `passport=${1}t=`+tk.T+`&amp;p=`+tk.P+`${2}`)
	return reLockKey.ReplaceAllString(body, `lockkey=${1}`+lockkey+`${2}`)
}

func appID(t testing.TB, body string) string {
	m := reAppID.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no appid in request")
	}
	return m[1]
}

// withCookie puts a real ticket into a recorded RSI request.
func withCookie(body string, tk auth.Ticket) string {
	body = reT.ReplaceAllString(body, "<t>"+tk.T+"</t>")
	return reP.ReplaceAllString(body, "<p>"+tk.P+"</p>")
}

func withMessageID(body, id string) string {
	return reMsgID.ReplaceAllString(body, "<messageId>"+id+"</messageId>")
}

// capture is one recorded HTTP request.
type capture struct {
	Path   string
	Header http.Header
	Body   string
}

func readCapture(t testing.TB, rel string) capture {
	t.Helper()
	raw := readShared(t, rel)
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("%s: no header end", rel)
	}
	lines := strings.Split(head, "\r\n")
	parts := strings.Fields(lines[0])
	c := capture{Path: parts[1], Header: http.Header{}, Body: body}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		c.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return c
}

// replay sends a captured request with its own headers (Cookie, SOAPAction,
// User-Agent) and path.
func (e *env) replay(c capture, body string) (int, string) {
	e.t.Helper()
	var hdr []string
	for k := range c.Header {
		switch k {
		case "Content-Length", "Host", "Connection":
			continue
		}
		hdr = append(hdr, k, c.Header.Get(k))
	}
	return e.post(c.Path, c.Header.Get("SOAPAction"), body, hdr...)
}

// golden compares got with fixtures/oim/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "fixtures", "oim", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update)", name, err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

// rstChallenge extracts the lock-key challenge answer shown in
// RST_OIM.md §2.2 (its challenge is 17229538722924476219).
var reRSTChallenge = regexp.MustCompile(`<\?xml version="1.0" encoding="utf-8"\?><soap:Envelope[^\n]*?</LockKeyChallenge></detail></soap:Fault></soap:Body></soap:Envelope>`)

// challengeFault is the challenge answer of RST_OIM.md §2.2, byte for
// byte, with challenge in place of the document's example value.
func challengeFault(t testing.TB, challenge string) string {
	t.Helper()
	sample := reRSTChallenge.FindString(readShared(t, "clients/RST_OIM.md"))
	if !strings.Contains(sample, ">17229538722924476219<") {
		t.Fatal("challenge sample not found in RST_OIM.md")
	}
	return strings.Replace(sample, "17229538722924476219", challenge, 1)
}

// storeOK is the exact success answer for MessageNumber n.
func storeOK(n int) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Header><SequenceAcknowledgment xmlns="http://schemas.xmlsoap.org/ws/2003/03/rm"><Identifier xmlns="http://schemas.xmlsoap.org/ws/2002/07/utility">http://messenger.msn.com</Identifier><AcknowledgmentRange Upper="%d" Lower="%d"/></SequenceAcknowledgment></soap:Header><soap:Body><StoreResponse xmlns="http://messenger.msn.com/ws/2004/09/oim/"><PointsConsumed>0</PointsConsumed></StoreResponse></soap:Body></soap:Envelope>`, n, n)
}

var reFaultCode = regexp.MustCompile(`<faultcode[^>]*>([^<]*)</faultcode>`)

func faultCode(body string) string {
	m := reFaultCode.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}
