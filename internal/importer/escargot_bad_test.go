package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestImportEscargotBadAccounts damages a copy of the sample: a contact row
// pointing at a missing user, an unknown hash format, a malformed address.
// Those accounts are skipped with their reason and nothing of theirs is
// written; entries pointing at them are dropped; the rest is imported.
func TestImportEscargotBadAccounts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(escargotDir(t), "escargot-sample.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "damaged.sqlite")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`INSERT INTO t_user_contact (front_data, user_id, contact_id, user_uuid, uuid, name, lists, pending, groups, is_messenger_user, index_id, locations)
			SELECT '{}', 1, 999, uuid, 'ghost', 'Ghost', 3, 0, '[]', 1, '99', '{}' FROM t_user WHERE id = 1`,
		`UPDATE t_user SET password = 'sha1$abc$def' WHERE id = 2`,
		`UPDATE t_user SET email = 'user03 at example.com' WHERE id = 3`,
	} {
		if err := db.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	sqlDB, _ := db.DB()
	sqlDB.Close()

	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		src, err := OpenEscargot(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(context.Background(), st, src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		wantReport(t, sum, 37, 3,
			"skipped account user01@example.com (t_user id 1): contact row points at missing account (t_user id 999)",
			`skipped account user02@example.com (t_user id 2): unknown password hash format "sha1$"`,
			`skipped account user03 at example.com (t_user id 3): malformed address`,
			"dropped contact user01@example.com (t_user id 5 (user05@example.com)): its account is not imported: contact row points at missing account",
		)
		for _, gone := range []string{"user01@example.com", "user02@example.com"} {
			if _, err := st.AccountByEmail(context.Background(), gone); models.ErrorCode(err) != models.CodeNotFound {
				t.Errorf("%s written: %v", gone, err)
			}
		}
		v, err := View(context.Background(), st, "user05@example.com")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.Contacts {
			if c.Email == "user01@example.com" || c.Email == "user02@example.com" {
				t.Errorf("user05 keeps an entry for skipped %s", c.Email)
			}
		}
	})
}
