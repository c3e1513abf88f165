package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// The reads the NS needs at sign-in and for presence (PROTOCOL.md §8
// B6–B9): an account's lists, and who may see its presence. Also the two
// writes the NS makes on a user's behalf: PRP MFN and BLP. The NS API
// (services/nsapi) turns these rows into its JSON.

// ListRows are the rows of an account's lists: its live groups (by name,
// any case), its Forward List (live contacts with is_messenger_user, the
// Me contact excluded) with their group links, and its live memberships
// (Allow/Block/Reverse/Pending).
type ListRows struct {
	Groups   []models.Group
	Contacts []models.Contact
	Links    []models.ContactGroup
	Members  []models.Membership
}

// ListRows reads accountID's lists (DESIGN.md "Model rules").
func (s *Store) ListRows(ctx context.Context, accountID int64) (*ListRows, error) {
	db := s.DB.WithContext(ctx)
	out := &ListRows{}
	if err := db.Where("owner_id = ? AND NOT deleted", accountID).Order("name_lower, id").Find(&out.Groups).Error; err != nil {
		return nil, translate(err)
	}
	// Every entry carries the CID of the account with its address, also
	// when the row was written before that account existed or by an import
	// that did not link it (the NS keys presence by CID): one join, the
	// account's CID where there is one, else the row's.
	var contacts []withAccountCID[models.Contact]
	if err := db.Table("contacts c").Select("c.*, a.cid AS account_cid").
		Joins("LEFT JOIN accounts a ON a.email_lower = lower(c.passport_name) AND c.passport_name <> ''").
		Where("c.owner_id = ? AND c.is_messenger_user AND NOT c.deleted AND c.contact_key <> ?", accountID, models.MeKey).
		Order("c.id").Scan(&contacts).Error; err != nil {
		return nil, translate(err)
	}
	out.Contacts = make([]models.Contact, len(contacts))
	for i, c := range contacts {
		out.Contacts[i] = c.Row
		if c.AccountCID != nil {
			out.Contacts[i].CID = *c.AccountCID
		}
	}
	if len(out.Contacts) > 0 {
		if err := db.Raw(`SELECT cg.contact_id, cg.group_id FROM contact_groups cg JOIN contacts c ON c.id = cg.contact_id
			WHERE c.owner_id = ? AND c.is_messenger_user AND NOT c.deleted`, accountID).Scan(&out.Links).Error; err != nil {
			return nil, translate(err)
		}
	}
	var members []withAccountCID[models.Membership]
	if err := db.Table("memberships m").Select("m.*, a.cid AS account_cid").
		Joins("LEFT JOIN accounts a ON a.email_lower = lower(m.member_name) AND m.member_type = ?", models.MemberPassport).
		Where("m.owner_id = ? AND NOT m.deleted", accountID).Order("m.id").Scan(&members).Error; err != nil {
		return nil, translate(err)
	}
	out.Members = make([]models.Membership, len(members))
	for i, m := range members {
		out.Members[i] = m.Row
		if m.AccountCID != nil {
			out.Members[i].CID = *m.AccountCID
		}
	}
	return out, nil
}

// withAccountCID is a row read with the CID of the account its address
// names (nil: no such account).
type withAccountCID[T any] struct {
	Row        T      `gorm:"embedded"`
	AccountCID *int64 `gorm:"column:account_cid"`
}

// Watcher is an account that has the target on its Forward List, with
// whether it is on the target's Allow or Block list and whether it may see
// the target's presence (CanSee).
type Watcher struct {
	Account          models.Account
	Allowed, Blocked bool
	CanSee           bool
}

// CanSee is the visibility rule of PROTOCOL.md §5.4 (ESC's): a watcher may
// see the target's presence unless blocked, and only if allowed when the
// target's BLP is BL.
func CanSee(targetBLP string, allowed, blocked bool) bool {
	return !blocked && (allowed || targetBLP != models.BLPBlock)
}

// watchersQuery reads the owners of contacts linked to an account or
// naming its address (rows written before the account existed are not
// linked). Both arms are indexed: contacts_contact_account and
// contacts_passport_lower (0390_contacts_passport_lower).
const watchersQuery = `SELECT a.* FROM accounts a WHERE a.id IN (
			SELECT c.owner_id FROM contacts c
			WHERE (c.contact_account_id = ? OR lower(c.passport_name) = ?) AND c.owner_id <> ?
			  AND c.is_messenger_user AND NOT c.deleted AND c.contact_key <> ?)
		ORDER BY a.email_lower`

// Watchers returns the accounts that have target on their Forward List
// (non-deleted messenger contacts), sorted by e-mail, each with CanSee.
func (s *Store) Watchers(ctx context.Context, target *models.Account) ([]Watcher, error) {
	db := s.DB.WithContext(ctx)
	var owners []models.Account
	err := db.Raw(watchersQuery, target.ID, target.EmailLower, target.ID, models.MeKey).Scan(&owners).Error
	if err != nil {
		return nil, translate(err)
	}
	var members []models.Membership
	if err := db.Where("owner_id = ? AND role IN ? AND member_type = ? AND NOT deleted", target.ID,
		[]string{models.RoleAllow, models.RoleBlock}, models.MemberPassport).Find(&members).Error; err != nil {
		return nil, translate(err)
	}
	allowed, blocked := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		if m.Role == models.RoleAllow {
			allowed[strings.ToLower(m.MemberName)] = true
		} else {
			blocked[strings.ToLower(m.MemberName)] = true
		}
	}
	out := make([]Watcher, 0, len(owners))
	for i := range owners {
		o := &owners[i]
		w := Watcher{Account: *o, Allowed: allowed[o.EmailLower], Blocked: blocked[o.EmailLower]}
		w.CanSee = CanSee(target.BLP, w.Allowed, w.Blocked)
		out = append(out, w)
	}
	return out, nil
}

