package store

import (
	"time"

	"github.com/abch-im/abch/models"
)

// Import support (issue 7): the importer writes the model tables directly,
// one transaction per account, through these thin wrappers so the account
// creation rules (PUID/CID, Me contact) stay in one place (accounts.go).

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
// zero. meGUID, when not empty, becomes the Me contact's GUID (an imported
// account keeps the identity its old server used). The new account counts
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
