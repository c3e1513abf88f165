package store_test

import (
	"context"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestWatchersQueryUsesIndexes: the Watchers query finds contacts through
// indexes on both arms of its OR (contact_account_id and
// lower(passport_name)), not by scanning every contact row (N2).
func TestWatchersQueryUsesIndexes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		args := []any{int64(1), "bob@example.com", int64(1), models.MeKey}
		var plan []string
		if st.Dialect == store.DialectPostgres {
			// A test database is tiny: forbid the sequential scan the
			// planner would rightly prefer there, and see whether it has
			// anything else.
			err := st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
					return err
				}
				return tx.Raw("EXPLAIN "+store.WatchersQuery, args...).Scan(&plan).Error
			})
			if err != nil {
				t.Fatal(err)
			}
		} else {
			var rows []struct {
				ID, Parent, Notused int
				Detail              string
			}
			if err := st.DB.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+store.WatchersQuery, args...).Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				plan = append(plan, r.Detail)
			}
		}
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "contacts_passport_lower") || !strings.Contains(text, "contacts_contact_account") {
			t.Errorf("plan does not use both contact indexes:\n%s", text)
		}
		for _, line := range plan {
			if strings.Contains(line, "Seq Scan on contacts") || strings.HasPrefix(strings.TrimSpace(line), "SCAN c") {
				t.Errorf("plan scans the contacts table:\n%s", text)
			}
		}
	})
}
