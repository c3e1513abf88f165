package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/abch-im/abch/models"
)

// The Storage service's rows (services/storage): one roaming profile per
// account (what the account row does not hold: the personal status, the
// flags and when the name and status were last set) and the display
// pictures the account uploaded. The display name itself lives on the
// account row only, so PRP MFN, ABContactUpdate of Me and UpdateProfile set
// one value (SetDisplayName).
func init() {
	register(sqlMigration{ID: "0601_storage", SQL: `
CREATE TABLE storage_profiles (
	account_id       BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
	personal_status  TEXT NOT NULL DEFAULT '',
	flags            INTEGER NOT NULL DEFAULT 0,
	photo_id         BIGINT NOT NULL DEFAULT 0,
	name_modified    {{ts}},
	status_modified  {{ts}},
	created_at       {{ts}} NOT NULL,
	updated_at       {{ts}} NOT NULL
);
CREATE TABLE storage_photos (
	id          {{id}},
	account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	name        TEXT NOT NULL DEFAULT '',
	mime_type   TEXT NOT NULL,
	data        TEXT NOT NULL,
	size        INTEGER NOT NULL,
	created_at  {{ts}} NOT NULL,
	updated_at  {{ts}} NOT NULL
);
CREATE INDEX storage_photos_account ON storage_photos (account_id, id);
`})
}

// StorageProfile is an account's roaming profile as the Storage service
// shows it. A profile no one wrote yet is the zero row (every account has
// one: WLM and MSNPSharp treat a missing profile as something to create).
type StorageProfile struct {
	AccountID      int64 `gorm:"primaryKey"`
	PersonalStatus string
	Flags          int
	PhotoID        int64 // 0: no display picture
	NameModified   *time.Time
	StatusModified *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName pins the table name.
func (StorageProfile) TableName() string { return "storage_profiles" }

// StoragePhoto is one uploaded display picture. Data is the picture as
// base64 text (one column type on both databases).
type StoragePhoto struct {
	ID        int64 `gorm:"primaryKey"`
	AccountID int64
	Name      string
	MimeType  string
	Data      string
	Size      int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName pins the table name.
func (StoragePhoto) TableName() string { return "storage_photos" }

// ProfileView is what GetProfile shows: the account (display name), the
// profile row (zero when never written) and its photo's metadata (nil
// when none; Data left empty).
type ProfileView struct {
	Account *models.Account
	Profile StorageProfile
	Photo   *StoragePhoto
}

// ProfileUpdate is one UpdateProfile: nil fields are left as they are.
type ProfileUpdate struct {
	DisplayName    *string
	PersonalStatus *string
	Flags          *int
}

// LoadProfile reads accountID's profile view. It returns CodeNotFound for
// an unknown account.
func (s *Store) LoadProfile(ctx context.Context, accountID int64) (*ProfileView, error) {
	a, err := s.AccountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	v := &ProfileView{Account: a, Profile: StorageProfile{AccountID: a.ID, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt}}
	var rows []StorageProfile
	if err := s.DB.WithContext(ctx).Where("account_id = ?", a.ID).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		v.Profile = rows[0]
	}
	if v.Profile.PhotoID != 0 {
		var ph []StoragePhoto
		if err := s.DB.WithContext(ctx).Omit("data").Where("id = ? AND account_id = ?", v.Profile.PhotoID, a.ID).Limit(1).Find(&ph).Error; err != nil {
			return nil, err
		}
		if len(ph) == 1 {
			v.Photo = &ph[0]
		}
	}
	return v, nil
}

// EnsureProfile is CreateProfile: it writes the profile row when there is
// none yet (a second call changes nothing).
func (s *Store) EnsureProfile(ctx context.Context, accountID int64) error {
	return s.Write(ctx, func(t *Txn) error {
		_, err := t.profileRow(accountID)
		return err
	})
}

// profileRow reads accountID's profile row, creating it when missing.
func (t *Txn) profileRow(accountID int64) (*StorageProfile, error) {
	var rows []StorageProfile
	if err := t.DB.Where("account_id = ?", accountID).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		return &rows[0], nil
	}
	if _, err := t.readAccount(accountID); err != nil {
		return nil, err
	}
	// Two first calls at once both insert; the loser's row is dropped.
	p := &StorageProfile{AccountID: accountID, CreatedAt: t.Now, UpdatedAt: t.Now}
	if err := t.DB.Clauses(clause.OnConflict{DoNothing: true}).Create(p).Error; err != nil {
		return nil, err
	}
	if err := t.DB.Where("account_id = ?", accountID).Limit(1).Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: storage profile of account %d not written", accountID)
	}
	return &rows[0], nil
}

