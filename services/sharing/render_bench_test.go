package sharing

import (
	"fmt"
	"testing"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// BenchmarkRenderFindMembership times the writer alone on 300 members in
// each of the four roles (the part of an uncached FindMembership that is
// not the database).
func BenchmarkRenderFindMembership(b *testing.B) {
	set := &store.MembershipSet{Account: models.Account{ID: 1, CID: 1001, Email: "owner@example.com"}, Revision: 42}
	for _, role := range []string{models.RoleAllow, models.RoleBlock, models.RoleReverse, models.RolePending} {
		for i := 0; i < 300; i++ {
			set.Members = append(set.Members, models.Membership{
				ID: int64(len(set.Members) + 1), Role: role, MemberType: models.MemberPassport, State: "Accepted",
				MemberName: fmt.Sprintf("member%d@example.com", i), DisplayName: fmt.Sprintf("Member <%d> & co", i), CID: int64(5000 + i),
				Annotations: "[]",
			})
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := renderFindMembership(set, true)
		b.SetBytes(int64(len(body)))
	}
}
