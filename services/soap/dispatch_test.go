package soap_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// testService is an AB-dialect service whose operations exercise the
// dispatcher: one answers, one fails with a code, one panics.
func testService() *soap.Service {
	return &soap.Service{
		Name:  "abservice",
		Paths: []string{"/abservice/abservice.asmx"},
		Ops: map[string]soap.Handler{
			"ABFindAll": func(r *soap.Request) (*soap.Response, error) {
				w := soap.BeginAB(256, 7)
				return soap.OK(soap.EmptyResponse(w, "ABFindAllResponse", soap.NSAB)), nil
			},
			"ABContactAdd": func(r *soap.Request) (*soap.Response, error) {
				return nil, &models.Error{Code: models.CodeContactAlreadyExists, ConflictID: "5e6a8a3e-2b7d-4c7a-9c8e-1f2a3b4c5d6e"}
			},
			"ABGroupAdd": func(r *soap.Request) (*soap.Response, error) {
				panic("handler bug: nil map write")
			},
		},
		Fault: soap.ABFaults("AB1"),
		WSDL:  []byte("<definitions/>"),
	}
}

// serve starts the dispatcher on loopback with a 4 KiB body limit.
func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(soap.NewDispatcher(4096, nil, nil, testService()))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func envelopeWith(op string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		op + `</soap:Body></soap:Envelope>`
}

// answer is what a client reads off the socket.
type answer struct {
	statusLine string
	header     http.Header
	body       string
}

// raw sends one HTTP/1.1 request over TCP exactly as given (no client-side
// path cleaning) and reads the answer as pidgin does (testenv.Exchange).
func raw(t *testing.T, addr, method, path, body string) answer {
	t.Helper()
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: contacts.msn.com\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, path, len(body), body)
	status, r := testenv.Exchange(t, addr, req)
	return answer{statusLine: status, header: r.Header, body: r.Body}
}

var errorcodeRE = regexp.MustCompile(`<detail><errorcode xmlns="http://www.msn.com/webservices/AddressBook">([^<]+)</errorcode>`)

// wantFault checks the AB fault shape every client reads (RESPONSES.md §2).
func wantFault(t *testing.T, a answer, code models.Code, faultcode string) {
	t.Helper()
	if a.statusLine != "HTTP/1.1 500 Internal Server Error" {
		t.Errorf("status line %q", a.statusLine)
	}
	m := errorcodeRE.FindStringSubmatch(a.body)
	if m == nil || m[1] != string(code) {
		t.Fatalf("want errorcode %s in:\n%s", code, a.body)
	}
	if !strings.Contains(a.body, "<soap:Body><soap:Fault><faultcode>"+faultcode+"</faultcode><faultstring>") {
		t.Errorf("want unprefixed faultcode %s in:\n%s", faultcode, a.body)
	}
}

