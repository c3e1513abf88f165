package ab_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// clock is the deterministic clock of every golden answer: one second per
// reading, GUIDs 00000000-0000-4000-8000-<n>.
var clock = testenv.Clock{Start: time.Date(2008, 8, 10, 15, 20, 6, 427_000_000, time.UTC), Step: time.Second, GUIDPrefix: "00000000-0000-4000-8000-"}

// abEnv is a running server plus helpers to drive it like a client.
type abEnv struct {
	*testenv.Service
	url  string
	cids atomic.Int64
}

// newEnv starts abch on cfg with the deterministic clock, so answers can
// be compared with golden files.
func newEnv(t testing.TB, cfg config.Config) *abEnv {
	t.Helper()
	s := testenv.NewService(t, cfg, clock)
	return &abEnv{Service: s, url: "/abservice/abservice.asmx"}
}

// account creates an account with a deterministic CID.
func (e *abEnv) account(email, name string) *models.Account {
	e.T.Helper()
	a := e.Account(email, name)
	e.SetIDs(a, 1000+e.cids.Add(1), 0)
	return a
}

// ticket mints a contacts.msn.com ticket for a.
func (e *abEnv) ticket(a *models.Account) string {
	return e.Ticket(a, auth.AudContacts).Text()
}

// reply is what a client sees.
type reply = testenv.Reply

// post sends a raw request body with optional cookie.
func (e *abEnv) post(body, cookie string) reply {
	e.T.Helper()
	hdr := http.Header{}
	if cookie != "" {
		hdr.Set("Cookie", "MSPAuth="+cookie)
	}
	return e.Post(e.url, body, hdr)
}

// call sends op (the Body's operation element) as a with a TicketToken.
func (e *abEnv) call(a *models.Account, op string) reply {
	e.T.Helper()
	return e.post(envelope(e.ticket(a), op), "")
}

// envelope wraps an operation element in the MSNP15 request envelope.
func envelope(ticket, op string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
		`<ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>Initial</PartnerScenario></ABApplicationHeader>` +
		`<ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` +
		strings.ReplaceAll(ticket, "&", "&amp;") + `</TicketToken></ABAuthHeader></soap:Header><soap:Body>` + op + `</soap:Body></soap:Envelope>`
}

const zero = models.ZeroGUID

// op builds <Name xmlns=AB><abId>0</abId>inner</Name>.
func op(name, inner string) string {
	return `<` + name + ` xmlns="http://www.msn.com/webservices/AddressBook"><abId>` + zero + `</abId>` + inner + `</` + name + `>`
}

// wantOK fails unless r is a 200 with the op's Response element.
func wantOK(t testing.TB, r reply, opName string) {
	t.Helper()
	if r.Status != 200 || !strings.Contains(r.Body, "<"+opName+"Response") {
		t.Fatalf("%s: want 200 %sResponse, got %d:\n%s", opName, opName, r.Status, r.Body)
	}
}

var errorcodeRE = regexp.MustCompile(`<errorcode xmlns="http://www.msn.com/webservices/AddressBook">([^<]+)</errorcode>`)

// wantFault fails unless r is an HTTP 500 SOAP fault with errorcode code.
func wantFault(t testing.TB, r reply, code models.Code) {
	t.Helper()
	m := errorcodeRE.FindStringSubmatch(r.Body)
	if r.Status != 500 || m == nil || m[1] != string(code) {
		t.Fatalf("want fault %s (HTTP 500), got %d:\n%s", code, r.Status, r.Body)
	}
	if !strings.Contains(r.Body, "<soap:Fault><faultcode>") {
		t.Fatalf("fault not in the soap:Fault shape:\n%s", r.Body)
	}
}

// resultGUID extracts the <guid> the way emesene does (split on '<guid>').
func resultGUID(t testing.TB, r reply) string {
	t.Helper()
	parts := strings.Split(r.Body, "<guid>")
	if len(parts) < 2 {
		t.Fatalf("no <guid> in:\n%s", r.Body)
	}
	return strings.Split(parts[1], "</guid>")[0]
}

// golden compares got with fixtures/ab/name (rewritten with -update).
func golden(t testing.TB, name, got string) {
	t.Helper()
	testenv.Golden(t, "ab", name, got)
}

// revision returns an account's current revision.
func (e *abEnv) revision(a *models.Account) int64 {
	e.T.Helper()
	acct, err := e.Store.AccountByID(context.Background(), a.ID)
	if err != nil {
		e.T.Fatal(err)
	}
	return acct.Revision
}

// findAll runs a full ABFindAll.
func (e *abEnv) findAll(a *models.Account) reply {
	return e.call(a, op("ABFindAll", `<abView>Full</abView><deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`))
}

// delta runs a delta ABFindAll after cursor.
func (e *abEnv) delta(a *models.Account, cursor string) reply {
	return e.call(a, op("ABFindAll", `<abView>Full</abView><deltasOnly>true</deltasOnly><lastChange>`+cursor+`</lastChange>`))
}

var lastChangeRE = regexp.MustCompile(`<ab><abId>[^<]*</abId><abInfo>.*?</abInfo><lastChange>([^<]+)</lastChange>`)

// abLastChange extracts ab/lastChange (the client's next cursor).
func abLastChange(t testing.TB, r reply) string {
	t.Helper()
	m := lastChangeRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no ab/lastChange in:\n%s", r.Body)
	}
	return m[1]
}