// MaxDisplayNameBytes bounds a friendly name set through PRP MFN: 387 bytes
// of URL-encoded text is the MSNP limit clients enforce, and a decoded name
// is never longer than its encoding.
const MaxDisplayNameBytes = 387

// SetDisplayName is PRP MFN: it sets the account's display name, bumps its
// revision and the Me contact's (so deltas carry the new displayName), and
// emits profile.changed. An unchanged name changes nothing. It returns
// CodeBadRequest for an empty, over-long or non-UTF-8 name.
func (s *Store) SetDisplayName(ctx context.Context, accountID int64, name string) (*models.Account, error) {
	if err := checkDisplayName(name); err != nil {
		return nil, err
	}
	return s.updateSelf(ctx, accountID, displayNameChange(name))
}

// checkDisplayName refuses an empty, over-long or non-UTF-8 name, or one
// with line breaks (CodeBadRequest).
func checkDisplayName(name string) error {
	if name == "" || len(name) > MaxDisplayNameBytes || !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\x00") {
		return models.Errorf(models.CodeBadRequest, "display_name must be 1..%d bytes of UTF-8 without line breaks", MaxDisplayNameBytes)
	}
	return nil
}

// displayNameChange is the updateSelf change that sets the display name
// (nothing when it is already name) with its profile.changed event.
func displayNameChange(name string) func(a *models.Account) (map[string]any, map[string]any, string, map[string]string) {
	return func(a *models.Account) (map[string]any, map[string]any, string, map[string]string) {
		if a.DisplayName == name {
			return nil, nil, "", nil
		}
		a.DisplayName = name
		return map[string]any{"display_name": name}, map[string]any{"display_name": name},
			events.TypeProfileChanged, map[string]string{"display_name": name}
	}
}

// SetPrivacy is the BLP command (and GTC): it stores blp ("AL"/"BL") and gtc
// ("A"/"N"; "" keeps it), bumps the revision and the Me contact (whose
// MSN.IM.BLP/GTC annotations render them), and emits privacy.changed.
// Clients re-send BLP at every sign-in, so an unchanged value changes
// nothing and emits nothing.
func (s *Store) SetPrivacy(ctx context.Context, accountID int64, blp, gtc string) (*models.Account, error) {
	if blp != "" && blp != models.BLPAllow && blp != models.BLPBlock {
		return nil, models.Errorf(models.CodeBadRequest, `blp must be "AL" or "BL"`)
	}
	if gtc != "" && gtc != models.GTCAsk && gtc != models.GTCNone {
		return nil, models.Errorf(models.CodeBadRequest, `gtc must be "A" or "N"`)
	}
	if blp == "" && gtc == "" {
		return nil, models.Errorf(models.CodeBadRequest, "blp or gtc is required")
	}
	return s.updateSelf(ctx, accountID, func(a *models.Account) (map[string]any, map[string]any, string, map[string]string) {
		upd := map[string]any{}
		if blp != "" && blp != a.BLP {
			upd["blp"], a.BLP = blp, blp
		}
		if gtc != "" && gtc != a.GTC {
			upd["gtc"], a.GTC = gtc, gtc
		}
		if len(upd) == 0 {
			return nil, nil, "", nil
		}
		return upd, map[string]any{}, events.TypePrivacyChanged, map[string]string{"blp": a.BLP, "gtc": a.GTC}
	})
}

// updateSelf runs one owner-only change: change decides the account and Me
// contact updates and the event from the account row (nil account updates
// = nothing to do). A change the row as read already has writes nothing
// (no lock, no revision: clients repeat them at every sign-in); any other
// is decided again on the row Bump locked, the one the event reports.
func (s *Store) updateSelf(ctx context.Context, accountID int64,
	change func(a *models.Account) (acct, me map[string]any, evType string, data map[string]string)) (*models.Account, error) {
	var out *models.Account
	err := s.Write(ctx, func(t *Txn) error {
		a, _, err := t.updateSelf(accountID, change)
		out = a
		return err
	})
	if err != nil {
		var me *models.Error
		if errors.As(err, &me) {
			return nil, err
		}
		return nil, translate(err)
	}
	return out, nil
}

// updateSelf is updateSelf inside a transaction t: it decides the change on
// the account row (again on the row Bump locked), writes it with the Me
// contact and emits the event; changed says whether anything was written.
func (t *Txn) updateSelf(accountID int64,
	change func(a *models.Account) (acct, me map[string]any, evType string, data map[string]string)) (*models.Account, bool, error) {
	a, err := t.readAccount(accountID)
	if err != nil {
		return nil, false, err
	}
	if acctUpd, _, _, _ := change(a); acctUpd == nil {
		return a, false, nil
	}
	if err := t.Bump(accountID); err != nil {
		return nil, false, err
	}
	a = t.locked[accountID]
	acctUpd, meUpd, evType, data := change(a)
	if acctUpd == nil {
		return a, false, nil
	}
	found, err := t.setProfile(accountID, acctUpd, meUpd)
	if err != nil {
		return nil, false, err
	}
	if !found {
		return nil, false, fmt.Errorf("store: account %d has no Me contact", accountID)
	}
	return a, true, t.Emit(accountID, events.SelfChanged(evType, Party(a), data))
}
