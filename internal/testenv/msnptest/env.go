// Package msnptest drives abch's Notification Server and switchboard over
// loopback the way a client does, for the services/ns and services/sb
// tests: a running abch with account and SOAP helpers (Env), and an MSNP
// connection that sends commands, reads lines with their payloads, waits
// for a command and signs in as pidgin does (Conn).
package msnptest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// Env is a running abch (with its in-process NS and switchboard) plus
// account helpers.
type Env struct {
	T testing.TB
	S *server.Server
}

// Start runs abch with cfg for the test.
func Start(t testing.TB, cfg config.Config) *Env {
	t.Helper()
	return &Env{T: t, S: testenv.StartServer(t, cfg)}
}

// Account creates an account with display name name.
func (e *Env) Account(email, name string) *models.Account {
	e.T.Helper()
	a, err := e.S.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, PasswordHash: "x", DisplayName: name})
	if err != nil {
		e.T.Fatalf("create %s: %v", email, err)
	}
	return a
}

// Ticket mints a ticket of audience aud for a.
func (e *Env) Ticket(a *models.Account, aud auth.Audience) auth.Ticket {
	return e.S.Deps.Tickets.Issue(a.ID, a.TokenVersion, aud)
}

const soapHeader = `<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>996CDE1E-AA53-4477-B943-2BE802EA6166</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>%s</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>%s</TicketToken></ABAuthHeader></soap:Header>`

// SOAP calls an Address Book (path "abservice.asmx") or Sharing
// ("SharingService.asmx") operation as a and requires a 200.
func (e *Env) SOAP(a *models.Account, path, op, inner string) string {
	e.T.Helper()
	tk := strings.ReplaceAll(e.Ticket(a, auth.AudContacts).Text(), "&", "&amp;")
	body := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
		fmt.Sprintf(soapHeader, "ContactSave", tk) +
		`<soap:Body><` + op + ` xmlns="http://www.msn.com/webservices/AddressBook">` + inner + `</` + op + `></soap:Body></soap:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.S.HTTPAddr+"/abservice/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "http://www.msn.com/webservices/AddressBook/"+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.T.Fatalf("%s %s: %d\n%s", a.Email, op, resp.StatusCode, out)
	}
	return string(out)
}

// AddContact is owner's ABContactAdd of target (a messenger contact).
func (e *Env) AddContact(owner, target *models.Account) {
	e.T.Helper()
	e.SOAP(owner, "abservice.asmx", "ABContactAdd", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><passportName>`+target.Email+`</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`)
}

// Member is owner's AddMember/DeleteMember (op) of email in role.
func (e *Env) Member(owner *models.Account, op, role, email string) {
	e.T.Helper()
	e.SOAP(owner, "SharingService.asmx", op, `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>`+role+`</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>`+email+`</PassportName></Member></Members></Membership></memberships>`)
}

// Friends makes a and b mutual FL contacts that allow each other.
func (e *Env) Friends(a, b *models.Account) {
	e.T.Helper()
	e.AddContact(a, b)
	e.AddContact(b, a)
}

// Dial connects to addr for t (failures go to t, which may be a subtest);
// the connection closes when e's test ends, so it may outlive the subtest.
func (e *Env) Dial(t testing.TB, addr string) *Conn {
	m := Dial(e.T, addr)
	m.T = t
	return m
}

// SignIn signs a in to the NS at addr as pidgin 2.4.3 does (Login13) and
// goes online (NLN) with its FL contacts fl.
func (e *Env) SignIn(addr string, a *models.Account, fl ...*models.Account) *Conn {
	e.T.Helper()
	m := Dial(e.T, addr)
	m.Login13(e, a)
	m.Online("NLN", fl...)
	return m
}
