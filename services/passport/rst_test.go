package passport_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/pbkdf2"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

// TestRSTClientRequests sends every RST request envelope of the reference
// clients and checks the answer the way each client reads it.
func TestRSTClientRequests(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.ClientsDir(t), "requests", "*", "RequestMultipleSecurityTokens*.xml"))
	if len(files) < 9 {
		t.Fatalf("only %d RST request fixtures found", len(files))
	}
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "secret-password", "")
		for _, f := range files {
			name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
			t.Run(name, func(t *testing.T) {
				body, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				r := post(t, s.HTTPAddr, "/RST.srf", body)
				checkAnswer(t, s, acct, r, requestedAddresses(t, body))
			})
		}
	})
}

// TestRSTCaptures replays every captured RST request byte for byte (request
// line with //RST.srf, headers including msnp-sharp's Expect: 100-continue,
// body) and checks the answer.
func TestRSTCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testenv.ClientsDir(t), "captures", "*", "001_RST.http"))
	if len(files) < 10 {
		t.Fatalf("only %d RST captures found", len(files))
	}
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "secret", "")
		for _, f := range files {
			t.Run(filepath.Base(filepath.Dir(f)), func(t *testing.T) {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				i := bytes.Index(raw, []byte("\r\n\r\n"))
				if i < 0 {
					t.Fatal("capture has no header/body separator")
				}
				r := sendRaw(t, s.HTTPAddr, raw)
				tokens := checkAnswer(t, s, acct, r, requestedAddresses(t, raw[i+4:]))
				if len(tokens) == 0 {
					t.Errorf("no compact tokens issued")
				}
			})
		}
	})
}

// TestRSTPathsAndSingleToken covers the endpoint spellings clients use and
// the single RequestSecurityToken form (PROTOCOL.md §6.1).
func TestRSTPathsAndSingleToken(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "Alice@Example.com", "pw", "")
		for _, path := range []string{"/RST.srf", "//RST.srf", "/RST2.srf", "/pp550/RST.srf", "/PP900/rst.srf", "///rst2.srf"} {
			r := post(t, s.HTTPAddr, path, rstBody("alice@example.COM", "pw", "http://Passport.NET/tb", "messengerclear.live.com"))
			checkAnswer(t, s, acct, r, []string{"http://Passport.NET/tb", "messengerclear.live.com"})
		}
		single := fmt.Sprintf(`<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header>%s</Header><Body><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>contacts.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken></Body></Envelope>`, security("alice@example.com", "pw"))
		checkAnswer(t, s, acct, post(t, s.HTTPAddr, "/RST.srf", []byte(single)), []string{"contacts.msn.com"})

		// msnp-sharp's RST2 form: WS-Addressing headers and a wsu:Timestamp
		// inside wsse:Security next to the UsernameToken (RST_OIM.md §1.2).
		rst2 := strings.Replace(string(rstBody("alice@example.com", "pw", "http://Passport.NET/tb", "contacts.msn.com", "messengerclear.live.com")),
			`<wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext">`,
			`<wsa:Action S:mustUnderstand="1" xmlns:S="http://www.w3.org/2003/05/soap-envelope">http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue</wsa:Action><wsa:To S:mustUnderstand="1" xmlns:S="http://www.w3.org/2003/05/soap-envelope">HTTPS://login.live.com:443//RST2.srf</wsa:To><wsa:MessageID>1232003461</wsa:MessageID>`+
				`<wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsu:Timestamp xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="Timestamp"><wsu:Created>2009-01-15T07:11:01Z</wsu:Created><wsu:Expires>2009-01-15T07:16:01Z</wsu:Expires></wsu:Timestamp>`, 1)
		if !strings.Contains(rst2, "<wsu:Timestamp") {
			t.Fatal("RST2 headers not inserted")
		}
		checkAnswer(t, s, acct, post(t, s.HTTPAddr, "/RST2.srf", []byte(rst2)), []string{"http://Passport.NET/tb", "contacts.msn.com", "messengerclear.live.com"})
	})
}

func security(user, pw string) string {
	return `<wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsse:UsernameToken Id="user"><wsse:Username>` + user + `</wsse:Username><wsse:Password>` + pw + `</wsse:Password></wsse:UsernameToken></wsse:Security>`
}

