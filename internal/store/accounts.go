package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/abch-im/abch/models"
)

// NewAccount describes an account to create.
type NewAccount struct {
	Email        string
	PasswordHash string // already hashed (internal/auth); "" = must set one
	DisplayName  string // defaults to the e-mail address
}

// CreateAccount creates an account with its address book and its Me contact
// in one transaction, so no client ever sees ABDoesNotExist. It returns
// CodeInvalidEmail for a malformed address and CodeAccountExists when the
// address exists in any letter case.
func (s *Store) CreateAccount(ctx context.Context, na NewAccount) (*models.Account, error) {
	return s.createAccountWith(ctx, na, nil)
}

// createAccountWith is CreateAccount with first, when not nil, run in the
// same transaction before the account is made (web.go uses up an
// invitation code there).
func (s *Store) createAccountWith(ctx context.Context, na NewAccount, first func(t *Txn, lower string) error) (*models.Account, error) {
	lower, err := models.NormalizeEmail(na.Email)
	if err != nil {
		return nil, err
	}
	var acct *models.Account
	err = s.Write(ctx, func(t *Txn) error {
		if first != nil {
			if err := first(t, lower); err != nil {
				return err
			}
		}
		var err error
		acct, err = t.createAccount(na, lower)
		return err
	})
	if err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) || models.ErrorCode(err) == models.CodeAccountExists {
			return nil, models.Errorf(models.CodeAccountExists, "account %s already exists", lower)
		}
		return nil, err
	}
	return acct, nil
}

func (t *Txn) createAccount(na NewAccount, lower string) (*models.Account, error) {
	var n int64
	if err := t.DB.Model(&models.Account{}).Where("email_lower = ?", lower).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, models.Errorf(models.CodeAccountExists, "account %s already exists", lower)
	}
	name := na.DisplayName
	if name == "" {
		name = na.Email
	}
	rev := models.RevisionAt(t.Now)
	acct := &models.Account{
		Email: na.Email, EmailLower: lower, PasswordHash: na.PasswordHash,
		// Real PUIDs carry 0x0003 in their top 16 bits (PROTOCOL.md §6.2).
		PUID:        int64(0x0003<<48 | uint64(randomInt64())&0xFFFF_FFFF_FFFF),
		CID:         nonZero(randomInt64()),
		DisplayName: name, BLP: models.BLPAllow, GTC: models.GTCAsk, RoamLiveProps: 1,
		TokenVersion: 1, Revision: rev, MeContactGUID: t.store.NewGUID(),
		CreatedAt: t.Now, UpdatedAt: t.Now,
	}
	if err := t.DB.Create(acct).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, models.Errorf(models.CodeAccountExists, "account %s already exists", lower)
		}
		return nil, err
	}
	t.revs[acct.ID] = rev
	t.wrote = true
	me := &models.Contact{
		OwnerID: acct.ID, GUID: acct.MeContactGUID, Key: models.MeKey, ContactAccountID: &acct.ID,
		ContactType: models.ContactTypeMe, PassportName: lower, Network: models.NetworkPassport,
		CID: acct.CID, DisplayName: name, QuickName: name, Annotations: "[]",
		Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now,
	}
	if err := t.DB.Create(me).Error; err != nil {
		return nil, err
	}
	return acct, nil
}

func nonZero(v int64) int64 {
	if v == 0 {
		return 1
	}
	return v
}

// AccountByEmail finds an account by sign-in name in any letter case.
func (s *Store) AccountByEmail(ctx context.Context, email string) (*models.Account, error) {
	lower, err := models.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	var a models.Account
	res := s.DB.WithContext(ctx).Where("email_lower = ?", lower).Limit(1).Find(&a)
	if res.Error != nil {
		return nil, translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeNotFound, "no account %s", lower)
	}
	return &a, nil
}

// AccountByID finds an account by id.
func (s *Store) AccountByID(ctx context.Context, id int64) (*models.Account, error) {
	return s.accountByID(ctx, id) // rawread.go: the hot path of every request
}

// AccountsByIDs loads several accounts keyed by id.
func (s *Store) AccountsByIDs(ctx context.Context, ids []int64) (map[int64]*models.Account, error) {
	out := map[int64]*models.Account{}
	if len(ids) == 0 {
		return out, nil
	}
	var list []models.Account
	if err := s.DB.WithContext(ctx).Where("id IN ?", ids).Find(&list).Error; err != nil {
		return nil, translate(err)
	}
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	return out, nil
}

// SetPassword replaces an account's password hash. When invalidate is true
// the token version is bumped, so every ticket issued before stops working
// (a password change); a transparent rehash (upgrading an old hash format on
// sign-in) passes false.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, invalidate bool) error {
	updates := map[string]any{"password_hash": hash, "updated_at": s.Now()}
	if invalidate {
		updates["token_version"] = gorm.Expr("token_version + 1")
	}
	res := s.DB.WithContext(ctx).Model(&models.Account{}).Where("id = ?", id).Updates(updates)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return models.Errorf(models.CodeNotFound, "no account %d", id)
	}
	return nil
}

// ListAccounts returns every account ordered by id.
func (s *Store) ListAccounts(ctx context.Context) ([]models.Account, error) {
	var list []models.Account
	if err := s.DB.WithContext(ctx).Order("id").Find(&list).Error; err != nil {
		return nil, translate(err)
	}
	return list, nil
}