// UpdateProfile is the Storage service's UpdateProfile, in one
// transaction: the display name changes as PRP MFN changes it (the same
// updateSelf change, with its profile.changed event); the status and flags
// are profile row fields. A refused name changes nothing.
func (s *Store) UpdateProfile(ctx context.Context, accountID int64, u ProfileUpdate) error {
	if u.DisplayName != nil {
		if err := checkDisplayName(*u.DisplayName); err != nil {
			return err
		}
	}
	return s.Write(ctx, func(t *Txn) error {
		nameChanged := false
		if u.DisplayName != nil {
			_, changed, err := t.updateSelf(accountID, displayNameChange(*u.DisplayName))
			if err != nil {
				return err
			}
			nameChanged = changed
		}
		p, err := t.profileRow(accountID)
		if err != nil {
			return err
		}
		upd := map[string]any{}
		if nameChanged {
			upd["name_modified"] = t.Now
		}
		if u.PersonalStatus != nil && *u.PersonalStatus != p.PersonalStatus {
			upd["personal_status"], upd["status_modified"] = *u.PersonalStatus, t.Now
		}
		if u.Flags != nil && *u.Flags != p.Flags {
			upd["flags"] = *u.Flags
		}
		if len(upd) == 0 {
			return nil
		}
		upd["updated_at"] = t.Now
		return t.DB.Model(&StorageProfile{}).Where("account_id = ?", accountID).Updates(upd).Error
	})
}

// CreatePhoto stores a display picture of accountID and returns its id.
// The caller has checked its type and size.
func (s *Store) CreatePhoto(ctx context.Context, accountID int64, name, mimeType, data string, size int) (int64, error) {
	var id int64
	err := s.Write(ctx, func(t *Txn) error {
		if _, err := t.readAccount(accountID); err != nil {
			return err
		}
		ph := &StoragePhoto{AccountID: accountID, Name: name, MimeType: mimeType, Data: data, Size: size, CreatedAt: t.Now, UpdatedAt: t.Now}
		if err := t.DB.Create(ph).Error; err != nil {
			return err
		}
		id = ph.ID
		return t.prunePhotos(accountID)
	})
	return id, err
}

// MaxPhotos is how many display pictures an account keeps: clients upload
// a new document for each new picture and never delete the old ones, so
// beyond the newest MaxPhotos, pictures the profile does not show are
// deleted.
const MaxPhotos = 8

// prunePhotos deletes accountID's pictures beyond the newest MaxPhotos,
// except the one its profile shows.
func (t *Txn) prunePhotos(accountID int64) error {
	var ids []int64
	if err := t.DB.Model(&StoragePhoto{}).Where("account_id = ?", accountID).Order("id DESC").Offset(MaxPhotos).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	var shown []int64
	if err := t.DB.Model(&StorageProfile{}).Where("account_id = ?", accountID).Pluck("photo_id", &shown).Error; err != nil {
		return err
	}
	del := ids[:0]
	for _, id := range ids {
		if len(shown) == 0 || id != shown[0] {
			del = append(del, id)
		}
	}
	if len(del) == 0 {
		return nil
	}
	return t.DB.Where("account_id = ? AND id IN ?", accountID, del).Delete(&StoragePhoto{}).Error
}

