package store

import (
	"context"

	"github.com/abch-im/abch/models"
)

// SeedMembers puts every peer on ownerID's Allow list and every other peer
// on its Reverse list too (skipping members already there), in one
// transaction: a loader for load tests of FindMembership, not AddMember (no
// events, no cross-account rules).
func (s *Store) SeedMembers(ctx context.Context, ownerID int64, peers []models.Account) error {
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		for i := range peers {
			if peers[i].ID == ownerID {
				continue
			}
			ref := PassportRef(&peers[i])
			if _, _, err := t.PutMember(ownerID, models.RoleAllow, ref, "", "", nil); err != nil {
				return err
			}
			if i%2 == 0 {
				if _, _, err := t.PutMember(ownerID, models.RoleReverse, ref, peers[i].DisplayName, "", nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