// rstBody builds a RequestMultipleSecurityTokens request like BitlBee's.
func rstBody(user, pw string, addrs ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust"><Header><ps:AuthInfo xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="PPAuthInfo"><ps:HostingApp>{7108E71A-9926-4FCB-BCC9-9A9D3F32E423}</ps:HostingApp><ps:BinaryVersion>4</ps:BinaryVersion><ps:UIVersion>1</ps:UIVersion><ps:Cookies></ps:Cookies><ps:RequestParams>AQAAAAIAAABsYwQAAAAxMDMz</ps:RequestParams></ps:AuthInfo>`)
	if user != "" || pw != "" {
		b.WriteString(security(user, pw))
	}
	b.WriteString(`</Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">`)
	for i, a := range addrs {
		fmt.Fprintf(&b, `<wst:RequestSecurityToken Id="RST%d"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType>`, i)
		if a != "" {
			fmt.Fprintf(&b, `<wsp:AppliesTo><wsa:EndpointReference><wsa:Address>%s</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>`, a)
		}
		if i > 0 {
			b.WriteString(`<wsse:PolicyReference URI="MBI"></wsse:PolicyReference>`)
		}
		b.WriteString(`</wst:RequestSecurityToken>`)
	}
	b.WriteString(`</ps:RequestMultipleSecurityTokens></Body></Envelope>`)
	return []byte(b.String())
}

var bitlbeeAddrs = []string{"http://Passport.NET/tb", "messengerclear.live.com", "contacts.msn.com", "messengersecure.live.com", "storage.msn.com"}

// TestRSTGolden pins one complete answer and the failure fault byte for byte
// (fixed clock, nonce source, secret and account ids).
func TestRSTGolden(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.TicketSecret = "golden-secret"
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "secret-password", "")
		ctx := context.Background()
		if err := s.Deps.Store.DB.WithContext(ctx).Exec("UPDATE accounts SET puid = ?, cid = ?, display_name = ? WHERE id = ?",
			int64(0x00034001C2A4A9B7), int64(0x112210f2a4a9b7c1), "Alice", acct.ID).Error; err != nil {
			t.Fatal(err)
		}
		acct.PUID, acct.CID = 0x00034001C2A4A9B7, 0x112210f2a4a9b7c1
		clock := time.Date(2008, 8, 10, 15, 20, 6, 0, time.UTC)
		s.Deps.Tickets.Now = func() time.Time { return clock }
		s.Deps.Tickets.Rand = zeroReader{}
		if acct.ID != 1 {
			t.Fatalf("golden answers assume account id 1, got %d", acct.ID)
		}

		ok := post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "secret-password", bitlbeeAddrs...))
		checkAnswer(t, s, acct, ok, bitlbeeAddrs)
		testenv.Golden(t, "passport", "rst_bitlbee_ok.xml", string(ok.Body))

		bad := post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "wrong", bitlbeeAddrs...))
		testenv.Golden(t, "passport", "rst_failed_authentication.xml", string(bad.Body))
		invalid := post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "secret-password", "http://Passport.NET/tb", ""))
		testenv.Golden(t, "passport", "rst_invalid_request.xml", string(invalid.Body))
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0
	}
	return len(p), nil
}

// faultOf checks the Passport fault shape and returns the faultcode.
func faultOf(t *testing.T, r reply) string {
	t.Helper()
	if r.Status != 500 || !strings.HasPrefix(r.Raw, "HTTP/1.1 500 ") {
		t.Fatalf("want HTTP 500 fault, got %d:\n%s", r.Status, r.Body)
	}
	body := string(r.Body)
	// S:Fault directly under S:Envelope, after S:Header (RST_OIM.md §1.4).
	if !strings.Contains(body, "</S:Header><S:Fault><faultcode>") || !strings.HasSuffix(body, "</S:Fault></S:Envelope>") {
		t.Fatalf("fault not directly under S:Envelope:\n%s", body)
	}
	if indentRe.MatchString(body) {
		t.Errorf("whitespace in fault")
	}
	i := strings.Index(body, "<faultcode>") + len("<faultcode>")
	return body[i : i+strings.Index(body[i:], "<")]
}

