package sharing

import "github.com/abch-im/abch/internal/store"

// RenderFull is the full FindMembership answer the rows of set render:
// what a stored answer must equal.
func RenderFull(set *store.MembershipSet, messenger bool) []byte {
	return renderFindMembership(set, messenger)
}