func TestDispatchByPathAndOperation(t *testing.T) {
	addr := serve(t)
	t.Run("a doubled slash and other case reach the service without a redirect", func(t *testing.T) {
		a := raw(t, addr, "POST", "//AbService/abservice.asmx", envelopeWith(`<ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"/>`))
		if a.statusLine != "HTTP/1.1 200 OK" {
			t.Fatalf("status line %q:\n%s", a.statusLine, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
		if !strings.Contains(a.body, `<soap:Body><ABFindAllResponse xmlns="http://www.msn.com/webservices/AddressBook"/></soap:Body>`) {
			t.Errorf("body:\n%s", a.body)
		}
	})
	t.Run("the operation element is matched case-insensitively", func(t *testing.T) {
		a := raw(t, addr, "POST", "/abservice/abservice.asmx", envelopeWith(`<abfindall/>`))
		if a.statusLine != "HTTP/1.1 200 OK" {
			t.Fatalf("status line %q:\n%s", a.statusLine, a.body)
		}
	})
	t.Run("an unknown path is a plain 404", func(t *testing.T) {
		a := raw(t, addr, "POST", "/abservice/nothing.asmx", envelopeWith(`<ABFindAll/>`))
		if !strings.HasPrefix(a.statusLine, "HTTP/1.1 404") {
			t.Errorf("status line %q", a.statusLine)
		}
	})
	t.Run("GET ?wsdl in any case serves the WSDL", func(t *testing.T) {
		a := raw(t, addr, "GET", "/abservice/abservice.asmx?WSDL", "")
		if a.statusLine != "HTTP/1.1 200 OK" || a.body != "<definitions/>" {
			t.Errorf("%q %q", a.statusLine, a.body)
		}
	})
	for _, m := range []string{"GET", "PUT"} {
		t.Run(m+" without ?wsdl is 405 naming POST", func(t *testing.T) {
			a := raw(t, addr, m, "/abservice/abservice.asmx", "")
			if !strings.HasPrefix(a.statusLine, "HTTP/1.1 405") || a.header.Get("Allow") != "POST" {
				t.Errorf("%q Allow=%q", a.statusLine, a.header.Get("Allow"))
			}
		})
	}
}

func TestDispatchFaults(t *testing.T) {
	addr := serve(t)
	post := func(body string) answer {
		return raw(t, addr, "POST", "/abservice/abservice.asmx", body)
	}
	t.Run("an unknown operation is Forbidden, as the historical service said", func(t *testing.T) {
		a := post(envelopeWith(`<ABNoSuchThing/>`))
		wantFault(t, a, models.CodeForbidden, "soap:Client")
		if !strings.Contains(a.body, "<faultstring>API ABNoSuchThing no longer supported</faultstring>") {
			t.Errorf("faultstring:\n%s", a.body)
		}
	})
	t.Run("a handler's error code becomes its fault with the conflict id", func(t *testing.T) {
		a := post(envelopeWith(`<ABContactAdd/>`))
		wantFault(t, a, models.CodeContactAlreadyExists, "soap:Client")
		for _, part := range []string{
			"<faultstring>Contact Already Exists</faultstring>",
			"<faultactor>http://www.msn.com/webservices/AddressBook/ABContactAdd</faultactor>",
			`<machineName xmlns="http://www.msn.com/webservices/AddressBook">AB1</machineName>`,
			"<additionalDetails><conflictObjectId>5e6a8a3e-2b7d-4c7a-9c8e-1f2a3b4c5d6e</conflictObjectId></additionalDetails>",
		} {
			if !strings.Contains(a.body, part) {
				t.Errorf("missing %s in:\n%s", part, a.body)
			}
		}
	})
	t.Run("a panicking handler is an InternalError fault and the server lives on", func(t *testing.T) {
		a := post(envelopeWith(`<ABGroupAdd/>`))
		wantFault(t, a, models.CodeInternalError, "soap:Server")
		if strings.Contains(a.body, "goroutine") || strings.Contains(a.body, "handler bug") {
			t.Errorf("fault shows the panic:\n%s", a.body)
		}
		if b := post(envelopeWith(`<ABFindAll/>`)); b.statusLine != "HTTP/1.1 200 OK" {
			t.Errorf("after the panic: %q", b.statusLine)
		}
	})
	for name, c := range map[string]struct {
		body string
		code models.Code
	}{
		"an empty body":              {"", models.CodeBadRequest},
		"a body that is not XML":     {"hello", models.CodeBadRequest},
		"a DTD":                      {`<!DOCTYPE x><x/>`, models.CodeBadRequest},
		"a root that is no Envelope": {`<Body><ABFindAll/></Body>`, models.CodeBadRequest},
		"an Envelope without Body":   {`<soap:Envelope xmlns:soap="x"><soap:Header/></soap:Envelope>`, models.CodeBadRequest},
		"an empty Body":              {envelopeWith(""), models.CodeBadRequest},
		"a body over the limit":      {envelopeWith("<ABFindAll>" + strings.Repeat("x", 5000) + "</ABFindAll>"), models.CodeRequestTooLarge},
	} {
		t.Run(name+" is "+string(c.code), func(t *testing.T) {
			wantFault(t, post(c.body), c.code, "soap:Client")
		})
	}
}
