package store

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/abch-im/abch/models"
)

// The web pages' tables (services/web, docs/web.md): invitation codes for
// ABCH_SIGNUP=invite, and the per-source-address sign-up windows (counted
// in the database like the login throttle, so every abch process refuses
// the same source).

func init() {
	register(sqlMigration{ID: "0710_web_signup", SQL: `
CREATE TABLE web_invites (
	code       TEXT PRIMARY KEY,
	created_at BIGINT NOT NULL,
	note       TEXT NOT NULL DEFAULT '',
	used_at    BIGINT,
	used_by    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE signup_windows (
	source_key   TEXT PRIMARY KEY,
	window_start BIGINT NOT NULL,
	hits         INTEGER NOT NULL
);
`})
}

// Invite is an invitation code and what became of it.
type Invite struct {
	Code      string
	CreatedAt time.Time
	Note      string
	UsedAt    time.Time // zero: unused
	UsedBy    string    // the address that signed up with it
}

// inviteAlphabet has no letters that read alike (0/O, 1/I/L): codes are
// typed from a message.
const inviteAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newInviteCode is 12 random characters (about 59 bits) in groups of four.
func newInviteCode() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	var sb strings.Builder
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(inviteAlphabet[int(v)%len(inviteAlphabet)])
	}
	return sb.String(), nil
}

// NormalizeInvite spells a typed code the way it is stored: upper case,
// spaces dropped.
func NormalizeInvite(code string) string {
	return strings.ToUpper(strings.Join(strings.Fields(code), ""))
}

// CreateInvites makes n unused invitation codes with a note for the
// operator (who it is for).
func (s *Store) CreateInvites(ctx context.Context, n int, note string) ([]string, error) {
	if n < 1 || n > 1000 {
		return nil, models.Errorf(models.CodeBadRequest, "make 1 to 1000 invitation codes at a time, not %d", n)
	}
	codes := make([]string, 0, n)
	err := s.Write(ctx, func(t *Txn) error {
		codes = codes[:0]
		for i := 0; i < n; i++ {
			c, err := newInviteCode()
			if err != nil {
				return err
			}
			if err := t.DB.Exec(`INSERT INTO web_invites (code, created_at, note) VALUES (?, ?, ?)`, c, t.Now.UnixNano(), note).Error; err != nil {
				return err
			}
			codes = append(codes, c)
		}
		return nil
	})
	if err != nil {
		return nil, translate(err)
	}
	return codes, nil
}

// Invites lists the invitation codes, newest first (at most limit).
func (s *Store) Invites(ctx context.Context, limit int) ([]Invite, error) {
	var rows []struct {
		Code      string
		CreatedAt int64
		Note      string
		UsedAt    *int64
		UsedBy    string
	}
	if err := s.DB.WithContext(ctx).Raw(`SELECT code, created_at, note, used_at, used_by FROM web_invites ORDER BY created_at DESC, code LIMIT ?`, limit).Scan(&rows).Error; err != nil {
		return nil, translate(err)
	}
	out := make([]Invite, len(rows))
	for i, r := range rows {
		out[i] = Invite{Code: r.Code, CreatedAt: time.Unix(0, r.CreatedAt).UTC(), Note: r.Note, UsedBy: r.UsedBy}
		if r.UsedAt != nil {
			out[i].UsedAt = time.Unix(0, *r.UsedAt).UTC()
		}
	}
	return out, nil
}

// CreateAccountWithInvite creates the account as CreateAccount does and
// uses up the invitation code in the same transaction: either both happen
// or neither. CodeNotFound when the code is unknown or already used.
func (s *Store) CreateAccountWithInvite(ctx context.Context, na NewAccount, code string) (*models.Account, error) {
	code = NormalizeInvite(code)
	return s.createAccountWith(ctx, na, func(t *Txn, lower string) error {
		res := t.DB.Exec(`UPDATE web_invites SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL`, t.Now.UnixNano(), lower, code)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return models.Errorf(models.CodeNotFound, "invitation code unknown or already used")
		}
		return nil
	})
}

// HitSignup counts one sign-up attempt for key (a source address) in its
// current window of length window and returns the attempts counted in it.
// Windows that ended are deleted on the way (the table holds one row per
// recently seen source).
func (s *Store) HitSignup(ctx context.Context, key string, window time.Duration) (int64, error) {
	now := s.Now()
	cutoff := now.Add(-window)
	if err := s.DB.WithContext(ctx).Exec(`DELETE FROM signup_windows WHERE window_start <= ? AND source_key <> ?`, cutoff.UnixNano(), key).Error; err != nil {
		return 0, translate(err)
	}
	return s.hitWindow(ctx, "signup_windows", "source_key", key, now, cutoff)
}

// SearchAccounts finds accounts whose address or display name contains q
// (any letter case), by address, at most limit; an empty q lists the first.
func (s *Store) SearchAccounts(ctx context.Context, q string, limit int) ([]models.Account, error) {
	db := s.DB.WithContext(ctx).Model(&models.Account{})
	if q = strings.ToLower(strings.TrimSpace(q)); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%"
		db = db.Where(`email_lower LIKE ? ESCAPE '\' OR LOWER(display_name) LIKE ? ESCAPE '\'`, like, like)
	}
	var out []models.Account
	if err := db.Order("email_lower").Limit(limit).Find(&out).Error; err != nil {
		return nil, translate(err)
	}
	return out, nil
}
