package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// target is the account of a passport contact (nil for unknown passports
// of non-Messenger entries and for e-mail contacts).
type target = *models.Account

// AddContacts adds contacts to ownerID's book in one transaction and returns
// their GUIDs in input order. A registered passport added as a Messenger
// user joins the Forward List with every cross-account effect of DESIGN.md
// "Model rules"; allowList also puts it on the owner's Allow list unless the
// owner blocks it. Errors: CodeInvalidPassportUser (no such account, or the
// owner's own address), CodeContactAlreadyExists (with ConflictID),
// CodeRequestLimitReached.
func (s *Store) AddContacts(ctx context.Context, ownerID int64, in []models.NewContact, allowList bool) ([]string, error) {
	var guids []string
	err := s.Write(ctx, func(t *Txn) error {
		guids = guids[:0]
		owner, targets, err := t.lockForAdd(ownerID, in)
		if err != nil {
			return err
		}
		for i := range in {
			c, _, err := t.addContact(owner, &in[i], targets[i], allowList, false)
			if err != nil {
				return err
			}
			guids = append(guids, c.GUID)
		}
		return t.Emit(owner.ID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "contact.added"}))
	})
	if err != nil {
		return nil, err
	}
	return guids, nil
}

// lockForAdd finds the accounts of the passport contacts in (one read, by
// the lower-cased addresses the decoder produced), then bumps the owner
// and the targets of Messenger contacts in one ordered call (DESIGN.md:
// Bump every account the transaction changes, and only those). It returns
// the owner and the targets as read under that lock.
func (t *Txn) lockForAdd(ownerID int64, in []models.NewContact) (*models.Account, []target, error) {
	var emails []string
	for i := range in {
		if in[i].PassportName != "" {
			emails = append(emails, in[i].PassportName)
		}
	}
	byEmail := map[string]*models.Account{}
	if len(emails) > 0 {
		var found []models.Account
		if err := t.DB.Where("email_lower IN ?", emails).Find(&found).Error; err != nil {
			return nil, nil, err
		}
		for i := range found {
			byEmail[found[i].EmailLower] = &found[i]
		}
	}
	targets := make([]target, len(in))
	lock := []int64{ownerID}
	for i := range in {
		if in[i].PassportName == "" {
			continue
		}
		a := byEmail[in[i].PassportName]
		switch {
		case a == nil && in[i].IsMessengerUser:
			return nil, nil, models.Errorf(models.CodeInvalidPassportUser, "The Passport user specified is invalid SignInName: %s", in[i].PassportName)
		case a == nil:
			continue
		case a.ID == ownerID:
			return nil, nil, models.Errorf(models.CodeInvalidPassportUser, "The Passport user specified is invalid SignInName: %s (your own address)", in[i].PassportName)
		}
		targets[i] = a
		if in[i].IsMessengerUser {
			lock = append(lock, a.ID)
		}
	}
	if err := t.Bump(lock...); err != nil {
		return nil, nil, err
	}
	for i, a := range targets {
		if a != nil && t.locked[a.ID] != nil {
			targets[i] = t.locked[a.ID]
		}
	}
	return t.locked[ownerID], targets, nil
}

// account returns an account row as read under this transaction's lock
// (Bump), or reads it when the transaction did not lock it.
func (t *Txn) account(id int64) (*models.Account, error) {
	if a := t.locked[id]; a != nil {
		return a, nil
	}
	return t.readAccount(id)
}

// readAccount reads an account row.
func (t *Txn) readAccount(id int64) (*models.Account, error) {
	var a models.Account
	res := t.DB.Where("id = ?", id).Limit(1).Find(&a)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeNotFound, "no account %d", id)
	}
	return &a, nil
}

