package passport_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestRSTUnescapedPassword sends pidgin 2.4's own RST envelope with a
// password it writes unescaped (RST_OIM.md §1.2): the sign-in succeeds, a
// wrong password still fails, and an escaped password is not escaped twice.
// (A raw password that itself looks like an entity reference, "&amp;", is
// ambiguous and read as escaped.)
func TestRSTUnescapedPassword(t *testing.T) {
	tmpl, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), "requests", "libpurple-2.4.0-msnp13", "RequestMultipleSecurityTokens.xml"))
	if err != nil {
		t.Fatal(err)
	}
	withPassword := func(pw string) []byte {
		return bytes.Replace(tmpl, []byte("<wsse:Password>secret-password</wsse:Password>"), []byte("<wsse:Password>"+pw+"</wsse:Password>"), 1)
	}
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "p&w<rd; x&y", "")
		t.Run("raw & and < as pidgin 2.4 sends them sign in", func(t *testing.T) {
			body := withPassword("p&w<rd; x&y")
			r := post(t, s.HTTPAddr, "//RST.srf", body)
			checkAnswer(t, s, acct, r, requestedAddresses(t, withPassword("x")))
		})
		t.Run("the escaped form of the same password signs in too", func(t *testing.T) {
			r := post(t, s.HTTPAddr, "/RST.srf", withPassword("p&amp;w&lt;rd; x&amp;y"))
			checkAnswer(t, s, acct, r, requestedAddresses(t, withPassword("x")))
		})
		t.Run("a wrong raw password still fails", func(t *testing.T) {
			r := post(t, s.HTTPAddr, "/RST.srf", withPassword("p&w<rd; x&z"))
			if r.Status != 500 || !bytes.Contains(r.Body, []byte("<faultcode>wsse:FailedAuthentication</faultcode>")) {
				t.Fatalf("status %d:\n%s", r.Status, r.Body)
			}
		})
	})
}
