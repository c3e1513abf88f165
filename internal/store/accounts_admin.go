package store

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/models"
)

// Operator account management (abch user show/disable/enable/delete). The
// sign-in record is its own table so the accounts row (and its GORM model)
// stays as the services read it.

func init() {
	register(sqlMigration{ID: "0090_account_signins", SQL: `
CREATE TABLE account_signins (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	last_at    BIGINT NOT NULL,
	last_ip    TEXT NOT NULL DEFAULT ''
);
`})
}

// RecordSignIn notes a successful sign-in of accountID at now from ip (one
// upsert; `abch user show` prints it).
func (s *Store) RecordSignIn(ctx context.Context, accountID int64, now time.Time, ip string) error {
	return translate(s.DB.WithContext(ctx).Exec(`INSERT INTO account_signins (account_id, last_at, last_ip) VALUES (?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET last_at = excluded.last_at, last_ip = excluded.last_ip`, accountID, now.UnixNano(), ip).Error)
}

// AccountSummary is what `abch user show` prints about an account.
type AccountSummary struct {
	Account      models.Account
	Contacts     int64 // live contacts, the Me contact excluded
	Forward      int64 // of which on the Forward List (Messenger users)
	Groups       int64
	Members      map[string]int64 // live memberships per role
	OIMs         int64            // stored offline messages for the account
	LastSignIn   time.Time        // zero: never (since abch recorded it)
	LastSignInIP string
}

// AccountSummary loads the summary of the account with the e-mail address
// (any letter case). CodeNotFound when there is none.
func (s *Store) AccountSummary(ctx context.Context, email string) (*AccountSummary, error) {
	a, err := s.AccountByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	db := s.DB.WithContext(ctx)
	sum := &AccountSummary{Account: *a, Members: map[string]int64{}}
	if err := db.Model(&models.Contact{}).Where("owner_id = ? AND NOT deleted AND contact_key <> ?", a.ID, models.MeKey).Count(&sum.Contacts).Error; err != nil {
		return nil, translate(err)
	}
	if err := db.Model(&models.Contact{}).Where("owner_id = ? AND NOT deleted AND contact_key <> ? AND is_messenger_user", a.ID, models.MeKey).Count(&sum.Forward).Error; err != nil {
		return nil, translate(err)
	}
	if err := db.Model(&models.Group{}).Where("owner_id = ? AND NOT deleted", a.ID).Count(&sum.Groups).Error; err != nil {
		return nil, translate(err)
	}
	var roles []struct {
		Role string
		N    int64
	}
	if err := db.Model(&models.Membership{}).Select("role, COUNT(*) AS n").Where("owner_id = ? AND NOT deleted", a.ID).Group("role").Scan(&roles).Error; err != nil {
		return nil, translate(err)
	}
	for _, r := range roles {
		sum.Members[r.Role] = r.N
	}
	if err := db.Model(&models.OfflineMessage{}).Where("recipient_id = ?", a.ID).Count(&sum.OIMs).Error; err != nil {
		return nil, translate(err)
	}
	var last []struct {
		LastAt int64
		LastIP string
	}
	if err := db.Raw(`SELECT last_at, last_ip FROM account_signins WHERE account_id = ?`, a.ID).Scan(&last).Error; err != nil {
		return nil, translate(err)
	}
	if len(last) == 1 {
		sum.LastSignIn, sum.LastSignInIP = time.Unix(0, last[0].LastAt).UTC(), last[0].LastIP
	}
	return sum, nil
}

// SetDisabled disables or enables the account with the e-mail address.
// Disabling also bumps the token version, so every ticket issued before
// stops working at once (auth.Authenticator.Accept refuses disabled
// accounts on every call as well) and re-enabling does not bring old
// tickets back, and emits account.disabled to the account so the NS closes
// its open sessions. It reports whether anything changed.
func (s *Store) SetDisabled(ctx context.Context, email string, disabled bool) (*models.Account, bool, error) {
	a, err := s.AccountByEmail(ctx, email)
	if err != nil {
		return nil, false, err
	}
	if a.Disabled == disabled {
		return a, false, nil
	}
	err = s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(a.ID); err != nil {
			return err
		}
		updates := map[string]any{"disabled": disabled, "updated_at": t.Now}
		if disabled {
			updates["token_version"] = gorm.Expr("token_version + 1")
		}
		if err := t.DB.Model(&models.Account{}).Where("id = ?", a.ID).Updates(updates).Error; err != nil {
			return err
		}
		if !disabled {
			return nil
		}
		// The NS closes the account's open sessions (docs/events.md).
		return t.Emit(a.ID, events.AccountClosed(events.TypeAccountDisabled, Party(a)))
	})
	if err != nil {
		return nil, false, err
	}
	a, err = s.AccountByID(ctx, a.ID)
	return a, err == nil, err
}

// DeletedAccount reports what DeleteAccount changed in other accounts.
type DeletedAccount struct {
	Account models.Account
	// Affected maps each other account whose lists held the deleted one to
	// the list bits (listbits.FL|AL|…) it was removed from.
	Affected map[string]int
}