// addContact creates, revives or upgrades one contact. existingOK makes an
// already present contact a success (ABGroupContactAdd by passport) instead
// of CodeContactAlreadyExists. created reports whether the book changed.
func (t *Txn) addContact(owner *models.Account, in *models.NewContact, tgt target, allowList, existingOK bool) (*models.Contact, bool, error) {
	rev := t.mustRev(owner.ID)
	var c models.Contact
	res := t.DB.Where("owner_id = ? AND contact_key = ?", owner.ID, in.Key()).Limit(1).Find(&c)
	if res.Error != nil {
		return nil, false, res.Error
	}
	found := res.RowsAffected > 0
	if found && !c.Deleted {
		if in.IsMessengerUser && !c.IsMessengerUser {
			// An e-mail-only (EL) entry joins the Forward List.
			c.IsMessengerUser = true
			c.Rev, c.UpdatedAt = rev, t.Now
			if tgt != nil {
				// Added by address before that account existed: link it now.
				id := tgt.ID
				c.ContactAccountID, c.CID = &id, tgt.CID
			}
			if err := t.DB.Save(&c).Error; err != nil {
				return nil, false, err
			}
			if tgt != nil {
				if err := t.reverseAdd(owner, tgt, in.InviterName, in.InviteMessage, allowList); err != nil {
					return nil, false, err
				}
			}
			return &c, true, nil
		}
		if existingOK {
			return &c, false, nil
		}
		return nil, false, &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", ConflictID: c.GUID}
	}
	if err := t.checkContactLimit(owner.ID); err != nil {
		return nil, false, err
	}
	fresh := newContactRow(owner.ID, in, tgt, rev, t.Now)
	if found {
		// Revive the tombstone: same row, same GUID (DESIGN.md "Rows are
		// never reused across identities").
		fresh.ID, fresh.GUID, fresh.CreatedAt = c.ID, c.GUID, c.CreatedAt
		if err := t.DB.Save(&fresh).Error; err != nil {
			return nil, false, err
		}
	} else {
		fresh.GUID = in.GUID
		if fresh.GUID == "" {
			fresh.GUID = t.store.NewGUID()
		}
		if err := t.DB.Create(&fresh).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return nil, false, &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", Err: err}
			}
			return nil, false, err
		}
	}
	if fresh.IsMessengerUser && tgt != nil {
		if err := t.reverseAdd(owner, tgt, in.InviterName, in.InviteMessage, allowList); err != nil {
			return nil, false, err
		}
	}
	return &fresh, true, nil
}

// newContactRow is the row of a contact added as in: its display name
// falls back to the target's name, then to the address; an e-mail-only
// entry is never on the Forward List.
func newContactRow(ownerID int64, in *models.NewContact, tgt target, rev int64, now time.Time) models.Contact {
	display := in.DisplayName
	if display == "" && tgt != nil {
		display = tgt.DisplayName
	}
	if display == "" {
		display = in.PassportName + in.Email
	}
	quick := in.QuickName
	if quick == "" {
		quick = display
	}
	c := models.Contact{
		OwnerID: ownerID, Key: in.Key(), ContactType: models.ContactTypeRegular,
		PassportName: in.PassportName, Email: in.Email, Network: models.NetworkPassport,
		DisplayName: display, QuickName: quick, FirstName: in.FirstName, MiddleName: in.MiddleName,
		LastName: in.LastName, Comment: in.Comment, IsMessengerUser: in.IsMessengerUser,
		Annotations: models.EncodeAnnotations(models.MergeAnnotations(nil, in.Annotations)),
		Rev:         rev, CreatedAt: now, UpdatedAt: now,
	}
	if in.PassportName == "" {
		c.Network = models.NetworkEmail
		c.IsMessengerUser = false
	}
	if tgt != nil {
		id := tgt.ID
		c.ContactAccountID, c.CID = &id, tgt.CID
	}
	return c
}

func (t *Txn) checkContactLimit(ownerID int64) error {
	max := t.store.Limits.MaxContacts
	if max <= 0 {
		return nil
	}
	var n int64
	if err := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND NOT deleted AND contact_key <> ?", ownerID, models.MeKey).Count(&n).Error; err != nil {
		return err
	}
	if n >= int64(max) {
		return models.Errorf(models.CodeRequestLimitReached, "address book holds its maximum of %d contacts", max)
	}
	return nil
}

