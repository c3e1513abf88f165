package ns_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// env is a running abch (with its in-process NS) plus account helpers.
type env struct {
	t testing.TB
	s *server.Server
}

// account creates an account with display name name.
func (e *env) account(email, name string) *models.Account {
	e.t.Helper()
	a, err := e.s.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, PasswordHash: "x", DisplayName: name})
	if err != nil {
		e.t.Fatalf("create %s: %v", email, err)
	}
	return a
}

// ticket mints a ticket of audience aud for a.
func (e *env) ticket(a *models.Account, aud auth.Audience) auth.Ticket {
	return e.s.Deps.Tickets.Issue(a.ID, a.TokenVersion, aud)
}

const soapHeader = `<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>996CDE1E-AA53-4477-B943-2BE802EA6166</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>%s</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>%s</TicketToken></ABAuthHeader></soap:Header>`

// soap calls an Address Book (path "abservice.asmx") or Sharing
// ("SharingService.asmx") operation as a and requires a 200.
func (e *env) soap(a *models.Account, path, op, inner string) string {
	e.t.Helper()
	tk := strings.ReplaceAll(e.ticket(a, auth.AudContacts).Text(), "&", "&amp;")
	body := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
		fmt.Sprintf(soapHeader, "ContactSave", tk) +
		`<soap:Body><` + op + ` xmlns="http://www.msn.com/webservices/AddressBook">` + inner + `</` + op + `></soap:Body></soap:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.s.HTTPAddr+"/abservice/"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "http://www.msn.com/webservices/AddressBook/"+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("%s %s: %d\n%s", a.Email, op, resp.StatusCode, out)
	}
	return string(out)
}

// addContact is owner's ABContactAdd of target (a messenger contact).
func (e *env) addContact(owner, target *models.Account) {
	e.t.Helper()
	e.soap(owner, "abservice.asmx", "ABContactAdd", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><passportName>`+target.Email+`</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`)
}

// member is owner's AddMember/DeleteMember of email in role.
func (e *env) member(owner *models.Account, op, role, email string) {
	e.t.Helper()
	e.soap(owner, "SharingService.asmx", op, `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>`+role+`</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>`+email+`</PassportName></Member></Members></Membership></memberships>`)
}

// friends makes a and b mutual FL contacts that allow each other.
func (e *env) friends(a, b *models.Account) {
	e.t.Helper()
	e.addContact(a, b)
	e.addContact(b, a)
}

// msn is a test client on an MSNP socket.
type msn struct {
	t    testing.TB
	c    net.Conn
	r    *bufio.Reader
	trid int
	// Lines read while waiting for another one.
	log []string
}

func dial(t testing.TB, addr string) *msn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &msn{t: t, c: c, r: bufio.NewReader(c)}
}

// next returns a new transaction id.
func (m *msn) next() string {
	m.trid++
	return strconv.Itoa(m.trid)
}

// raw writes bytes as they are.
func (m *msn) raw(s string) {
	m.t.Helper()
	_ = m.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(m.c, s); err != nil {
		m.t.Fatalf("write %q: %v", s, err)
	}
}

// send writes a command line.
func (m *msn) send(line string) { m.t.Helper(); m.raw(line + "\r\n") }

// sendPayload writes "head len\r\npayload".
func (m *msn) sendPayload(head, payload string) {
	m.t.Helper()
	m.raw(head + " " + strconv.Itoa(len(payload)) + "\r\n" + payload)
}

// serverPayload lists the server commands with a payload.
var serverPayload = map[string]bool{"MSG": true, "GCF": true, "UBX": true, "ADL": true, "RML": true, "NOT": true, "FQY": true}

