package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/models"
)

// PruneTombstones deletes tombstones (deleted contacts, groups and
// memberships) whose rev is older than horizon and raises the
// pruned_revision of every account that lost one to its newest pruned
// tombstone, in one transaction: from then on a delta cursor older than that
// answers FullSyncRequired instead of silently missing a deletion (DESIGN.md "Revisions and delta sync"). It
// returns the number of rows deleted.
//
// horizon is never shorter than the configured TombstoneHorizon (a shorter
// one is raised to it): delta reads rely on that bound (LoadBook).
func (s *Store) PruneTombstones(ctx context.Context, horizon time.Duration) (int64, error) {
	if horizon < s.Limits.TombstoneHorizon {
		horizon = s.Limits.TombstoneHorizon
	}
	cutoff := models.RevisionAt(s.Now().Add(-horizon))
	var total int64
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		total = 0
		// Raise each affected account's horizon to its newest pruned
		// tombstone, in the same transaction as the deletes: a cursor at or
		// after it missed nothing (it already saw every pruned deletion).
		horizons := map[int64]int64{}
		for _, table := range []string{"contacts", "ab_groups", "memberships"} {
			var rows []struct {
				OwnerID int64
				MaxRev  int64
			}
			if err := tx.Raw("SELECT owner_id, MAX(rev) AS max_rev FROM "+table+" WHERE deleted AND rev < ? GROUP BY owner_id", cutoff).Scan(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				if r.MaxRev > horizons[r.OwnerID] {
					horizons[r.OwnerID] = r.MaxRev
				}
			}
		}
		for id, rev := range horizons {
			if err := tx.Exec("UPDATE accounts SET pruned_revision = ? WHERE id = ? AND pruned_revision < ?", rev, id, rev).Error; err != nil {
				return err
			}
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