// reverseAdd applies "X adds T to FL" to T's lists (DESIGN.md "Model
// rules"): X on T's Reverse list, on T's Pending list unless T already
// allows or blocks X, and with allowList T on X's Allow list unless X blocks
// T. T gets reverse.added (ADL 0 l=8 + NOT).
func (t *Txn) reverseAdd(owner, tgt *models.Account, inviterName, invite string, allowList bool) error {
	if t.revs[tgt.ID] == 0 {
		return models.Errorf(models.CodeInternalError, "target %d not locked", tgt.ID)
	}
	name := inviterName
	if name == "" {
		name = owner.DisplayName
	}
	ref := PassportRef(owner)
	if _, _, err := t.PutMember(tgt.ID, models.RoleReverse, ref, name, invite, nil); err != nil {
		return err
	}
	allowed, err := t.HasMember(tgt.ID, models.RoleAllow, ref)
	if err != nil {
		return err
	}
	blocked, err := t.HasMember(tgt.ID, models.RoleBlock, ref)
	if err != nil {
		return err
	}
	pending := !allowed && !blocked
	if pending {
		if _, _, err := t.PutMember(tgt.ID, models.RolePending, ref, name, invite, nil); err != nil {
			return err
		}
	}
	if allowList {
		tref := PassportRef(tgt)
		ownerBlocks, err := t.HasMember(owner.ID, models.RoleBlock, tref)
		if err != nil {
			return err
		}
		if !ownerBlocks {
			// The rule and events of AddMember Allow: it also resolves the
			// target's invitation on the owner's Pending list.
			changes, err := t.putListMember(owner.ID, models.RoleAllow, tref, tgt.DisplayName, nil, 0)
			if err != nil {
				return err
			}
			if err := t.emitMemberChanges(owner, changes); err != nil {
				return err
			}
		}
	}
	actor := Party(owner)
	actor.DisplayName = name
	return t.Emit(tgt.ID, events.ReverseAdded(Party(tgt), actor, models.NetworkPassport, pending, invite))
}

// reverseRemove applies "X removes T from FL": X off T's Reverse and Pending
// lists; T gets reverse.removed (RML 0 l=8 + NOT).
func (t *Txn) reverseRemove(owner *models.Account, tgtID int64) error {
	if t.revs[tgtID] == 0 {
		return models.Errorf(models.CodeInternalError, "target %d not locked", tgtID)
	}
	tgt, err := t.account(tgtID)
	if err != nil {
		return err
	}
	ref := PassportRef(owner)
	if _, err := t.RemoveMember(tgtID, models.RoleReverse, ref); err != nil {
		return err
	}
	if _, err := t.RemoveMember(tgtID, models.RolePending, ref); err != nil {
		return err
	}
	return t.Emit(tgtID, events.ReverseRemoved(Party(tgt), Party(owner), models.NetworkPassport))
}

// liveContact finds a live contact of owner by GUID; the Me contact counts
// only when allowMe is set. Another owner's GUID is simply not found.
func (t *Txn) liveContact(ownerID int64, guid string, allowMe bool) (*models.Contact, error) {
	var c models.Contact
	res := t.DB.Where("owner_id = ? AND guid = ? AND NOT deleted", ownerID, guid).Limit(1).Find(&c)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 || (!allowMe && c.Key == models.MeKey) {
		return nil, models.Errorf(models.CodeContactDoesNotExist, "contact %s does not exist", guid)
	}
	return &c, nil
}

// lockWithContacts bumps the owner and the accounts linked to the owner's
// contacts with the given GUIDs (the accounts whose lists the change may
// touch) in one ordered call, and returns the owner as read under that
// lock. Only the links are read before the lock; the contacts themselves
// are read after it.
func (t *Txn) lockWithContacts(ownerID int64, guids []string) (*models.Account, error) {
	lock := []int64{ownerID}
	if len(guids) > 0 {
		var ids []int64
		if err := t.DB.Model(&models.Contact{}).
			Where("owner_id = ? AND guid IN ? AND contact_account_id IS NOT NULL", ownerID, guids).
			Distinct().Pluck("contact_account_id", &ids).Error; err != nil {
			return nil, err
		}
		lock = append(lock, ids...)
	}
	if err := t.Bump(lock...); err != nil {
		return nil, err
	}
	return t.locked[ownerID], nil
}

// DeleteContacts removes contacts from ownerID's book (tombstones kept for
// deltas, group links dropped) and takes the owner off each Messenger
// contact's Reverse and Pending lists. Allow/Block are not touched
// (PROTOCOL.md §2.2). Errors: CodeContactDoesNotExist for any unknown id, in
// which case nothing changes.
func (s *Store) DeleteContacts(ctx context.Context, ownerID int64, guids []string) error {
	guids = dedup(guids)
	return s.Write(ctx, func(t *Txn) error {
		owner, err := t.lockWithContacts(ownerID, guids)
		if err != nil {
			return err
		}
		for _, g := range guids {
			c, err := t.liveContact(ownerID, g, true)
			if err != nil {
				return err
			}
			if err := t.deleteContact(owner, c); err != nil {
				return err
			}
		}
		return t.Emit(ownerID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "contact.deleted"}))
	})
}

