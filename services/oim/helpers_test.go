package oim_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns/msnp"
)

// clock is the deterministic clock of golden-file tests (it stands still).
var clock = testenv.Clock{Start: time.Date(2008, 8, 10, 15, 20, 6, 423_000_000, time.UTC), GUIDPrefix: "a3d2b9c8-6f1e-4d7a-8b0c-"}

// env is one running server with Alice, Bob and Carol.
type env struct {
	*testenv.Service
	alice, bob, carol *models.Account
}

func newEnv(t *testing.T, cfg config.Config) *env {
	t.Helper()
	e := &env{Service: testenv.NewService(t, cfg, clock)}
	e.alice = e.Account("alice@example.com", "Alice")
	e.bob = e.Account("bob@example.com", "Bob")
	e.carol = e.Account("carol@example.com", "Carol")
	return e
}

// lockKey is what a client computes for the challenge of ticket tk.
func (e *env) lockKey(tk auth.Ticket, appid string) string {
	return msnp.QRYHash(e.Deps.Tickets.LockKeyChallenge(tk.T), appid, msnp.ProductKeys[appid])
}

// post sends one SOAP request and returns the status and body.
func (e *env) post(path, action, body string, hdr ...string) (int, string) {
	e.T.Helper()
	h := http.Header{}
	if action != "" {
		h.Set("SOAPAction", action)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	r := e.Post(path, body, h)
	return r.Status, r.Body
}

func (e *env) oims(recipient *models.Account) int64 {
	return e.Count("offline_messages", "recipient_id = ?", recipient.ID)
}

func (e *env) outbox(recipient *models.Account) []models.OutboxEvent {
	e.T.Helper()
	var rows []models.OutboxEvent
	if err := e.Store.DB.Where("recipient_id = ?", recipient.ID).Order("id").Find(&rows).Error; err != nil {
		e.T.Fatal(err)
	}
	return rows
}

func readClientFile(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), rel))
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
	raw := readClientFile(t, rel)
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
	e.T.Helper()
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
	testenv.Golden(t, "oim", name, got)
}

// challengeFault is the lock-key challenge answer of RST_OIM.md §2.2 (the
// shared reference; fixtures/clients/oim-lockkey-challenge-fault.xml holds
// it), byte for byte, with challenge in place of the document's example
// value 17229538722924476219.
func challengeFault(t testing.TB, challenge string) string {
	t.Helper()
	sample := readClientFile(t, "oim-lockkey-challenge-fault.xml")
	if !strings.Contains(sample, ">17229538722924476219<") || !strings.HasSuffix(sample, "</soap:Envelope>") {
		t.Fatal("the challenge sample lost its example value")
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
