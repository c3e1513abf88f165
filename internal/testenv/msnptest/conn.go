package msnptest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
)

// Conn is a test client on an MSNP socket (NS or switchboard).
type Conn struct {
	T    testing.TB // where failures go; a subtest may swap in its own
	C    net.Conn
	R    *bufio.Reader
	Trid int // the last transaction id sent
	// Log holds the lines read (and skipped) while waiting for another one.
	Log []string
}

// Dial connects to addr; the connection closes when t's test ends.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Conn{T: t, C: c, R: bufio.NewReader(c)}
}

// Next returns a new transaction id.
func (m *Conn) Next() string {
	m.Trid++
	return strconv.Itoa(m.Trid)
}

// Raw writes bytes as they are.
func (m *Conn) Raw(s string) {
	m.T.Helper()
	_ = m.C.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(m.C, s); err != nil {
		m.T.Fatalf("write %q: %v", s, err)
	}
}

// Send writes a command line.
func (m *Conn) Send(line string) { m.T.Helper(); m.Raw(line + "\r\n") }

// SendPayload writes "head len\r\npayload".
func (m *Conn) SendPayload(head, payload string) {
	m.T.Helper()
	m.Raw(head + " " + strconv.Itoa(len(payload)) + "\r\n" + payload)
}

// serverPayload lists the server commands with a payload.
var serverPayload = map[string]bool{"MSG": true, "GCF": true, "UBX": true, "ADL": true, "RML": true, "NOT": true, "FQY": true}

// Read returns the next server command: its line and payload.
func (m *Conn) Read(within time.Duration) (string, string, error) {
	_ = m.C.SetReadDeadline(time.Now().Add(within))
	line, err := m.R.ReadString('\n')
	if err != nil {
		return "", "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	f := strings.Fields(line)
	if len(f) >= 2 && serverPayload[f[0]] {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil {
			buf := make([]byte, n)
			if _, err := io.ReadFull(m.R, buf); err != nil {
				return line, "", err
			}
			return line, string(buf), nil
		}
	}
	return line, "", nil
}

// Expect reads the next command, requires it to be want exactly and
// returns its payload.
func (m *Conn) Expect(want string) string {
	m.T.Helper()
	line, payload, err := m.Read(5 * time.Second)
	if err != nil {
		m.T.Fatalf("waiting for %q: %v (seen %q)", want, err, m.Log)
	}
	if line != want {
		m.T.Fatalf("got %q, want %q", line, want)
	}
	return payload
}

// WaitFor reads until a command starting with prefix arrives and returns
// its line and payload; others are logged.
func (m *Conn) WaitFor(prefix string, within time.Duration) (string, string) {
	m.T.Helper()
	end := time.Now().Add(within)
	for {
		left := time.Until(end)
		if left <= 0 {
			m.T.Fatalf("no %q within %v (seen %q)", prefix, within, m.Log)
		}
		line, payload, err := m.Read(left)
		if err != nil {
			m.T.Fatalf("waiting for %q: %v (seen %q)", prefix, err, m.Log)
		}
		if strings.HasPrefix(line, prefix) {
			return line, payload
		}
		m.Log = append(m.Log, line)
	}
}

// SeenOrWait returns a line starting with prefix that was already read
// (and skipped) or waits for one.
func (m *Conn) SeenOrWait(prefix string, within time.Duration) string {
	m.T.Helper()
	for i, l := range m.Log {
		if strings.HasPrefix(l, prefix) {
			m.Log = append(m.Log[:i:i], m.Log[i+1:]...)
			return l
		}
	}
	line, _ := m.WaitFor(prefix, within)
	return line
}

// WaitForPayload waits for a command starting with prefix whose payload
// contains want and returns the payload.
func (m *Conn) WaitForPayload(prefix, want string, within time.Duration) string {
	m.T.Helper()
	end := time.Now().Add(within)
	for {
		line, payload := m.WaitFor(prefix, time.Until(end))
		if strings.Contains(payload, want) {
			return payload
		}
		m.Log = append(m.Log, line+" "+payload)
	}
}

// Quiet requires that no command starting with prefix arrives within d.
func (m *Conn) Quiet(prefix string, d time.Duration) {
	m.T.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		line, _, err := m.Read(time.Until(end))
		if err != nil {
			return
		}
		if strings.HasPrefix(line, prefix) {
			m.T.Fatalf("unexpected %q", line)
		}
		m.Log = append(m.Log, line)
	}
}