// DeleteAccount deletes the account with the e-mail address and everything
// it owns (address book, groups, memberships, stored offline messages, its
// sign-in record), in one transaction (its login-throttle counter is the
// caller's: the key format belongs to the Passport service). Other accounts lose it too, following
// the model rules of docs/DESIGN.md as if it had left every list itself:
//
//   - a contact of it in another account's book is deleted (a tombstone,
//     so the owner's next delta sync drops it: the contact disappears, it
//     does not become an e-mail contact, since nobody can be reached at a
//     Passport address that no longer signs in);
//   - it is taken off the other account's Allow, Block, Reverse and Pending
//     lists (membership tombstones);
//   - each such account gets one addressbook.changed event (op
//     account.deleted) whose NS commands are RML 0 with the lists it was on
//     and the NOT hint, so its sessions drop it at once.
//
// Offline messages it sent stay with their recipients (sender_id becomes
// NULL; sender_email keeps the address). CodeNotFound for an unknown account.
func (s *Store) DeleteAccount(ctx context.Context, email string) (*DeletedAccount, error) {
	gone, err := s.AccountByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	// Every account whose book or lists mention the deleted one, read
	// before locking so they are bumped together; read again once the
	// deleted account is locked (no new link to it can commit after that),
	// and the whole thing redone if someone linked it in between.
	for attempt := 0; ; attempt++ {
		others, err := referrers(s.DB.WithContext(ctx), gone)
		if err != nil {
			return nil, err
		}
		out, err := s.deleteAccount(ctx, gone, others)
		if errors.Is(err, errReferrersChanged) && attempt < 5 {
			continue
		}
		return out, err
	}
}

var errReferrersChanged = errors.New("store: accounts linking the deleted account changed")

// referrers lists the other accounts whose book or lists hold a (sorted ids).
func referrers(db *gorm.DB, a *models.Account) ([]int64, error) {
	var ids []int64
	if err := db.Raw(`SELECT owner_id FROM contacts WHERE contact_account_id = ? AND owner_id <> ? AND NOT deleted
UNION SELECT owner_id FROM memberships WHERE owner_id <> ? AND NOT deleted AND (member_account_id = ? OR (member_type = ? AND member_name = ?))`,
		a.ID, a.ID, a.ID, a.ID, models.MemberPassport, a.EmailLower).Scan(&ids).Error; err != nil {
		return nil, translate(err)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

func (s *Store) deleteAccount(ctx context.Context, gone *models.Account, others []int64) (*DeletedAccount, error) {
	out := &DeletedAccount{Account: *gone, Affected: map[string]int{}}
	err := s.Write(ctx, func(t *Txn) error {
		out.Affected = map[string]int{}
		if err := t.Bump(append([]int64{gone.ID}, others...)...); err != nil {
			return err
		}
		g, err := t.account(gone.ID)
		if err != nil {
			return err
		}
		now, err := referrers(t.DB, g)
		if err != nil {
			return err
		}
		if !slices.Equal(now, others) {
			return errReferrersChanged
		}
		for _, id := range others {
			owner, err := t.account(id)
			if err != nil {
				return err
			}
			lists := 0
			var cs []models.Contact
			if err := t.DB.Where("owner_id = ? AND contact_account_id = ? AND NOT deleted", id, g.ID).Find(&cs).Error; err != nil {
				return err
			}
			for i := range cs {
				if cs[i].IsMessengerUser {
					lists |= listbits.FL
				}
				if err := t.tombstoneContact(&cs[i]); err != nil {
					return err
				}
			}
			var ms []models.Membership
			if err := t.DB.Where("owner_id = ? AND NOT deleted AND (member_account_id = ? OR (member_type = ? AND member_name = ?))",
				id, g.ID, models.MemberPassport, g.EmailLower).Find(&ms).Error; err != nil {
				return err
			}
			for _, m := range ms {
				lists |= listbits.RoleBit(m.Role)
				if err := t.DB.Model(&models.Membership{}).Where("id = ?", m.ID).
					Updates(map[string]any{"deleted": true, "rev": t.Rev(id), "updated_at": t.Now}).Error; err != nil {
					return err
				}
			}
			out.Affected[owner.Email] = lists
			ev := events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "account.deleted", "member": g.Email})
			actor := Party(g)
			ev.Actor, ev.ToActorSessions = &actor, true
			if lists != 0 {
				ev.NS = []events.NSCommand{{Command: "RML", Args: "0", Payload: events.ListPayload(g.EmailLower, models.NetworkPassport, lists, "")}}
			}
			if err := t.Emit(id, ev); err != nil {
				return err
			}
		}
		// Its own sessions are closed by the NS; the outbox row outlives
		// the account (the outbox has no foreign key).
		if err := t.Emit(g.ID, events.AccountClosed(events.TypeAccountDeleted, Party(g))); err != nil {
			return err
		}
		// The account row last: its book, groups, memberships, offline
		// messages, sign-in record and import state go with it (ON DELETE
		// CASCADE); other books' tombstones keep the address, their link
		// becomes NULL (ON DELETE SET NULL).
		if err := t.DB.Exec(`DELETE FROM contact_groups WHERE contact_id IN (SELECT id FROM contacts WHERE owner_id = ?)`, g.ID).Error; err != nil {
			return err
		}
		return t.DB.Exec(`DELETE FROM accounts WHERE id = ?`, g.ID).Error
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