// UpdatePhoto replaces the bytes (and the name, when not empty) of
// accountID's photo id. It returns CodeNotFound when accountID has no such
// photo (another account's photo included).
func (s *Store) UpdatePhoto(ctx context.Context, accountID, id int64, name, mimeType, data string, size int) error {
	return s.Write(ctx, func(t *Txn) error {
		upd := map[string]any{"mime_type": mimeType, "data": data, "size": size, "updated_at": t.Now}
		if name != "" {
			upd["name"] = name
		}
		res := t.DB.Model(&StoragePhoto{}).Where("id = ? AND account_id = ?", id, accountID).Updates(upd)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "document does not exist")
		}
		return t.DB.Model(&StorageProfile{}).Where("account_id = ? AND photo_id = ?", accountID, id).Update("updated_at", t.Now).Error
	})
}

// SetProfilePhoto links (id != 0) or unlinks (id == 0) accountID's
// profile and its photo: CreateRelationships / DeleteRelationships
// ProfilePhoto. It returns CodeNotFound when accountID has no photo id.
// Unlinking a photo that is not the profile's changes nothing.
func (s *Store) SetProfilePhoto(ctx context.Context, accountID, id int64, unlink bool) error {
	return s.Write(ctx, func(t *Txn) error {
		var n int64
		if err := t.DB.Model(&StoragePhoto{}).Where("id = ? AND account_id = ?", id, accountID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return models.Errorf(models.CodeNotFound, "document does not exist")
		}
		p, err := t.profileRow(accountID)
		if err != nil {
			return err
		}
		target := id
		if unlink {
			if p.PhotoID != id {
				return nil
			}
			target = 0
		}
		if p.PhotoID == target {
			return nil
		}
		return t.DB.Model(&StorageProfile{}).Where("account_id = ?", accountID).
			Updates(map[string]any{"photo_id": target, "updated_at": t.Now}).Error
	})
}

// Photos lists accountID's display pictures without their bytes.
func (s *Store) Photos(ctx context.Context, accountID int64) ([]StoragePhoto, error) {
	var out []StoragePhoto
	err := s.DB.WithContext(ctx).Omit("data").Where("account_id = ?", accountID).Order("id").Find(&out).Error
	return out, err
}

// Photo reads one display picture with its bytes; CodeNotFound when there
// is none.
func (s *Store) Photo(ctx context.Context, id int64) (*StoragePhoto, error) {
	var out []StoragePhoto
	if err := s.DB.WithContext(ctx).Where("id = ?", id).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "document does not exist")
	}
	return &out[0], nil
}

// AccountByCID reads the account with that CID; CodeNotFound when none.
func (s *Store) AccountByCID(ctx context.Context, cid int64) (*models.Account, error) {
	var out []models.Account
	if err := s.DB.WithContext(ctx).Where("cid = ?", cid).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.CodeNotFound, "account does not exist")
	}
	return &out[0], nil
}

// ProfileReadable reports whether reader may read owner's profile: owner
// has reader on its Allow list and not on its Block list (the contacts
// the NS shows owner's name, status and picture to anyway).
func (s *Store) ProfileReadable(ctx context.Context, owner, reader *models.Account) (bool, error) {
	var roles []string
	err := s.DB.WithContext(ctx).Model(&models.Membership{}).
		Where("owner_id = ? AND role IN ? AND member_type = ? AND member_name = ? AND NOT deleted",
			owner.ID, []string{models.RoleAllow, models.RoleBlock}, models.MemberPassport, reader.EmailLower).
		Pluck("role", &roles).Error
	if err != nil {
		return false, err
	}
	allowed := false
	for _, r := range roles {
		if r == models.RoleBlock {
			return false, nil
		}
		allowed = true
	}
	return allowed, nil
}

// PersonalStatus is accountID's roaming personal status ("" when none).
func (s *Store) PersonalStatus(ctx context.Context, accountID int64) (string, error) {
	var out []string
	err := s.DB.WithContext(ctx).Model(&StorageProfile{}).Where("account_id = ?", accountID).Limit(1).Pluck("personal_status", &out).Error
	if err != nil || len(out) == 0 {
		return "", err
	}
	return out[0], nil
}
