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
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns"
	"github.com/abch-im/abch/services/ns/msnp"
)

// extraNS starts another NS process-alike (own NATS connection) paired
// with e's abch, with cfg's settings; apiURL "" means e's NS API.
func extraNS(t *testing.T, e *msnptest.Env, cfg ns.Config, apiURL string) (*ns.Server, string) {
	t.Helper()
	if apiURL == "" {
		apiURL = "http://" + e.S.NSAddr
	}
	nc, err := nats.Connect(e.S.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.API = nsclient.New(apiURL, e.S.Config.NSKey)
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
func signedIn(t *testing.T, e *msnptest.Env, addr, email string) *msnptest.Conn {
	t.Helper()
	m := msnptest.Dial(t, addr)
	m.Login13(e, e.Account(email, strings.Split(email, "@")[0]))
	m.Online("NLN")
	return m
}

// TestBadInput sends every class of bad input and checks the documented
// error or disconnect, and that other sessions carry on.
func TestBadInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := msnptest.Start(t, cfg)
		// Sign-ins on a loaded CI machine can take longer than a short
		// login timeout (an argon2id check per user): the timeout gets its
		// own NS in its subtest below.
		_, addr := extraNS(t, e, ns.Config{LoginTimeout: 30 * time.Second, QueueBytes: 16 << 10, WriteTimeout: time.Second, ChallengeAfter: 200 * time.Millisecond}, "")
		bystander := signedIn(t, e, addr, "by@example.com")
		bystander.SeenOrWait("CHL 0 ", soon)
		n := 0
		user := func(t *testing.T) *msnptest.Conn {
			n++
			m := signedIn(t, e, addr, "u"+string(rune('a'+n))+"@example.com")
			m.SeenOrWait("CHL 0 ", soon)
			return m
		}
		t.Run("unknown command is 200", func(t *testing.T) {
			m := user(t)
			m.Send("ZZZ 40 hello")
			m.WaitFor("200 40", soon)
			m.Send("PNG")
			m.WaitFor("QNG 60", soon)
		})
		t.Run("a command MSNP13 removed disconnects", func(t *testing.T) {
			m := user(t)
			m.Send("SYN 41 0 0")
			m.Closed(soon)
		})
		t.Run("an overlong line is fatal", func(t *testing.T) {
			m := user(t)
			m.Send("PRP 42 MFN " + strings.Repeat("a", msnp.DefaultLimits.MaxLine+10))
			m.Closed(soon)
		})
		t.Run("a bad payload length is fatal", func(t *testing.T) {
			m := user(t)
			m.Send("UUX 43 99999999")
			m.Closed(soon)
		})
		t.Run("a malformed ADL payload is 241, an empty one 240", func(t *testing.T) {
			m := user(t)
			m.SendPayload("ADL 44", `<ml><d n="example.com"><c n="x" l="3" t="1"></ml>`)
			m.WaitFor("241 44", soon)
			m.SendPayload("ADL 45", ``)
			m.WaitFor("240 45", soon)
			m.SendPayload("ADL 46", `<ml><d n="example.com"><c n="x" l="8" t="1" /></d></ml>`)
			m.WaitFor("241 46", soon)
		})
		t.Run("invalid UTF-8 is 201", func(t *testing.T) {
			m := user(t)
			m.SendPayload("UUX 47", "<Data><PSM>\xff\xfe</PSM></Data>")
			m.WaitFor("201 47", soon)
			m.Send("PRP 48 MFN %ff%fe")
			m.WaitFor("209 48", soon)
		})
		t.Run("bad CHG arguments are 201", func(t *testing.T) {
			m := user(t)
			m.Send("CHG 49 XYZ 0")
			m.WaitFor("201 49", soon)
			m.Send("CHG 50 NLN notanumber")
			m.WaitFor("201 50", soon)
			m.Send("CHG 51 NLN 0 %3Cmsnobj%20broken")
			m.WaitFor("201 51", soon)
		})
		t.Run("XFR SB is 280 until the switchboard exists", func(t *testing.T) {
			m := user(t)
			m.Send("XFR 52 SB")
			m.WaitFor("280 52", soon)
		})
		t.Run("a wrong QRY answer is 540 and ends the session", func(t *testing.T) {
			m := msnptest.Dial(t, addr)
			m.Login13(e, e.Account("q@example.com", "q"))
			m.WaitFor("CHL 0 ", soon)
			m.SendPayload("QRY 53 PROD0119GSJUC$18", strings.Repeat("0", 32))
			m.WaitFor("540 53", soon)
			m.Closed(soon)
		})
		t.Run("a right QRY answer is accepted", func(t *testing.T) {
			m := msnptest.Dial(t, addr)
			m.Login13(e, e.Account("q2@example.com", "q"))
			line := m.SeenOrWait("CHL 0 ", soon)
			chl := strings.Fields(line)[2]
			m.SendPayload("QRY 54 PROD0119GSJUC$18", msnp.QRYHash(chl, "PROD0119GSJUC$18", msnp.ProductKeys["PROD0119GSJUC$18"]))
			m.WaitFor("QRY 54", soon)
		})
		t.Run("an idle unauthenticated connection times out", func(t *testing.T) {
			_, short := extraNS(t, e, ns.Config{LoginTimeout: 2 * time.Second}, "")
			m := msnptest.Dial(t, short)
			m.Send("VER 1 MSNP13 CVR0")
			m.Expect("VER 1 MSNP13")
			m.Closed(10 * time.Second) // 2 s, and slack for a loaded machine
		})
		t.Run("a client that never reads is cut off without slowing others", func(t *testing.T) {
			m := user(t)
			_ = m.C.(*net.TCPConn).SetReadBuffer(4096)
			deadline := time.Now().Add(20 * time.Second)
			for time.Now().Before(deadline) {
				_ = m.C.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := m.C.Write([]byte(strings.Repeat("URL 1 INBOX\r\n", 200))); err != nil {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the server kept serving a client that never reads")
			}
			start := time.Now()
			bystander.Send("PNG")
			bystander.WaitFor("QNG 60", soon)
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
		e := msnptest.Start(t, cfg)
		target, _ := url.Parse("http://" + e.S.NSAddr)
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
		alice := e.Account("alice@example.com", "Alice")
		try := func() *msnptest.Conn {
			m := msnptest.Dial(t, addr)
			m.Send("VER 1 MSNP13 CVR0")
			m.Expect("VER 1 MSNP13")
			m.Send("USR 2 TWN I alice@example.com")
			m.WaitFor("GCF 0", soon)
			m.Send("USR 3 TWN S " + e.Ticket(alice, auth.AudMessenger).Text())
			return m
		}
		down.Store(true)
		m := try()
		m.Expect("500 3 0")
		m.Closed(soon)
		down.Store(false)
		m = try()
		m.Expect("USR 3 OK alice@example.com 1 0")
	})
}