// deleteContact is ABContactDelete of one live contact c of owner (owner
// and the contact's account bumped in t): tombstone, and the owner off the
// contact's Reverse and Pending lists. The caller emits contact.deleted.
func (t *Txn) deleteContact(owner *models.Account, c *models.Contact) error {
	if c.Key == models.MeKey {
		return models.Errorf(models.CodeBadRequest, "the Me contact %s cannot be deleted", c.GUID)
	}
	if err := t.tombstoneContact(c); err != nil {
		return err
	}
	if c.IsMessengerUser && c.ContactAccountID != nil {
		return t.reverseRemove(owner, *c.ContactAccountID)
	}
	return nil
}

func (t *Txn) tombstoneContact(c *models.Contact) error {
	if err := t.DB.Exec("DELETE FROM contact_groups WHERE contact_id = ?", c.ID).Error; err != nil {
		return err
	}
	if err := t.clearGroupZero(c.ID); err != nil {
		return err
	}
	return t.DB.Model(&models.Contact{}).Where("id = ?", c.ID).
		Updates(map[string]any{"deleted": true, "rev": t.mustRev(c.OwnerID), "updated_at": t.Now}).Error
}

// UpdateContacts applies contact changes in one transaction. On the Me
// contact, DisplayName and the Settings change the account row (what the
// NS reads) and the Me contact's rev. Toggling IsMessengerUser adds or
// removes the Forward List entry with its cross-account effects. Errors:
// CodeContactDoesNotExist, CodeBadRequest (an e-mail contact made a
// Messenger user).
func (s *Store) UpdateContacts(ctx context.Context, ownerID int64, ups []models.ContactChange, allowList bool) error {
	// Only a Forward List toggle touches the contact's account (its
	// Reverse/Pending lists); lock those accounts, no others.
	var guids []string
	for _, u := range ups {
		if u.GUID != "" && u.IsMessengerUser != nil {
			guids = append(guids, u.GUID)
		}
	}
	return s.Write(ctx, func(t *Txn) error {
		return t.updateContacts(ownerID, guids, ups, allowList)
	})
}

// updateContacts is UpdateContacts inside t; guids are the contacts whose
// accounts it locks with the owner (lockWithContacts).
func (t *Txn) updateContacts(ownerID int64, guids []string, ups []models.ContactChange, allowList bool) error {
	owner, err := t.lockWithContacts(ownerID, guids)
	if err != nil {
		return err
	}
	var profile, privacy, book bool
	for i := range ups {
		p, v, b, err := t.updateContact(owner, &ups[i], allowList)
		if err != nil {
			return err
		}
		profile, privacy, book = profile || p, privacy || v, book || b
	}
	if profile || privacy {
		// The account row changed: events carry the new name.
		if owner, err = t.readAccount(ownerID); err != nil {
			return err
		}
	}
	if profile {
		if err := t.Emit(ownerID, events.SelfChanged(events.TypeProfileChanged, Party(owner), map[string]string{"display_name": owner.DisplayName})); err != nil {
			return err
		}
	}
	if privacy {
		if err := t.Emit(ownerID, events.SelfChanged(events.TypePrivacyChanged, Party(owner), map[string]string{"blp": owner.BLP, "gtc": owner.GTC})); err != nil {
			return err
		}
	}
	if book || (!profile && !privacy) {
		return t.Emit(ownerID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "contact.updated"}))
	}
	return nil
}

// updateContact applies one change; it reports whether the owner's profile
// (display name) or privacy (BLP/GTC) changed, and whether the book did
// otherwise.
func (t *Txn) updateContact(owner *models.Account, u *models.ContactChange, allowList bool) (profile, privacy, book bool, err error) {
	var c *models.Contact
	if u.Me || u.GUID == "" || u.GUID == owner.MeContactGUID {
		c, err = t.meContact(owner)
	} else {
		c, err = t.liveContact(owner.ID, u.GUID, false)
	}
	if err != nil {
		return false, false, false, err
	}
	me := c.Key == models.MeKey
	setContactFields(c, u)
	acct := map[string]any{}
	if me {
		if u.DisplayName != nil {
			if c.DisplayName == "" {
				c.DisplayName = owner.Email
			}
			acct["display_name"] = c.DisplayName
			profile = true
		}
		privacy = settingsColumns(u.Settings, acct)
	}
	if !me && u.IsMessengerUser != nil && *u.IsMessengerUser != c.IsMessengerUser {
		if err := t.toggleForwardList(owner, c, *u.IsMessengerUser, allowList); err != nil {
			return false, false, false, err
		}
	}
	if len(acct) > 0 {
		acct["updated_at"] = t.Now
		if err := t.DB.Model(&models.Account{}).Where("id = ?", owner.ID).Updates(acct).Error; err != nil {
			return false, false, false, err
		}
	}
	c.Rev, c.UpdatedAt = t.mustRev(owner.ID), t.Now
	if err := t.DB.Save(c).Error; err != nil {
		return false, false, false, err
	}
	return profile, privacy, !me || (!profile && !privacy), nil
}

