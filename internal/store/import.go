package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/models"
)

// Import support (issue 7): the importer reads and writes books through
// these operations and the bulk ones of bulk.go, one transaction per
// account, so the account creation rules (PUID/CID, Me contact), the
// Me-contact and revision rules stay in the store.

func init() {
	register(sqlMigration{ID: "0501_import_state", SQL: `
CREATE TABLE import_state (
	account_id    BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	source        TEXT NOT NULL,
	state_hash    TEXT NOT NULL,
	password_hash TEXT NOT NULL DEFAULT '',
	imported_at   {{ts}} NOT NULL
);
`})
}

// ImportState records what the last import wrote to an account, so a re-run
// can tell "unchanged since the import" (safe to apply the source's
// difference) from "changed in abch since" (reported, not overwritten).
type ImportState struct {
	AccountID    int64 `gorm:"primaryKey;autoIncrement:false"`
	Source       string
	StateHash    string
	PasswordHash string
	ImportedAt   time.Time
}

// TableName pins the table name.
func (ImportState) TableName() string { return "import_state" }

// CreateAccountAt creates an account with its Me contact inside t (see
// Store.CreateAccount), dated created instead of now when created is not
// zero. meGUID, when not empty and no contact has it yet, becomes the Me
// contact's GUID (an imported account keeps the identity its old server
// used). The new account counts
// as bumped in t: its revision is the creation revision.
func (t *Txn) CreateAccountAt(na NewAccount, created time.Time, meGUID string) (*models.Account, error) {
	lower, err := models.NormalizeEmail(na.Email)
	if err != nil {
		return nil, err
	}
	acct, err := t.createAccount(na, lower)
	if err != nil {
		return nil, err
	}
	if meGUID != "" && meGUID != acct.MeContactGUID {
		var n int64
		if err := t.DB.Model(&models.Contact{}).Where("guid = ?", meGUID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n > 0 {
			meGUID = "" // another contact has it: keep the new one
		}
	}
	if meGUID != "" && meGUID != acct.MeContactGUID {
		if err := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND contact_key = ?", acct.ID, models.MeKey).Update("guid", meGUID).Error; err != nil {
			return nil, err
		}
		if err := t.DB.Model(&models.Account{}).Where("id = ?", acct.ID).Update("me_contact_guid", meGUID).Error; err != nil {
			return nil, err
		}
		acct.MeContactGUID = meGUID
	}
	if !created.IsZero() {
		acct.CreatedAt = created.UTC()
		if err := t.DB.Model(&models.Account{}).Where("id = ?", acct.ID).Update("created_at", acct.CreatedAt).Error; err != nil {
			return nil, err
		}
	}
	return acct, nil
}

// AccountRef is what the importer needs of an account a contact points at.
type AccountRef struct {
	ID         int64
	EmailLower string
	CID        int64 `gorm:"column:cid"` // GORM's own name for it is c_id: never scanned
}

// AccountRefs resolves lower-cased addresses to accounts; addresses with no
// account are missing from the map.
func (s *Store) AccountRefs(ctx context.Context, emails []string) (map[string]AccountRef, error) {
	out := map[string]AccountRef{}
	for i := 0; i < len(emails); i += 500 {
		j := min(i+500, len(emails))
		var rows []AccountRef
		if err := s.DB.WithContext(ctx).Model(&models.Account{}).Select("id, email_lower, cid").
			Where("email_lower IN ?", emails[i:j]).Scan(&rows).Error; err != nil {
			return nil, translate(err)
		}
		for _, r := range rows {
			out[r.EmailLower] = r
		}
	}
	return out, nil
}