// read returns the next server command: its line and payload.
func (m *msn) read(within time.Duration) (string, string, error) {
	_ = m.c.SetReadDeadline(time.Now().Add(within))
	line, err := m.r.ReadString('\n')
	if err != nil {
		return "", "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	f := strings.Fields(line)
	if len(f) >= 2 && serverPayload[f[0]] {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil {
			buf := make([]byte, n)
			if _, err := io.ReadFull(m.r, buf); err != nil {
				return line, "", err
			}
			return line, string(buf), nil
		}
	}
	return line, "", nil
}

// expect reads the next command and requires it to be want exactly.
func (m *msn) expect(want string) string {
	m.t.Helper()
	line, payload, err := m.read(5 * time.Second)
	if err != nil {
		m.t.Fatalf("waiting for %q: %v (seen %q)", want, err, m.log)
	}
	if line != want {
		m.t.Fatalf("got %q, want %q", line, want)
	}
	return payload
}

// waitFor reads until a command starting with prefix arrives; others are
// logged.
func (m *msn) waitFor(prefix string, within time.Duration) (string, string) {
	m.t.Helper()
	end := time.Now().Add(within)
	for {
		left := time.Until(end)
		if left <= 0 {
			m.t.Fatalf("no %q within %v (seen %q)", prefix, within, m.log)
		}
		line, payload, err := m.read(left)
		if err != nil {
			m.t.Fatalf("waiting for %q: %v (seen %q)", prefix, err, m.log)
		}
		if strings.HasPrefix(line, prefix) {
			return line, payload
		}
		m.log = append(m.log, line)
	}
}

// seenOrWait returns a line starting with prefix that was already read
// (and skipped) or waits for one.
func (m *msn) seenOrWait(prefix string, within time.Duration) string {
	m.t.Helper()
	for i, l := range m.log {
		if strings.HasPrefix(l, prefix) {
			m.log = append(m.log[:i:i], m.log[i+1:]...)
			return l
		}
	}
	line, _ := m.waitFor(prefix, within)
	return line
}

// waitForPayload waits for a command starting with prefix whose payload
// contains want.
func (m *msn) waitForPayload(prefix, want string, within time.Duration) string {
	m.t.Helper()
	end := time.Now().Add(within)
	for {
		line, payload := m.waitFor(prefix, time.Until(end))
		if strings.Contains(payload, want) {
			return payload
		}
		m.log = append(m.log, line+" "+payload)
	}
}

// quiet requires that no command starting with prefix arrives within d.
func (m *msn) quiet(prefix string, d time.Duration) {
	m.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		line, _, err := m.read(time.Until(end))
		if err != nil {
			return
		}
		if strings.HasPrefix(line, prefix) {
			m.t.Fatalf("unexpected %q", line)
		}
		m.log = append(m.log, line)
	}
}

// closed requires the server to close the connection within d (after any
// lines still queued).
func (m *msn) closed(d time.Duration) {
	m.t.Helper()
	end := time.Now().Add(d)
	for {
		_, _, err := m.read(time.Until(end))
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			m.t.Fatalf("connection still open after %v", d)
		}
		return
	}
}

// login13 signs a in with MSNP13 TWN the way pidgin 2.4.3 does (capture
// pidgin-2.4.3-msnp13-login), up to the answer to USR … S, and returns
// the profile MSG.
func (m *msn) login13(e *env, a *models.Account) string {
	m.t.Helper()
	m.send("VER 1 MSNP14 MSNP13 CVR0")
	m.expect("VER 1 MSNP13")
	m.send("CVR 2 0x0804 winnt 5.1 i386 MSNMSGR 8.0.0792 msmsgs " + a.Email)
	m.waitFor("CVR 2 ", 5*time.Second)
	m.send("USR 3 TWN I " + a.Email)
	m.waitFor("USR 3 TWN S ", 5*time.Second)
	m.waitFor("GCF 0 ", 5*time.Second)
	m.send("USR 4 TWN S " + e.ticket(a, auth.AudMessenger).Text())
	m.expect("USR 4 OK " + a.Email + " 1 0")
	m.expect("SBS 0 null")
	_, profile := m.waitFor("MSG Hotmail Hotmail ", 5*time.Second)
	m.trid = 4
	return profile
}

// login15 signs a in with MSNP15 SSO as pidgin 2.10.1 does (the answer
// computed from the messengerclear proof key).
func (m *msn) login15(e *env, a *models.Account) {
	m.t.Helper()
	m.send("VER 1 MSNP16 MSNP15 CVR0")
	m.expect("VER 1 MSNP15")
	m.send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 BC01 " + a.Email)
	m.waitFor("CVR 2 ", 5*time.Second)
	m.send("USR 3 SSO I " + a.Email)
	line, _ := m.waitFor("USR 3 SSO S MBI_KEY_OLD ", 5*time.Second)
	tk := e.ticket(a, auth.AudMessengerClear)
	answer, err := auth.SSOResponse(tk.ProofKey, strings.Fields(line)[5], []byte("12345678"))
	if err != nil {
		m.t.Fatal(err)
	}
	m.send("USR 4 SSO S " + tk.Text() + " " + answer)
	m.expect("USR 4 OK " + a.Email + " 1 0")
	m.waitFor("MSG Hotmail Hotmail ", 5*time.Second)
	m.trid = 4
}

// online finishes sign-in (BLP, initial ADL of fl, CHG status) and
// returns the CHG trid.
func (m *msn) online(status string, fl ...*models.Account) string {
	m.t.Helper()
	blp := m.next()
	m.send("BLP " + blp + " AL")
	m.waitFor("BLP "+blp+" AL", 5*time.Second)
	var b bytes.Buffer
	b.WriteString(`<ml l="1">`)
	for _, c := range fl {
		local, domain, _ := strings.Cut(c.Email, "@")
		fmt.Fprintf(&b, `<d n="%s"><c n="%s" l="3" t="1" /></d>`, domain, local)
	}
	b.WriteString(`</ml>`)
	adl := m.next()
	m.sendPayload("ADL "+adl, b.String())
	m.waitFor("ADL "+adl+" OK", 5*time.Second)
	chg := m.next()
	m.send("CHG " + chg + " " + status + " 1073741856")
	m.waitFor("CHG "+chg+" "+status, 5*time.Second)
	return chg
}