// TestRSTFailures: every kind of bad input gets its fault quickly, wrong
// password and unknown account are indistinguishable, and the server keeps
// serving.
func TestRSTFailures(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.LoginFailuresPerAccount = 1000 // this test is about faults, not throttling
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "right", "")
		clock := time.Date(2009, 1, 2, 3, 4, 5, 0, time.UTC)
		s.Deps.Tickets.Now = func() time.Time { return clock }

		wrong := post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "wrong", bitlbeeAddrs...))
		unknown := post(t, s.HTTPAddr, "/RST.srf", rstBody("nobody@example.com", "right", bitlbeeAddrs...))
		disabled := testenv.NewAccount(t, s, "carol@example.com", "right", "")
		if err := s.Deps.Store.DB.Exec("UPDATE accounts SET disabled = ? WHERE id = ?", true, disabled.ID).Error; err != nil {
			t.Fatal(err)
		}
		off := post(t, s.HTTPAddr, "/RST.srf", rstBody("carol@example.com", "right", bitlbeeAddrs...))
		empty := post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "", bitlbeeAddrs...))
		notEmail := post(t, s.HTTPAddr, "/RST.srf", rstBody("not an address", "right", bitlbeeAddrs...))
		// A disabled account with its right password: the same fault with
		// the locked-out reqstatus (abch user disable, services/passport/admin.go).
		if code := faultOf(t, off); code != "wsse:FailedAuthentication" || !bytes.Equal(off.Body, bytes.Replace(wrong.Body, []byte("<psf:reqstatus>0x80048821<"), []byte("<psf:reqstatus>0x80048823<"), 1)) {
			t.Errorf("disabled account: %s\n%s", code, off.Body)
		}
		for name, r := range map[string]reply{"wrong password": wrong, "unknown account": unknown, "empty password": empty, "not an address": notEmail} {
			if code := faultOf(t, r); code != "wsse:FailedAuthentication" {
				t.Errorf("%s: faultcode %s", name, code)
			}
			if !bytes.Equal(r.Body, wrong.Body) {
				t.Errorf("%s answer differs from the wrong-password answer:\n%s\n%s", name, r.Body, wrong.Body)
			}
			if !strings.Contains(string(r.Body), "<psf:reqstatus>0x80048821</psf:reqstatus>") || !strings.Contains(string(r.Body), "<faultstring>Authentication Failure</faultstring>") {
				t.Errorf("%s: %s", name, r.Body)
			}
		}

		thousand := make([]string, 1000)
		for i := range thousand {
			thousand[i] = "contacts.msn.com"
		}
		thousand[0] = "http://Passport.NET/tb"
		invalid := map[string][]byte{
			"missing Username":  []byte(strings.Replace(string(rstBody("alice@example.com", "right", bitlbeeAddrs...)), "<wsse:Username>alice@example.com</wsse:Username>", "", 1)),
			"missing Password":  []byte(strings.Replace(string(rstBody("alice@example.com", "right", bitlbeeAddrs...)), "<wsse:Password>right</wsse:Password>", "", 1)),
			"missing Security":  rstBody("", "", bitlbeeAddrs...),
			"missing AppliesTo": rstBody("alice@example.com", "right", "http://Passport.NET/tb", "messengerclear.live.com", ""),
			"no tokens":         rstBody("alice@example.com", "right"),
			"malformed XML":     []byte(`<Envelope><Header>` + security("alice@example.com", "right") + `</Header><Body><ps:RequestMultipleSecurityTokens>`),
			"entity expansion":  []byte(`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><Envelope><Header>` + security("alice@example.com", "&c;") + `</Header><Body><RequestMultipleSecurityTokens/></Body></Envelope>`),
			"unknown operation": []byte(`<Envelope><Header>` + security("alice@example.com", "right") + `</Header><Body><GetSomething/></Body></Envelope>`),
			"not a SOAP body":   []byte(`<html><body>hello</body></html>`),
			"1,000 tokens":      rstBody("alice@example.com", "right", thousand...),
			"oversized body":    rstBody("alice@example.com", "right", "http://Passport.NET/tb", strings.Repeat("x", int(cfg.MaxBodyBytes))),
		}
		for name, body := range invalid {
			start := time.Now()
			r := post(t, s.HTTPAddr, "/RST.srf", body)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: answered in %v", name, d)
			}
			if code := faultOf(t, r); code != "S:Client" {
				t.Errorf("%s: faultcode %s, want S:Client", name, code)
			}
			if !strings.Contains(string(r.Body), "<faultstring>Invalid Request</faultstring>") || !strings.Contains(string(r.Body), "<psf:reqstatus>0x80048820</psf:reqstatus>") {
				t.Errorf("%s: %s", name, r.Body)
			}
		}

		// Still up: a valid sign-in works.
		checkAnswer(t, s, acct, post(t, s.HTTPAddr, "//RST.srf", rstBody("alice@example.com", "right", bitlbeeAddrs...)), bitlbeeAddrs)
	})
}

