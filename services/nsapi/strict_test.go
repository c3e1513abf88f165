package nsapi_test

import (
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestNSRefusesInvalidUTF8: every JSON body with invalid UTF-8 or an
// unpaired surrogate escape in a string is 400 bad_request and changes
// nothing (encoding/json would store U+FFFD).
func TestNSRefusesInvalidUTF8(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		api := client{t: t, base: "http://" + s.NSAddr + "/ns/v1", key: cfg.NSKey}
		testenv.NewAccount(t, s, "alice@example.com", "x", "Alice")

		for name, body := range map[string]string{
			"invalid byte in display_name":       "{\"display_name\":\"\xffFuzz\"}",
			"truncated sequence in display_name": "{\"display_name\":\"Fuzz\xe2\x82\"}",
			"overlong encoding in display_name":  "{\"display_name\":\"\xc0\xafFuzz\"}",
			"lone high surrogate escape":         `{"display_name":"\ud800Fuzz"}`,
			"lone low surrogate escape":          `{"display_name":"Fuzz\udc00"}`,
		} {
			t.Run("profile PUT with "+name+" is 400 and stores nothing", func(t *testing.T) {
				status, got, raw := api.do("PUT", "/users/alice@example.com/profile", body)
				if status != 400 || got["error"] != "bad_request" {
					t.Fatalf("status %d: %s", status, raw)
				}
				_, prof, _ := api.do("GET", "/users/alice@example.com/profile", "")
				if prof["display_name"] != "Alice" {
					t.Fatalf("display name changed to %q", prof["display_name"])
				}
			})
		}
		t.Run("privacy PUT with invalid UTF-8 is 400", func(t *testing.T) {
			if status, got, raw := api.do("PUT", "/users/alice@example.com/privacy", "{\"blp\":\"A\xffL\"}"); status != 400 || got["error"] != "bad_request" {
				t.Fatalf("status %d: %s", status, raw)
			}
		})
		t.Run("ticket verify with invalid UTF-8 is 400", func(t *testing.T) {
			if status, got, raw := api.do("POST", "/tickets/verify", "{\"ticket\":\"t=\xff\"}"); status != 400 || got["error"] != "bad_request" {
				t.Fatalf("status %d: %s", status, raw)
			}
		})
		t.Run("a surrogate pair and non-ASCII text are stored as sent", func(t *testing.T) {
			status, got, raw := api.do("PUT", "/users/alice@example.com/profile", `{"display_name":"Al\u00efce \ud83d\ude00 ☃"}`)
			if status != 200 || got["display_name"] != "Alïce 😀 ☃" {
				t.Fatalf("status %d: %s", status, raw)
			}
		})
	})
}
