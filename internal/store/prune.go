package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/models"
)

// PruneTombstones deletes tombstones (deleted contacts, groups and
// memberships) whose rev is older than horizon and raises the
// pruned_revision of every account that lost one, in one transaction: from
// then on a delta cursor older than that answers FullSyncRequired instead of
// silently missing a deletion (DESIGN.md "Revisions and delta sync"). It
// returns the number of rows deleted.
func (s *Store) PruneTombstones(ctx context.Context, horizon time.Duration) (int64, error) {
	cutoff := models.RevisionAt(s.Now().Add(-horizon))
	var total int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		total = 0
		// Raise the horizon first: a reader in another snapshot sees either
		// the old horizon with the old rows or the new horizon without them.
		err := tx.Exec(`UPDATE accounts SET pruned_revision = ? WHERE pruned_revision < ? AND id IN (
			SELECT owner_id FROM contacts WHERE deleted AND rev < ?
			UNION SELECT owner_id FROM ab_groups WHERE deleted AND rev < ?
			UNION SELECT owner_id FROM memberships WHERE deleted AND rev < ?)`,
			cutoff, cutoff, cutoff, cutoff, cutoff).Error
		if err != nil {
			return err
		}
		for _, table := range []string{"contacts", "ab_groups", "memberships"} {
			res := tx.Exec("DELETE FROM "+table+" WHERE deleted AND rev < ?", cutoff)
			if res.Error != nil {
				return res.Error
			}
			total += res.RowsAffected
		}
		return nil
	})
	if err != nil {
		return 0, translate(err)
	}
	return total, nil
}