// TestRSTThrottle: past the failure limit an account, and separately a
// source address, get FailedAuthentication even with the right password,
// until the window ends.
func TestRSTThrottle(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.LoginFailuresPerAccount = 3
		s := testenv.StartServer(t, cfg)
		alice := testenv.NewAccount(t, s, "alice@example.com", "right", "")
		bob := testenv.NewAccount(t, s, "bob@example.com", "right", "")
		now := time.Now()
		s.Deps.Throttle.Now = func() time.Time { return now }
		addrs := []string{"http://Passport.NET/tb", "messenger.msn.com"}

		// Per account: three failures, then the right password is refused.
		for i := 0; i < 3; i++ {
			faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("ALICE@example.com", "guess", addrs...)))
		}
		if code := faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "right", addrs...))); code != "wsse:FailedAuthentication" {
			t.Fatalf("throttled attempt: %s", code)
		}
		// The source address is throttled too (same loopback client).
		if code := faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("bob@example.com", "right", addrs...))); code != "wsse:FailedAuthentication" {
			t.Fatalf("throttled source: %s", code)
		}
		// After the window both work again.
		now = now.Add(cfg.LoginFailureWindow + time.Second)
		checkAnswer(t, s, alice, post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "right", addrs...)), addrs)
		checkAnswer(t, s, bob, post(t, s.HTTPAddr, "/RST.srf", rstBody("bob@example.com", "right", addrs...)), addrs)

		// Per source address: failures spread over unknown accounts.
		for i := 0; i < 3; i++ {
			faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody(fmt.Sprintf("nobody%d@example.com", i), "x", addrs...)))
		}
		if code := faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("bob@example.com", "right", addrs...))); code != "wsse:FailedAuthentication" {
			t.Fatalf("source address not throttled: %s", code)
		}
	})
}

// TestRSTRehashesMigratedPassword: an Escargot PBKDF2 hash signs in and is
// replaced by argon2id on the way; the new hash keeps working and issued
// tickets stay valid (no token version bump).
func TestRSTRehashesMigratedPassword(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "old@example.com", "placeholder", "")
		salt := "c2FsdHNhbHQ"
		key := pbkdf2.Key([]byte("legacy pass"), []byte(salt), 1000, 32, sha256.New)
		hash := fmt.Sprintf("pbkdf2_sha256$1000$%s$%s", salt, base64.StdEncoding.EncodeToString(key))
		ctx := context.Background()
		if err := s.Deps.Store.SetPassword(ctx, acct.ID, hash, false); err != nil {
			t.Fatal(err)
		}
		addrs := []string{"http://Passport.NET/tb", "messengerclear.live.com"}
		tokens := checkAnswer(t, s, acct, post(t, s.HTTPAddr, "/RST.srf", rstBody("old@example.com", "legacy pass", addrs...)), addrs)
		after, err := s.Deps.Store.AccountByID(ctx, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(after.PasswordHash, "$argon2id$") || after.TokenVersion != acct.TokenVersion {
			t.Fatalf("hash not upgraded (%.20s…) or token version moved (%d → %d)", after.PasswordHash, acct.TokenVersion, after.TokenVersion)
		}
		if _, err := s.Deps.Auth.Verify(ctx, tokens[1]); err != nil {
			t.Errorf("ticket issued before the rehash stopped working: %v", err)
		}
		checkAnswer(t, s, acct, post(t, s.HTTPAddr, "/RST.srf", rstBody("old@example.com", "legacy pass", addrs...)), addrs)
		faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("old@example.com", "Legacy pass", addrs...)))
	})
}

// TestRSTThrottleAcrossProcesses: two abch servers on one Postgres database
// (as behind a load balancer) share the failure counts, so spreading
// guesses over them gains nothing.
func TestRSTThrottleAcrossProcesses(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		if db.Name != store.DialectPostgres {
			continue // one process owns the embedded database
		}
		t.Run(db.Name, func(t *testing.T) {
			cfg := testenv.Config(t, db)
			cfg.LoginFailuresPerAccount = 3
			a := testenv.StartServer(t, cfg)
			cfgB := cfg
			cfgB.DataDir = t.TempDir()
			b := testenv.StartServer(t, cfgB)
			testenv.NewAccount(t, a, "alice@example.com", "right", "")
			addrs := []string{"http://Passport.NET/tb", "messenger.msn.com"}
			for _, s := range []*server.Server{a, b, a} {
				faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "guess", addrs...)))
			}
			for _, s := range []*server.Server{a, b} {
				if code := faultOf(t, post(t, s.HTTPAddr, "/RST.srf", rstBody("alice@example.com", "right", addrs...))); code != "wsse:FailedAuthentication" {
					t.Fatalf("the right password after 3 failures spread over two servers: %s", code)
				}
			}
		})
	}
}
