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
		// In this order: DeleteMember removes what AddMember added (a map
		// would run them in any order, and a DeleteMember first faults).
		for _, op := range []struct{ name, body string }{
			{"FindMembership", findBody("")},
			{"AddMember", memberBody("AddMember", passportMembership("Allow", "bob@example.com"))},
			{"DeleteMember", memberBody("DeleteMember", passportMembership("Allow", "bob@example.com"))},
		} {
			t.Run(op.name+" carries the owner's key", func(t *testing.T) {
				r := e.post(alice, op.body)
				mustOK(t, r)
				if !strings.Contains(r.Body, want) {
					t.Errorf("header lacks %s:\n%s", want, r.Body)
				}
			})
		}
	})
}