// Accounts returns up to limit accounts with ids above after, in id order;
// with emailLower set, only that account (CodeNotFound when there is none).
func (s *Store) Accounts(ctx context.Context, after int64, limit int, emailLower string) ([]models.Account, error) {
	q := s.DB.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit)
	if emailLower != "" {
		q = q.Where("email_lower = ?", emailLower)
	}
	var page []models.Account
	if err := q.Find(&page).Error; err != nil {
		return nil, translate(err)
	}
	if emailLower != "" && after == 0 && len(page) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "no account %s", emailLower)
	}
	return page, nil
}

// AccountByEmail reads the account with the lower-cased address in t
// (found false when there is none).
func (t *Txn) AccountByEmail(emailLower string) (acct models.Account, found bool, err error) {
	res := t.DB.Where("email_lower = ?", emailLower).Limit(1).Find(&acct)
	return acct, res.RowsAffected > 0, res.Error
}

// BookRows are an account's book as stored: its live groups, every contact
// (the Me contact and tombstones included), the live contacts' group
// links and its live memberships, each in id order.
type BookRows struct {
	Groups   []models.Group
	Contacts []models.Contact
	Links    []models.ContactGroup
	Members  []models.Membership
}

// BookRows reads ownerID's book in t.
func (t *Txn) BookRows(ownerID int64) (*BookRows, error) { return readBookRows(t.DB, ownerID) }

// BookRows reads ownerID's book.
func (s *Store) BookRows(ctx context.Context, ownerID int64) (*BookRows, error) {
	b, err := readBookRows(s.DB.WithContext(ctx), ownerID)
	return b, translate(err)
}

func readBookRows(db *gorm.DB, ownerID int64) (*BookRows, error) {
	b := &BookRows{}
	if err := db.Where("owner_id = ? AND NOT deleted", ownerID).Order("id").Find(&b.Groups).Error; err != nil {
		return nil, err
	}
	if err := db.Where("owner_id = ?", ownerID).Order("id").Find(&b.Contacts).Error; err != nil {
		return nil, err
	}
	if len(b.Contacts) > 1 {
		if err := db.Raw(`SELECT cg.contact_id, cg.group_id FROM contact_groups cg JOIN contacts c ON c.id = cg.contact_id
			WHERE c.owner_id = ? AND NOT c.deleted`, ownerID).Scan(&b.Links).Error; err != nil {
			return nil, err
		}
	}
	if err := db.Where("owner_id = ? AND NOT deleted", ownerID).Order("id").Find(&b.Members).Error; err != nil {
		return nil, err
	}
	return b, nil
}

// ImportState reads what the last import recorded for accountID (found
// false when none did).
func (t *Txn) ImportState(accountID int64) (st ImportState, found bool, err error) {
	res := t.DB.Where("account_id = ?", accountID).Limit(1).Find(&st)
	return st, res.RowsAffected > 0, res.Error
}

// RecordImport stores an account's import state, replacing the old one.
func (t *Txn) RecordImport(st ImportState) error { return t.DB.Save(&st).Error }

// RecordNewImports stores the import states of accounts just created.
func (t *Txn) RecordNewImports(states []ImportState) error {
	return t.DB.CreateInBatches(states, 200).Error
}

// SetPasswordHash stores an account's password hash in t; invalidate also
// bumps its token version, so tickets issued before stop working.
func (t *Txn) SetPasswordHash(accountID int64, hash string, invalidate bool) error {
	upd := map[string]any{"password_hash": hash, "updated_at": t.Now}
	if invalidate {
		upd["token_version"] = gorm.Expr("token_version + 1")
	}
	return t.DB.Model(&models.Account{}).Where("id = ?", accountID).Updates(upd).Error
}

// FastCommit lets Postgres acknowledge this transaction before its WAL
// reaches the disk (synchronous_commit off, this transaction only): a
// crash can lose the commit but never leaves it half-written. For
// idempotent bulk work that a re-run redoes (imports).
func (t *Txn) FastCommit() error {
	if t.store.Dialect != DialectPostgres {
		return nil
	}
	return t.DB.Exec("SET LOCAL synchronous_commit TO OFF").Error
}
