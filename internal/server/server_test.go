package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

func TestServerBasics(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		base := "http://" + s.HTTPAddr

		t.Run("healthz and readyz answer 200", func(t *testing.T) {
			for _, p := range []string{"/healthz", "/readyz"} {
				resp, err := http.Get(base + p)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s: status %d", p, resp.StatusCode)
				}
			}
		})

		t.Run("unknown operation on a double-slash path is a SOAP fault, not a redirect", func(t *testing.T) {
			body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><NoSuchThing xmlns="http://www.msn.com/webservices/AddressBook"/></soap:Body></soap:Envelope>`
			raw := rawPost(t, s.HTTPAddr, "HTTP/1.1", "//abservice/abservice.asmx", body)
			if !strings.HasPrefix(raw, "HTTP/1.1 500 ") {
				t.Fatalf("status line: %q", firstLine(raw))
			}
			for _, want := range []string{"Content-Length: ", "<soap:Fault>", "<faultcode>soap:Client</faultcode>", `<errorcode xmlns="http://www.msn.com/webservices/AddressBook">Forbidden</errorcode>`} {
				if !strings.Contains(raw, want) {
					t.Errorf("response lacks %q:\n%s", want, raw)
				}
			}
			if strings.Contains(strings.ToLower(raw), "transfer-encoding") {
				t.Errorf("response is chunked")
			}
		})

		t.Run("HTTP/1.0 request gets an HTTP/1.1 status line and Content-Length", func(t *testing.T) {
			raw := rawPost(t, s.HTTPAddr, "HTTP/1.0", "/abservice/SharingService.asmx", "<not-xml")
			if !strings.HasPrefix(raw, "HTTP/1.1 500 ") || !strings.Contains(raw, "Content-Length: ") {
				t.Fatalf("got:\n%s", raw)
			}
			if !strings.Contains(raw, ">BadRequest</errorcode>") {
				t.Errorf("malformed XML should fault with BadRequest:\n%s", raw)
			}
		})

		t.Run("entity declarations are refused without expansion", func(t *testing.T) {
			body := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ABFindAll>&lol2;</ABFindAll></soap:Body></soap:Envelope>`
			raw := rawPost(t, s.HTTPAddr, "HTTP/1.1", "/abservice/abservice.asmx", body)
			if !strings.HasPrefix(raw, "HTTP/1.1 500 ") || !strings.Contains(raw, "DTDs and entity declarations are not accepted") {
				t.Fatalf("got:\n%s", raw)
			}
		})

		t.Run("oversized body is refused with a fault", func(t *testing.T) {
			big := "<soap:Envelope>" + strings.Repeat("a", int(cfg.MaxBodyBytes)+10) + "</soap:Envelope>"
			raw := rawPost(t, s.HTTPAddr, "HTTP/1.1", "/abservice/abservice.asmx", big)
			if !strings.HasPrefix(raw, "HTTP/1.1 500 ") || !strings.Contains(raw, ">RequestTooLarge</errorcode>") {
				t.Fatalf("got:\n%.400s", raw)
			}
		})

		t.Run("GET without ?wsdl is 405, unknown path is 404", func(t *testing.T) {
			resp, err := http.Get(base + "/abservice/abservice.asmx")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 405 {
				t.Errorf("GET status %d", resp.StatusCode)
			}
			resp, err = http.Post(base+"/nothing/here", "text/xml", strings.NewReader("<x/>"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 {
				t.Errorf("unknown path status %d", resp.StatusCode)
			}
		})
	})
}

// rawPost sends a request byte for byte and returns the raw response.
func rawPost(t *testing.T, addr, proto, path, body string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "POST " + path + " " + proto + "\r\nHost: contacts.msn.com\r\nContent-Type:text/xml; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
		itoa(len(body)) + "\r\n\r\n" + body
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func firstLine(s string) string {
	if i := strings.Index(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}
