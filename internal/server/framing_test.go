package server_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestFramingSmuggling sends, over raw TCP, a request carrying both
// Content-Length and Transfer-Encoding whose Content-Length covers a second,
// complete request (RFC 9112 §6.3, request smuggling). Every listener must
// answer 400 with "Connection: close", close the connection, and never run
// the second request.
func TestFramingSmuggling(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		dir := t.TempDir()
		if _, err := cli.WriteCerts(dir, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		cfg.HTTPSAddr = "127.0.0.1:0"
		cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
		s := testenv.StartServer(t, cfg)
		alice := testenv.NewAccount(t, s, "alice@example.com", "pw", "Alice")
		ticket := s.Deps.Tickets.Issue(alice.ID, alice.TokenVersion, auth.AudContacts).Text()

		groups := func() int64 {
			var n int64
			if err := s.Store.DB.Raw("SELECT count(*) FROM ab_groups").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		displayName := func() string {
			a, err := s.Store.AccountByEmail(t.Context(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			return a.DisplayName
		}
		groupAdd := func(name string) string {
			body := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
				`<ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>GroupSave</PartnerScenario></ABApplicationHeader>` +
				`<ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` +
				strings.ReplaceAll(ticket, "&", "&amp;") + `</TicketToken></ABAuthHeader></soap:Header><soap:Body>` +
				`<ABGroupAdd xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>` +
				name + `</name></GroupInfo></groupInfo></ABGroupAdd></soap:Body></soap:Envelope>`
			return "POST /abservice/abservice.asmx HTTP/1.1\r\nHost: contacts.msn.com\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
		}
		profilePut := func(name string) string {
			body := `{"display_name":"` + name + `"}`
			return "PUT /ns/v1/users/alice@example.com/profile HTTP/1.1\r\nHost: ns\r\nAuthorization: Bearer " + cfg.NSKey +
				"\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(body)) + "\r\n\r\n" + body
		}
		// smuggle frames an empty chunked body plus hidden under a
		// Content-Length that also covers hidden.
		smuggle := func(method, path, extra, hidden string) string {
			chunked := "0\r\n\r\n"
			return method + " " + path + " HTTP/1.1\r\nHost: contacts.msn.com\r\n" + extra + "Content-Length: " + itoa(len(chunked)+len(hidden)) +
				"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + hidden
		}
		plainDial := func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", s.HTTPAddr)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		tlsDial := func(t *testing.T) net.Conn {
			c, err := tls.Dial("tcp", s.HTTPSAddr, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		nsDial := func(t *testing.T) net.Conn {
			c, err := net.Dial("tcp", s.NSAddr)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}

		t.Run("honest keep-alive: a chunked request and a pipelined one both run", func(t *testing.T) {
			before := groups()
			c := plainDial(t)
			defer c.Close()
			chunked := "POST /abservice/abservice.asmx HTTP/1.1\r\nHost: contacts.msn.com\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
			send(t, c, chunked+groupAdd("Honest"))
			br := bufio.NewReader(c)
			first := readResponse(t, br)
			if first.StatusCode != 500 || first.Close {
				t.Fatalf("empty chunked body: status %d, close %v", first.StatusCode, first.Close)
			}
			second := readResponse(t, br)
			if second.StatusCode != 200 {
				t.Fatalf("pipelined ABGroupAdd: status %d", second.StatusCode)
			}
			if got := groups(); got != before+1 {
				t.Fatalf("groups %d, want %d", got, before+1)
			}
		})

		for _, l := range []struct {
			name string
			dial func(*testing.T) net.Conn
		}{{"SOAP over HTTP", plainDial}, {"SOAP over HTTPS", tlsDial}} {
			t.Run(l.name+": Content-Length with Transfer-Encoding is 400, closed, the hidden request never runs", func(t *testing.T) {
				before := groups()
				c := l.dial(t)
				defer c.Close()
				send(t, c, smuggle("POST", "/abservice/abservice.asmx", "Content-Type: text/xml\r\n", groupAdd("Smuggled "+l.name)))
				wantRejectedAndClosed(t, c)
				time.Sleep(100 * time.Millisecond)
				if got := groups(); got != before {
					t.Fatalf("the smuggled ABGroupAdd ran: groups %d, want %d", got, before)
				}
			})
		}

		t.Run("SOAP over HTTP: the ambiguous request after an honest one on the same connection", func(t *testing.T) {
			before := groups()
			c := plainDial(t)
			defer c.Close()
			send(t, c, groupAdd("First"))
			br := bufio.NewReader(c)
			if r := readResponse(t, br); r.StatusCode != 200 {
				t.Fatalf("honest request: %d", r.StatusCode)
			}
			send(t, c, smuggle("POST", "/abservice/abservice.asmx", "", groupAdd("Second")))
			wantRejectedAndClosedFrom(t, c, br)
			time.Sleep(100 * time.Millisecond)
			if got := groups(); got != before+1 {
				t.Fatalf("groups %d, want %d (only the honest one)", got, before+1)
			}
		})

		t.Run("OPTIONS * is guarded too", func(t *testing.T) {
			before := groups()
			c := plainDial(t)
			defer c.Close()
			send(t, c, smuggle("OPTIONS", "*", "", groupAdd("ViaOptions")))
			wantRejectedAndClosed(t, c)
			time.Sleep(100 * time.Millisecond)
			if got := groups(); got != before {
				t.Fatalf("the smuggled ABGroupAdd ran: groups %d, want %d", got, before)
			}
		})

		t.Run("NS API: Content-Length with Transfer-Encoding is a JSON 400, closed, the hidden PUT never runs", func(t *testing.T) {
			c := nsDial(t)
			defer c.Close()
			send(t, c, smuggle("PUT", "/ns/v1/users/alice@example.com/profile", "Authorization: Bearer "+cfg.NSKey+"\r\n", profilePut("Smuggled")))
			resp := wantRejectedAndClosed(t, c)
			if !strings.Contains(resp, `"error":"bad_request"`) {
				t.Errorf("NS API 400 is not its JSON error shape: %s", resp)
			}
			time.Sleep(100 * time.Millisecond)
			if got := displayName(); got != "Alice" {
				t.Fatalf("the smuggled PUT ran: display name %q", got)
			}
		})
	})
}

func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatal(err)
	}
}

func readResponse(t *testing.T, br *bufio.Reader) *http.Response {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func wantRejectedAndClosed(t *testing.T, c net.Conn) string {
	t.Helper()
	return wantRejectedAndClosedFrom(t, c, bufio.NewReader(c))
}

// wantRejectedAndClosedFrom reads one response (400, Connection: close) and
// then expects the server to close: no second response, EOF.
func wantRejectedAndClosedFrom(t *testing.T, c net.Conn, br *bufio.Reader) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if !resp.Close { // ReadResponse consumes the header: Close is "Connection: close" on HTTP/1.1
		t.Errorf("no Connection: close on the 400")
	}
	rest, err := io.ReadAll(br)
	if err != nil && !isReset(err) {
		t.Errorf("after the 400: %v (want the connection closed)", err)
	}
	if len(rest) > 0 {
		t.Errorf("a second response followed the 400: %.200q", rest)
	}
	return string(body)
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
