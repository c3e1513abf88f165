package passport_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/nsclient"
)

// The NS challenge pidgin 2.2.2 echoes into login2.srf (USR TWN S).
const twnChallenge = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764429,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619"

// login2 is pidgin 2.2.2's login2.srf request (nexus.c login_connect_cb)
// for user and password, URL-encoded as purple_url_encode does.
func login2(user, password string) string {
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return "GET /login2.srf HTTP/1.1\r\n" +
		"Authorization: Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=" + enc(user) +
		",pwd=" + enc(password) + "," + strings.Replace(twnChallenge, "ct=1062764429", "ct=1062764629", 1) + "\r\n" +
		"User-Agent: MSMSGS\r\nHost: login.passport.com\r\nConnection: Keep-Alive\r\nCache-Control: no-cache\r\n\r\n"
}

// exchange writes req on conn and reads the answer the way nexus.c does:
// until the first "\r\n\r\n" (the answers have no body).
func exchange(t *testing.T, conn net.Conn, req string) string {
	t.Helper()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	tmp := make([]byte, 4096)
	for !bytes.Contains(buf, []byte("\r\n\r\n")) {
		n, err := conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			t.Fatalf("read after %q: %v", buf, err)
		}
	}
	return string(buf)
}

func dialExchange(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return exchange(t, conn, req)
}

var fromPP = regexp.MustCompile(`\r\nAuthentication-Info: Passport1\.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='([^']+)',ru=http://messenger\.msn\.com\r\n`)

// wantRefused checks the failure answer pidgin recognises.
func wantRefused(t *testing.T, answer string) {
	t.Helper()
	// Header names exactly so: nexus.c looks for them with strstr.
	if !strings.HasPrefix(answer, "HTTP/1.1 401 Unauthorized\r\n") ||
		!strings.Contains(answer, "\r\nWWW-Authenticate: Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt,cburl=http://www.passportimages.com/XPPassportLogo.gif,cbtxt=Type%20your%20e-mail%20address%20and%20password%20correctly.\r\n") {
		t.Fatalf("want the Passport 1.4 401, got:\n%s", answer)
	}
	if strings.Contains(answer, "from-PP") {
		t.Fatalf("a refusal carries a ticket:\n%s", answer)
	}
}