// setContactFields copies the set fields of u onto c (not the Forward List
// flag, whose change has effects beyond the contact).
func setContactFields(c *models.Contact, u *models.ContactChange) {
	for _, f := range []struct {
		src *string
		dst *string
	}{
		{u.DisplayName, &c.DisplayName}, {u.QuickName, &c.QuickName}, {u.FirstName, &c.FirstName},
		{u.MiddleName, &c.MiddleName}, {u.LastName, &c.LastName}, {u.Comment, &c.Comment}, {u.Birthdate, &c.Birthdate},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if u.HasSpace != nil {
		c.HasSpace = *u.HasSpace
	}
	if u.Annotations != nil {
		c.Annotations = models.EncodeAnnotations(models.MergeAnnotations(models.DecodeAnnotations(c.Annotations), u.Annotations))
	}
}

// settingsColumns adds the account columns of the set settings to acct and
// reports whether the privacy settings (BLP, GTC) are among them.
func settingsColumns(st models.Settings, acct map[string]any) (privacy bool) {
	if st.BLP != nil {
		acct["blp"], privacy = *st.BLP, true
	}
	if st.GTC != nil {
		acct["gtc"], privacy = *st.GTC, true
	}
	if st.MBEA != nil {
		acct["mbea"] = *st.MBEA
	}
	if st.RoamLiveProps != nil {
		acct["roam_live_properties"] = *st.RoamLiveProps
	}
	return privacy
}

// toggleForwardList puts c on or takes it off the Forward List, with the
// effects on the contact's own lists (reverseAdd, reverseRemove).
func (t *Txn) toggleForwardList(owner *models.Account, c *models.Contact, on, allowList bool) error {
	if c.PassportName == "" && on {
		return models.Errorf(models.CodeBadRequest, "e-mail contact %s cannot become a Messenger user", c.GUID)
	}
	c.IsMessengerUser = on
	if c.ContactAccountID == nil {
		return nil
	}
	if !on {
		return t.reverseRemove(owner, *c.ContactAccountID)
	}
	tgt, err := t.account(*c.ContactAccountID)
	if err != nil {
		return err
	}
	return t.reverseAdd(owner, tgt, "", "", allowList)
}

// meContact returns the owner's Me contact.
func (t *Txn) meContact(owner *models.Account) (*models.Contact, error) {
	var c models.Contact
	res := t.DB.Where("owner_id = ? AND contact_key = ?", owner.ID, models.MeKey).Limit(1).Find(&c)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeABDoesNotExist, "address book of %s has no Me contact", owner.Email)
	}
	return &c, nil
}

// EnsureAddressBook is ABAdd: books are created with their account, so this
// only repairs a missing Me contact (an imported account) and is otherwise a
// no-op. It returns the book id, always the zero GUID (PROTOCOL.md §1.5).
func (s *Store) EnsureAddressBook(ctx context.Context, ownerID int64) (string, error) {
	var n int64
	if err := s.DB.WithContext(ctx).Model(&models.Contact{}).Where("owner_id = ? AND contact_key = ?", ownerID, models.MeKey).Count(&n).Error; err != nil {
		return "", translate(err)
	}
	if n > 0 {
		return models.ZeroGUID, nil
	}
	err := s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		owner, err := t.account(ownerID)
		if err != nil {
			return err
		}
		if _, err := t.meContact(owner); err == nil {
			return nil
		}
		guid := owner.MeContactGUID
		if guid == "" {
			guid = t.store.NewGUID()
			if err := t.DB.Model(&models.Account{}).Where("id = ?", ownerID).Update("me_contact_guid", guid).Error; err != nil {
				return err
			}
		}
		id := owner.ID
		me := &models.Contact{
			OwnerID: owner.ID, GUID: guid, Key: models.MeKey, ContactAccountID: &id, ContactType: models.ContactTypeMe,
			PassportName: owner.EmailLower, Network: models.NetworkPassport, CID: owner.CID,
			DisplayName: owner.DisplayName, QuickName: owner.DisplayName, Annotations: "[]",
			Rev: t.Rev(owner.ID), CreatedAt: t.Now, UpdatedAt: t.Now,
		}
		return t.DB.Create(me).Error
	})
	if err != nil {
		return "", err
	}
	return models.ZeroGUID, nil
}

func dedup(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