// Closed requires the server to close the connection within d (after any
// lines still queued).
func (m *Conn) Closed(d time.Duration) {
	m.T.Helper()
	end := time.Now().Add(d)
	for {
		_, _, err := m.Read(time.Until(end))
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			m.T.Fatalf("connection still open after %v", d)
		}
		return
	}
}

// Login13 signs a in with MSNP13 TWN the way pidgin 2.4.3 does (capture
// pidgin-2.4.3-msnp13-login), up to the answer to USR … S, and returns
// the profile MSG.
func (m *Conn) Login13(e *Env, a *models.Account) string {
	m.T.Helper()
	m.Send("VER 1 MSNP14 MSNP13 CVR0")
	m.Expect("VER 1 MSNP13")
	m.Send("CVR 2 0x0804 winnt 5.1 i386 MSNMSGR 8.0.0792 msmsgs " + a.Email)
	m.WaitFor("CVR 2 ", 5*time.Second)
	m.Send("USR 3 TWN I " + a.Email)
	m.WaitFor("USR 3 TWN S ", 5*time.Second)
	m.WaitFor("GCF 0 ", 5*time.Second)
	m.Send("USR 4 TWN S " + e.Ticket(a, auth.AudMessenger).Text())
	m.Expect("USR 4 OK " + a.Email + " 1 0")
	m.Expect("SBS 0 null")
	_, profile := m.WaitFor("MSG Hotmail Hotmail ", 5*time.Second)
	m.Trid = 4
	return profile
}

// Login15 signs a in with MSNP15 SSO as pidgin 2.10.1 does (the answer
// computed from the messengerclear proof key), up to the profile MSG.
func (m *Conn) Login15(e *Env, a *models.Account) {
	m.T.Helper()
	m.Send("VER 1 MSNP16 MSNP15 CVR0")
	m.Expect("VER 1 MSNP15")
	m.Send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 8.5.1302 BC01 " + a.Email)
	m.WaitFor("CVR 2 ", 5*time.Second)
	m.Send("USR 3 SSO I " + a.Email)
	line, _ := m.WaitFor("USR 3 SSO S MBI_KEY_OLD ", 5*time.Second)
	tk := e.Ticket(a, auth.AudMessengerClear)
	answer, err := auth.SSOResponse(tk.ProofKey, strings.Fields(line)[5], []byte("12345678"))
	if err != nil {
		m.T.Fatal(err)
	}
	m.Send("USR 4 SSO S " + tk.Text() + " " + answer)
	m.Expect("USR 4 OK " + a.Email + " 1 0")
	m.WaitFor("MSG Hotmail Hotmail ", 5*time.Second)
	m.Trid = 4
}

// Online finishes sign-in (BLP, initial ADL of fl, CHG status) and
// returns the CHG trid.
func (m *Conn) Online(status string, fl ...*models.Account) string {
	m.T.Helper()
	blp := m.Next()
	m.Send("BLP " + blp + " AL")
	m.WaitFor("BLP "+blp+" AL", 5*time.Second)
	var b bytes.Buffer
	b.WriteString(`<ml l="1">`)
	for _, c := range fl {
		local, domain, _ := strings.Cut(c.Email, "@")
		fmt.Fprintf(&b, `<d n="%s"><c n="%s" l="3" t="1" /></d>`, domain, local)
	}
	b.WriteString(`</ml>`)
	adl := m.Next()
	m.SendPayload("ADL "+adl, b.String())
	m.WaitFor("ADL "+adl+" OK", 5*time.Second)
	chg := m.Next()
	m.Send("CHG " + chg + " " + status + " 1073741856")
	m.WaitFor("CHG "+chg+" "+status, 5*time.Second)
	return chg
}
