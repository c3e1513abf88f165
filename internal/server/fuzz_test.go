package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/services/soap"
)

// soapPaths are the service paths FuzzDispatch posts to; the first input
// byte picks one.
var soapPaths = []string{"/abservice/abservice.asmx", "/abservice/SharingService.asmx", "/RST.srf", "/OimWS/oim.asmx", "/rsi/rsi.asmx"}

// Ticket placeholders: seeds carry these instead of the corpus's fake
// tickets, and each run substitutes live tickets of its own server, so a
// crasher saved under testdata/fuzz stays reproducible.
var (
	ticketToken = regexp.MustCompile(`(<TicketToken[^>]*>)[^<]*(</TicketToken>)`)
	password    = regexp.MustCompile(`(<(?:wsse:)?Password>)[^<]*(</(?:wsse:)?Password>)`)
	rsiT        = regexp.MustCompile(`(<t>)[^<]*(</t>)`)
	rsiP        = regexp.MustCompile(`(<p>)[^<]*(</p>)`)
	oimPassport = regexp.MustCompile(`(passport=['"])[^'"]*(['"])`)
)

// errorCounter counts log records at Error level: a panic in a handler or
// an internal error (the dispatcher logs both) is a bug whatever the input.
type errorCounter struct {
	slog.Handler
	n *atomic.Int64
}

func (h errorCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.n.Add(1)
	}
	return nil
}
func (h errorCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h errorCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h errorCounter) WithGroup(string) slog.Handler            { return h }

// FuzzDispatch posts bodies to every SOAP service of a real server (embedded
// database) over loopback: the parser, the dispatcher and each service's
// request decoders (AB, Sharing, RST, OIM Store, RSI) behind valid
// credentials. Whatever the body: no panic and no internal error logged; the
// answer is 200 or a 500 fault, framed with Content-Length, and parses as a
// well-formed document.
func FuzzDispatch(f *testing.F) {
	for _, c := range corpus.ClientBodies(f) {
		idx := -1
		for i, p := range soapPaths {
			if soap.NormalizePath(p) == soap.NormalizePath(c.Path) {
				idx = i
			}
		}
		if idx < 0 {
			continue
		}
		b := ticketToken.ReplaceAll(c.Body, []byte("${1}@CT@${2}"))
		b = rsiT.ReplaceAll(b, []byte("${1}@MT@${2}"))
		b = rsiP.ReplaceAll(b, []byte("${1}@MP@${2}"))
		b = oimPassport.ReplaceAll(b, []byte("${1}@ST@${2}"))
		b = password.ReplaceAll(b, []byte("${1}@PW@${2}"))
		b = bytes.ReplaceAll(b, []byte("&tickettoken;"), []byte("@CT@"))
		f.Add(uint8(idx), b)
	}

	cfg := testenv.Config(f, testenv.DB{Name: store.DialectSQLite})
	var errs atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, cfg, slog.New(errorCounter{n: &errs}))
	if err != nil {
		cancel()
		f.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	alice := testenv.NewAccount(f, s, "alice@example.com", "secret-password", "Alice")
	testenv.NewAccount(f, s, "bob@example.com", "secret", "Bob")
	esc := func(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }
	tk := s.Deps.Tickets
	ct := tk.Issue(alice.ID, alice.TokenVersion, auth.AudContacts)
	mt := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessenger)
	st := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerSecure)
	live := strings.NewReplacer("@CT@", esc(ct.Text()), "@MT@", esc(mt.T), "@MP@", esc(mt.P), "@ST@", esc(st.Text()), "@PW@", "secret-password")
	client := &http.Client{Timeout: 10 * time.Second}

	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := soapPaths[int(which)%len(soapPaths)]
		body = []byte(live.Replace(string(body)))
		before := errs.Load()
		req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		// MSNP13 pidgin sends no TicketToken but the NS's MSPAuth cookie.
		req.Header.Set("Cookie", "MSPAuth="+mt.T)
		resp, err := client.Do(req)
		if err != nil {
			var dump strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Fatalf("%s: %v\n%s", path, err, dump.String())
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if n := errs.Load() - before; n > 0 {
			t.Fatalf("%s: %d error(s) logged (panic or internal error); answer:\n%s", path, n, out)
		}
		if resp.StatusCode != 200 && resp.StatusCode != 500 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(out)) || len(resp.TransferEncoding) > 0 {
			t.Fatalf("%s: Content-Length %q for %d bytes, transfer encoding %v", path, cl, len(out), resp.TransferEncoding)
		}
		if _, err := soap.Parse(out); err != nil {
			t.Fatalf("%s: answer is not well-formed: %v\n%s", path, err, out)
		}
		if resp.StatusCode == 500 && !bytes.Contains(out, []byte("Fault>")) {
			t.Fatalf("%s: 500 without a fault:\n%s", path, out)
		}
	})
}
