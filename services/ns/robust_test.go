package ns_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns"
	"github.com/abch-im/abch/services/ns/msnp"
)

// extraNS starts another NS process-alike (own NATS connection) paired
// with e's abch, with cfg's settings; apiURL "" means e's NS API.
func extraNS(t *testing.T, e *env, cfg ns.Config, apiURL string) (*ns.Server, string) {
	t.Helper()
	if apiURL == "" {
		apiURL = "http://" + e.s.NSAddr
	}
	nc, err := nats.Connect(e.s.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = nsclient.New(apiURL, e.s.Config.NSKey)
	cfg.NATS = nc
	cfg.Log = testenv.Logger(t)
	srv := ns.New(cfg)
	addr, err := srv.ListenAndServe("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		nc.Close()
	})
	return srv, addr.String()
}

// signedIn returns a client of account email signed in and online on addr.
func signedIn(t *testing.T, e *env, addr, email string) *msn {
	t.Helper()
	m := dial(t, addr)
	m.login13(e, e.account(email, strings.Split(email, "@")[0]))
	m.online("NLN")
	return m
}

// TestBadInput sends every class of bad input and checks the documented
// error or disconnect, and that other sessions carry on.
func TestBadInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		_, addr := extraNS(t, e, ns.Config{LoginTimeout: 500 * time.Millisecond, QueueBytes: 16 << 10, WriteTimeout: time.Second, ChallengeAfter: 200 * time.Millisecond}, "")
		bystander := signedIn(t, e, addr, "by@example.com")
		bystander.seenOrWait("CHL 0 ", soon)
		n := 0
		user := func(t *testing.T) *msn {
			n++
			m := signedIn(t, e, addr, "u"+string(rune('a'+n))+"@example.com")
			m.seenOrWait("CHL 0 ", soon)
			return m
		}
		t.Run("unknown command is 200", func(t *testing.T) {
			m := user(t)
			m.send("ZZZ 40 hello")
			m.waitFor("200 40", soon)
			m.send("PNG")
			m.waitFor("QNG 60", soon)
		})
		t.Run("a command MSNP13 removed disconnects", func(t *testing.T) {
			m := user(t)
			m.send("SYN 41 0 0")
			m.closed(soon)
		})
		t.Run("an overlong line is fatal", func(t *testing.T) {
			m := user(t)
			m.send("PRP 42 MFN " + strings.Repeat("a", msnp.DefaultLimits.MaxLine+10))
			m.closed(soon)
		})
		t.Run("a bad payload length is fatal", func(t *testing.T) {
			m := user(t)
			m.send("UUX 43 99999999")
			m.closed(soon)
		})
		t.Run("a malformed ADL payload is 241, an empty one 240", func(t *testing.T) {
			m := user(t)
			m.sendPayload("ADL 44", `<ml><d n="example.com"><c n="x" l="3" t="1"></ml>`)
			m.waitFor("241 44", soon)
			m.sendPayload("ADL 45", ``)
			m.waitFor("240 45", soon)
			m.sendPayload("ADL 46", `<ml><d n="example.com"><c n="x" l="8" t="1" /></d></ml>`)
			m.waitFor("241 46", soon)
		})
		t.Run("invalid UTF-8 is 201", func(t *testing.T) {
			m := user(t)
			m.sendPayload("UUX 47", "<Data><PSM>\xff\xfe</PSM></Data>")
			m.waitFor("201 47", soon)
			m.send("PRP 48 MFN %ff%fe")
			m.waitFor("209 48", soon)
		})
		t.Run("bad CHG arguments are 201", func(t *testing.T) {
			m := user(t)
			m.send("CHG 49 XYZ 0")
			m.waitFor("201 49", soon)
			m.send("CHG 50 NLN notanumber")
			m.waitFor("201 50", soon)
			m.send("CHG 51 NLN 0 %3Cmsnobj%20broken")
			m.waitFor("201 51", soon)
		})
		t.Run("XFR SB is 280 until the switchboard exists", func(t *testing.T) {
			m := user(t)
			m.send("XFR 52 SB")
			m.waitFor("280 52", soon)
		})
		t.Run("a wrong QRY answer is 540 and ends the session", func(t *testing.T) {
			m := dial(t, addr)
			m.login13(e, e.account("q@example.com", "q"))
			m.waitFor("CHL 0 ", soon)
			m.sendPayload("QRY 53 PROD0119GSJUC$18", strings.Repeat("0", 32))
			m.waitFor("540 53", soon)
			m.closed(soon)
		})
		t.Run("a right QRY answer is accepted", func(t *testing.T) {
			m := dial(t, addr)
			m.login13(e, e.account("q2@example.com", "q"))
			line := m.seenOrWait("CHL 0 ", soon)
			chl := strings.Fields(line)[2]
			m.sendPayload("QRY 54 PROD0119GSJUC$18", msnp.QRYHash(chl, "PROD0119GSJUC$18", msnp.ProductKeys["PROD0119GSJUC$18"]))
			m.waitFor("QRY 54", soon)
		})
		t.Run("an idle unauthenticated connection times out", func(t *testing.T) {
			m := dial(t, addr)
			m.send("VER 1 MSNP13 CVR0")
			m.expect("VER 1 MSNP13")
			m.closed(soon)
		})
		t.Run("a client that never reads is cut off without slowing others", func(t *testing.T) {
			m := user(t)
			_ = m.c.(*net.TCPConn).SetReadBuffer(4096)
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				_ = m.c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := m.c.Write([]byte(strings.Repeat("URL 1 INBOX\r\n", 200))); err != nil {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server kept serving a client that never reads")
			}
			start := time.Now()
			bystander.send("PNG")
			bystander.waitFor("QNG 60", soon)
			if d := time.Since(start); d > time.Second {
				t.Errorf("another session waited %v", d)
			}
		})
	})
}

// TestAPIDown: while the NS API is unreachable sign-in fails with 500 and
// the connection closes; once it is back sign-in works.
func TestAPIDown(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := &env{t: t, s: testenv.StartServer(t, cfg)}
		target, _ := url.Parse("http://" + e.s.NSAddr)
		var down atomic.Bool
		proxy := httputil.NewSingleHostReverseProxy(target)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "down", http.StatusBadGateway)
				return
			}
			proxy.ServeHTTP(w, r)
		})}
		go hs.Serve(ln)
		t.Cleanup(func() { hs.Close() })
		_, addr := extraNS(t, e, ns.Config{}, "http://"+ln.Addr().String())
		alice := e.account("alice@example.com", "Alice")
		try := func() *msn {
			m := dial(t, addr)
			m.send("VER 1 MSNP13 CVR0")
			m.expect("VER 1 MSNP13")
			m.send("USR 2 TWN I alice@example.com")
			m.waitFor("GCF 0", soon)
			m.send("USR 3 TWN S " + e.ticket(alice, auth.AudMessenger).Text())
			return m
		}
		down.Store(true)
		m := try()
		m.expect("500 3 0")
		m.closed(soon)
		down.Store(false)
		m = try()
		m.expect("USR 3 OK alice@example.com 1 0")
	})
}
