package server_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
)

// rawExchange writes the chunks of a request on a fresh connection (one
// write each, a pause between them) and reads everything until the server
// closes or 10 s pass.
func rawExchange(t *testing.T, addr string, chunks ...string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for _, c := range chunks {
		if _, err := io.WriteString(conn, c); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b, _ := io.ReadAll(conn)
	return string(b)
}

// TestVersionlessRequestLine: a connection whose first line is "GET
// <target>" with no HTTP version (pidgin 2.2.2's Passport 1.4 nexus request,
// framing.go) is answered as an HTTP/1.0 request with an "HTTP/1.1" status
// line, however the line arrives; other lines are left to Go.
func TestVersionlessRequestLine(t *testing.T) {
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	s := testenv.StartServer(t, cfg)

	t.Run("the nexus request byte by byte is answered", func(t *testing.T) {
		req := "GET /rdr/pprdr.asp\r\n\r\n"
		ans := rawExchange(t, s.HTTPAddr, strings.Split(req, "")...)
		if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") || !strings.Contains(ans, "\r\nPassportURLs: DARealm=Passport.Net,DALogin=") {
			t.Fatalf("answer:\n%s", ans)
		}
	})
	t.Run("a version-less GET of another path gets that path's answer", func(t *testing.T) {
		ans := rawExchange(t, s.HTTPAddr, "GET /healthz\n\n")
		if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") || !strings.HasSuffix(ans, "\r\n\r\nok\n") {
			t.Fatalf("answer:\n%q", ans)
		}
	})
	t.Run("only the first request of a connection is read so", func(t *testing.T) {
		ans := rawExchange(t, s.HTTPAddr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "GET /healthz\r\n\r\n")
		if strings.Count(ans, "HTTP/1.1 200 OK\r\n") != 1 || !strings.Contains(ans, "HTTP/1.1 400 Bad Request") {
			t.Fatalf("answer:\n%s", ans)
		}
	})
	t.Run("a version-less POST and an over-long first line are still refused", func(t *testing.T) {
		if ans := rawExchange(t, s.HTTPAddr, "POST /RST.srf\r\n\r\n"); !strings.HasPrefix(ans, "HTTP/1.1 400 Bad Request\r\n") {
			t.Errorf("POST: %q", ans)
		}
		long := "GET /" + strings.Repeat("a", 70<<10) + "\r\n\r\n"
		if ans := rawExchange(t, s.HTTPAddr, long); strings.Contains(ans, " 200 OK") || ans == "" {
			t.Errorf("long line: %.200q", ans)
		}
	})
}