func TestPassport14(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.LoginFailuresPerAccount = 3
		cfg.LoginFailuresPerAddress = 100
		s := testenv.StartServer(t, cfg)
		api := nsclient.New("http://"+s.NSAddr, cfg.NSKey)
		alice := testenv.NewAccount(t, s, "alice@example.com", "p,a ss%+'w", "Alice")
		testenv.NewAccount(t, s, "dora@example.com", "secret", "Dora")
		testenv.NewAccount(t, s, "tom@example.com", "secret", "Tom")

		t.Run("the nexus answers a request with no version and no Host", func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", s.HTTPAddr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ans := exchange(t, conn, "GET /rdr/pprdr.asp\r\n\r\n")
			if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") {
				t.Fatalf("status line:\n%s", ans)
			}
			if !strings.Contains(ans, "\r\nPassportURLs: DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,DAReg=") {
				t.Fatalf("no PassportURLs with DALogin:\n%s", ans)
			}
			// A version-less request is answered once; the server closes.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if n, err := conn.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("connection left open after the answer: %d, %v", n, err)
			}
		})

		t.Run("the right password gets the messenger ticket the NS API accepts", func(t *testing.T) {
			ans := dialExchange(t, s.HTTPAddr, login2("Alice@Example.com", "p,a ss%+'w"))
			if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") {
				t.Fatalf("status line:\n%s", ans)
			}
			m := fromPP.FindStringSubmatch(ans)
			if m == nil {
				t.Fatalf("no Authentication-Info with from-PP:\n%s", ans)
			}
			if !strings.HasPrefix(m[1], "t=") || !strings.Contains(m[1], "&p=") {
				t.Fatalf("ticket %q", m[1])
			}
			info, err := api.VerifySignIn(context.Background(), nsclient.SignIn{Ticket: m[1], Email: "alice@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if info.Email != alice.Email || info.CID != alice.CID || info.Audience != "messenger.msn.com" {
				t.Fatalf("NS check: %+v", info)
			}
		})

		t.Run("wrong password, unknown user and disabled account get the same 401", func(t *testing.T) {
			wantRefused(t, dialExchange(t, s.HTTPAddr, login2("dora@example.com", "wrong")))
			wantRefused(t, dialExchange(t, s.HTTPAddr, login2("nobody@example.com", "secret")))
			if _, _, err := s.Store.SetDisabled(context.Background(), "tom@example.com", true); err != nil {
				t.Fatal(err)
			}
			wantRefused(t, dialExchange(t, s.HTTPAddr, login2("tom@example.com", "secret")))
		})

		t.Run("malformed or missing Authorization headers get the 401", func(t *testing.T) {
			for name, auth := range map[string]string{
				"missing":        "",
				"other scheme":   "Authorization: Basic ZG9yYTpzZWNyZXQ=\r\n",
				"no pwd":         "Authorization: Passport1.4 OrgVerb=GET,sign-in=dora%40example.com," + twnChallenge + "\r\n",
				"no sign-in":     "Authorization: Passport1.4 OrgVerb=GET,pwd=secret," + twnChallenge + "\r\n",
				"bad escape":     "Authorization: Passport1.4 sign-in=dora%40example.com,pwd=sec%zzret\r\n",
				"two passwords":  "Authorization: Passport1.4 sign-in=dora%40example.com,pwd=x,pwd=secret\r\n",
				"empty sign-in":  "Authorization: Passport1.4 sign-in=,pwd=secret\r\n",
				"scheme only":    "Authorization: Passport1.4\r\n",
				"oversized pwd=": "Authorization: Passport1.4 sign-in=dora%40example.com,pwd=" + strings.Repeat("x", 5000) + "\r\n",
			} {
				ans := dialExchange(t, s.HTTPAddr, "GET /login2.srf HTTP/1.1\r\n"+auth+"Host: login.passport.com\r\n\r\n")
				if !strings.HasPrefix(ans, "HTTP/1.1 401 Unauthorized\r\n") || !strings.Contains(ans, "\r\nWWW-Authenticate: Passport1.4 da-status=failed,") {
					t.Errorf("%s: %s", name, ans)
				}
			}
		})

		t.Run("the account throttle refuses even the right password", func(t *testing.T) {
			for i := 0; i < 3; i++ {
				wantRefused(t, dialExchange(t, s.HTTPAddr, login2("dora@example.com", "guess")))
			}
			wantRefused(t, dialExchange(t, s.HTTPAddr, login2("dora@example.com", "secret")))
			// Another account from the same address is not affected.
			ans := dialExchange(t, s.HTTPAddr, login2("alice@example.com", "p,a ss%+'w"))
			if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") {
				t.Fatalf("alice refused:\n%s", ans)
			}
		})
	})
}

// TestPassport14OverTLS runs pidgin 2.2.2's two requests over real TLS
// sockets: the nexus request with no version and no Host, then login2.srf
// on the DALogin host.
func TestPassport14OverTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if _, err := cli.WriteCerts(dir, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	s := testenv.StartServer(t, cfg)
	testenv.NewAccount(t, s, "alice@example.com", "secret", "Alice")
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	dial := func(host string) net.Conn {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.HTTPSAddr, &tls.Config{ServerName: host, RootCAs: roots})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	ans := exchange(t, dial("nexus.passport.com"), "GET /rdr/pprdr.asp\r\n\r\n")
	m := regexp.MustCompile(`\r\nPassportURLs: [^\r]*DALogin=([^,/\r]+)(/[^,\r]*)`).FindStringSubmatch(ans)
	if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") || m == nil {
		t.Fatalf("nexus over TLS:\n%s", ans)
	}
	if m[1] != "login.passport.com" || m[2] != "/login2.srf" {
		t.Fatalf("DALogin host %q path %q", m[1], m[2])
	}
	ans = exchange(t, dial(m[1]), login2("alice@example.com", "secret"))
	if !strings.HasPrefix(ans, "HTTP/1.1 200 OK\r\n") || fromPP.FindStringSubmatch(ans) == nil {
		t.Fatalf("login2.srf over TLS:\n%s", ans)
	}
}
