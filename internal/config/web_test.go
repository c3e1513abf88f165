package config

import (
	"strings"
	"testing"
)

func TestWebSettings(t *testing.T) {
	env := func(kv ...string) func(string) (string, bool) {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	t.Run("the defaults serve the pages on loopback with open sign-up and no dashboard", func(t *testing.T) {
		c, err := fromLookup(env())
		if err != nil || c.Validate() != nil {
			t.Fatal(err, c.Validate())
		}
		if !c.WebEnabled() || c.WebAddr != "127.0.0.1:8081" || c.Signup != "open" || c.AdminToken != "" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("off turns the pages off", func(t *testing.T) {
		c, _ := fromLookup(env("ABCH_WEB_ADDR", "off"))
		if c.WebEnabled() {
			t.Fatal("enabled")
		}
	})
	for _, bad := range []struct{ name, k, v, says string }{
		{"an unknown sign-up mode", "ABCH_SIGNUP", "maybe", "ABCH_SIGNUP must be open, invite or off"},
		{"a short admin token", "ABCH_ADMIN_TOKEN", "short", "at least 16"},
		{"a zero sign-up limit", "ABCH_SIGNUP_LIMIT", "0", "ABCH_SIGNUP_LIMIT"},
		{"ABCH_WEB_TLS other than on/off", "ABCH_WEB_TLS", "yes", "ABCH_WEB_TLS must be on or off"},
		{"ABCH_WEB_TLS=on without a certificate", "ABCH_WEB_TLS", "on", "needs ABCH_TLS_CERT"},
	} {
		t.Run(bad.name+" is refused", func(t *testing.T) {
			c, err := fromLookup(env(bad.k, bad.v))
			if err == nil {
				err = c.Validate()
			}
			if err == nil || !strings.Contains(err.Error(), bad.says) {
				t.Fatalf("got %v", err)
			}
		})
	}
	t.Run("the admin token is redacted", func(t *testing.T) {
		c, _ := fromLookup(env("ABCH_ADMIN_TOKEN", "0123456789abcdef-secret"))
		if r := c.Redacted(); strings.Contains(r.AdminToken, "secret") {
			t.Fatal(r.AdminToken)
		}
	})
}
