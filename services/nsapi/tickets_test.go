package nsapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
)

// verify posts body (a string as is, anything else as JSON) to the ticket
// check with key and returns the status and the JSON answer.
func verify(t *testing.T, s *server.Server, key string, body any) (int, map[string]any) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	status, out, text := client{t: t, base: "http://" + s.NSAddr, key: key}.do(http.MethodPost, "/ns/v1/tickets/verify", raw)
	if out == nil {
		t.Fatalf("answer is not JSON (%d): %s", status, text)
	}
	return status, out
}

// TestVerifyTicket covers the NS ticket check: valid messengerclear and
// messenger tickets, and every kind of bad ticket or key.
func TestVerifyTicket(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		key := cfg.NSKey
		alice := testenv.NewAccount(t, s, "Alice@example.com", "x", "Alice A.")
		bob := testenv.NewAccount(t, s, "bob@example.com", "x", "Alice A.")
		tk := s.Deps.Tickets

		t.Run("valid messengerclear ticket", func(t *testing.T) {
			ticket := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerClear)
			code, out := verify(t, s, key, map[string]string{"ticket": ticket.Text(), "email": "alice@EXAMPLE.com"})
			if code != 200 {
				t.Fatalf("%d %v", code, out)
			}
			puid := alice.PUIDUnsigned()
			want := map[string]any{
				"email": "Alice@example.com", "display_name": "Alice A.", "audience": "messengerclear.live.com",
				"proof_key": base64.StdEncoding.EncodeToString(ticket.ProofKey),
				"cid":       float64(alice.CID), "puid": float64(puid),
				"member_id_high": float64(puid >> 32), "member_id_low": float64(uint32(puid)),
				"expires_at": ticket.Expires.UTC().Format(time.RFC3339),
			}
			for k, v := range want {
				if out[k] != v {
					t.Errorf("%s = %v, want %v", k, out[k], v)
				}
			}
			// mspauth is the t= part of a messenger.msn.com ticket of the same
			// account: what purple 2.4 presents to the AB as Cookie: MSPAuth.
			ms, _ := out["mspauth"].(string)
			p, err := s.Deps.Auth.Verify(context.Background(), ms, auth.AudMessenger)
			if err != nil || p.AccountID != alice.ID || strings.Contains(ms, "&") {
				t.Errorf("mspauth %q: %v", ms, err)
			}
		})

		t.Run("valid messenger.msn.com ticket (MSNP13 USR TWN)", func(t *testing.T) {
			ticket := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessenger)
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket.Text()}); code != 200 || out["audience"] != "messenger.msn.com" {
				t.Fatalf("%d %v", code, out)
			}
		})

		expired := func() string {
			old := tk.Now
			defer func() { tk.Now = old }()
			tk.Now = func() time.Time { return time.Now().Add(-25 * time.Hour) }
			return tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerClear).Text()
		}()
		good := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerClear).Text()
		flip := func(s string, i int) string {
			b := []byte(s)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			return string(b)
		}
		bad := map[string]string{
			"expired":               expired,
			"tampered t":            flip(good, 10),
			"tampered p":            flip(good, len(good)-3),
			"contacts audience":     tk.Issue(alice.ID, alice.TokenVersion, auth.AudContacts).Text(),
			"messengersecure":       tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerSecure).Text(),
			"garbage":               "t=hello&p=world",
			"unknown account":       tk.Issue(999999, 1, auth.AudMessengerClear).Text(),
			"signed by another key": auth.NewTicketer([]byte("other secret"), 24*time.Hour).Issue(alice.ID, alice.TokenVersion, auth.AudMessengerClear).Text(),
		}
		for name, ticket := range bad {
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket}); code != 403 || out["error"] != "invalid_ticket" {
				t.Errorf("%s: %d %v", name, code, out)
			}
		}

		t.Run("ticket of another account than USR I named", func(t *testing.T) {
			ticket := tk.Issue(bob.ID, bob.TokenVersion, auth.AudMessengerClear).Text()
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket, "email": "alice@example.com"}); code != 403 {
				t.Fatalf("%d %v", code, out)
			}
		})

		t.Run("after a password change", func(t *testing.T) {
			ticket := tk.Issue(bob.ID, bob.TokenVersion, auth.AudMessengerClear).Text()
			if code, _ := verify(t, s, key, map[string]string{"ticket": ticket}); code != 200 {
				t.Fatalf("fresh ticket refused: %d", code)
			}
			if err := s.Deps.Store.SetPassword(context.Background(), bob.ID, "new-hash", true); err != nil {
				t.Fatal(err)
			}
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket}); code != 403 {
				t.Fatalf("stale ticket accepted: %d %v", code, out)
			}
		})

		t.Run("bad bodies are 400", func(t *testing.T) {
			for _, body := range []string{`not json`, `{}`, `{"ticket": ""}`, `[1,2]`, `{"ticket": 5}`} {
				if code, out := verify(t, s, key, body); code != 400 || out["error"] != "bad_request" {
					t.Errorf("%s: %d %v", body, code, out)
				}
			}
		})

		t.Run("missing or wrong key is 401", func(t *testing.T) {
			for _, k := range []string{"", "wrong", key + "x"} {
				if code, out := verify(t, s, k, map[string]string{"ticket": good}); code != 401 {
					t.Errorf("key %q: %d %v", k, code, out)
				}
			}
		})

		t.Run("SSO answer check", func(t *testing.T) {
			ticket := tk.Issue(alice.ID, alice.TokenVersion, auth.AudMessengerClear)
			blob := base64.StdEncoding.EncodeToString(make([]byte, 128))
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket.Text(), "sso_nonce": "nonce", "sso_response": blob}); code != 403 {
				t.Errorf("wrong SSO answer accepted: %d %v", code, out)
			}
			good, err := auth.SSOResponse(ticket.ProofKey, "nonce", []byte("12345678"))
			if err != nil {
				t.Fatal(err)
			}
			if code, out := verify(t, s, key, map[string]string{"ticket": ticket.Text(), "sso_nonce": "nonce", "sso_response": good}); code != 200 || out["sso_verified"] != true {
				t.Errorf("right SSO answer refused: %d %v", code, out)
			}
		})
	})
}
