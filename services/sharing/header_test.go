package sharing_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/services/soap"
)

// TestServiceHeader: every Sharing answer carries the owner's CacheKey with
// CacheKeyChanged=true, as every captured FindMembership answer does
// (clients/captures/*/…FindMembership.resp), and the same key the Address
// Book sends that account.
func TestServiceHeader(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		want := `<CacheKey>` + soap.CacheKey(alice.ID) + `</CacheKey><CacheKeyChanged>true</CacheKeyChanged></ServiceHeader>`
		for name, body := range map[string]string{
			"FindMembership": findBody(""),
			"AddMember":      memberBody("AddMember", passportMembership("Allow", "bob@example.com")),
			"DeleteMember":   memberBody("DeleteMember", passportMembership("Allow", "bob@example.com")),
		} {
			t.Run(name+" carries the owner's key", func(t *testing.T) {
				r := e.post(alice, body)
				mustOK(t, r)
				if !strings.Contains(r.Body, want) {
					t.Errorf("header lacks %s:\n%s", want, r.Body)
				}
			})
		}
	})
}
