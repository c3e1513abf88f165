package store

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// ContactInput describes a contact to add to an address book (ABContactAdd,
// ABGroupContactAdd by passport). Addresses are already validated and
// lower-cased by the service.
type ContactInput struct {
	// GUID keeps a given contact id when the contact is created (imports,
	// tests); "" allocates a new one. A revived contact keeps its old id.
	GUID string
	// PassportName is the contact's sign-in name; Email is used instead for
	// an e-mail-only entry (never on the Forward List).
	PassportName string
	Email        string
	// IsMessengerUser puts the contact on the Forward List (PROTOCOL.md §1.3).
	IsMessengerUser bool
	DisplayName     string
	QuickName       string
	FirstName       string
	MiddleName      string
	LastName        string
	Comment         string
	Annotations     []models.Annotation
	// InviterName and InviteMessage are what the target sees on its Pending
	// and Reverse entries (MessengerMemberInfo, PROTOCOL.md §2.1).
	InviterName   string
	InviteMessage string
}

func (in *ContactInput) key() string {
	if in.PassportName != "" {
		return "passport:" + in.PassportName
	}
	return "email:" + in.Email
}

// target is the resolved account of a passport contact (nil for unknown
// passports of non-Messenger entries and for e-mail contacts).
type target = *models.Account

// AddContacts adds contacts to ownerID's book in one transaction and returns
// their GUIDs in input order. A registered passport added as a Messenger
// user joins the Forward List with every cross-account effect of DESIGN.md
// "Model rules"; allowList also puts it on the owner's Allow list unless the
// owner blocks it. Errors: CodeInvalidPassportUser (no such account, or the
// owner's own address), CodeContactAlreadyExists (with ConflictID),
// CodeRequestLimitReached.
func (s *Store) AddContacts(ctx context.Context, ownerID int64, in []ContactInput, allowList bool) ([]string, error) {
	targets, err := s.resolveTargets(ctx, ownerID, in)
	if err != nil {
		return nil, err
	}
	var guids []string
	err = s.Write(ctx, func(t *Txn) error {
		guids = guids[:0]
		if err := t.Bump(append([]int64{ownerID}, targetIDs(targets, in)...)...); err != nil {
			return err
		}
		owner, err := t.account(ownerID)
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

// resolveTargets finds the accounts of passport contacts before any row is
// locked, so Bump can lock owner and targets in one ordered call.
func (s *Store) resolveTargets(ctx context.Context, ownerID int64, in []ContactInput) ([]target, error) {
	out := make([]target, len(in))
	for i := range in {
		if in[i].PassportName == "" {
			continue
		}
		a, err := s.AccountByEmail(ctx, in[i].PassportName)
		switch {
		case models.ErrorCode(err) == models.CodeNotFound || models.ErrorCode(err) == models.CodeInvalidEmail:
			if in[i].IsMessengerUser {
				return nil, models.Errorf(models.CodeInvalidPassportUser, "The Passport user specified is invalid SignInName: %s", in[i].PassportName)
			}
			continue
		case err != nil:
			return nil, err
		}
		if a.ID == ownerID {
			return nil, models.Errorf(models.CodeInvalidPassportUser, "The Passport user specified is invalid SignInName: %s (your own address)", in[i].PassportName)
		}
		out[i] = a
	}
	return out, nil
}

// targetIDs lists the accounts whose lists an add changes: the targets of
// Messenger contacts (DESIGN.md: Bump every account the transaction
// changes, and only those).
func targetIDs(ts []target, in []ContactInput) []int64 {
	var ids []int64
	for i, a := range ts {
		if a != nil && in[i].IsMessengerUser {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// account reads an account row inside the transaction (after Bump: fresh).
func (t *Txn) account(id int64) (*models.Account, error) {
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
func (t *Txn) addContact(owner *models.Account, in *ContactInput, tgt target, allowList, existingOK bool) (*models.Contact, bool, error) {
	rev := t.mustRev(owner.ID)
	var c models.Contact
	res := t.DB.Where("owner_id = ? AND contact_key = ?", owner.ID, in.key()).Limit(1).Find(&c)
	if res.Error != nil {
		return nil, false, res.Error
	}
	found := res.RowsAffected > 0
	if found && !c.Deleted {
		if in.IsMessengerUser && !c.IsMessengerUser {
			// An e-mail-only (EL) entry joins the Forward List.
			c.IsMessengerUser = true
			c.Rev, c.UpdatedAt = rev, t.Now
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
	fresh := models.Contact{
		OwnerID: owner.ID, Key: in.key(), ContactType: models.ContactTypeRegular,
		PassportName: in.PassportName, Email: in.Email, Network: models.NetworkPassport,
		DisplayName: display, QuickName: quick, FirstName: in.FirstName, MiddleName: in.MiddleName,
		LastName: in.LastName, Comment: in.Comment, IsMessengerUser: in.IsMessengerUser,
		Annotations: models.EncodeAnnotations(models.MergeAnnotations(nil, in.Annotations)),
		Rev:         rev, CreatedAt: t.Now, UpdatedAt: t.Now,
	}
	if in.PassportName == "" {
		fresh.Network = models.NetworkEmail
		fresh.IsMessengerUser = false
	}
	if tgt != nil {
		id := tgt.ID
		fresh.ContactAccountID, fresh.CID = &id, tgt.CID
	}
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
			_, added, err := t.PutMember(owner.ID, models.RoleAllow, tref, tgt.DisplayName, "", nil)
			if err != nil {
				return err
			}
			if added {
				// The target may now see the owner's presence (BLP=BL owners).
				if err := t.Emit(tgt.ID, events.VisibilityChanged(Party(tgt), Party(owner), models.RoleAllow, true)); err != nil {
					return err
				}
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

// contactAccounts returns the linked account ids of owner's contacts with
// the given GUIDs (read before locking, to Bump them together).
func (s *Store) contactAccounts(ctx context.Context, ownerID int64, guids []string) ([]int64, error) {
	if len(guids) == 0 {
		return nil, nil
	}
	var ids []int64
	err := s.DB.WithContext(ctx).Model(&models.Contact{}).
		Where("owner_id = ? AND guid IN ? AND contact_account_id IS NOT NULL", ownerID, guids).
		Distinct().Pluck("contact_account_id", &ids).Error
	return ids, translate(err)
}

// DeleteContacts removes contacts from ownerID's book (tombstones kept for
// deltas, group links dropped) and takes the owner off each Messenger
// contact's Reverse and Pending lists. Allow/Block are not touched
// (PROTOCOL.md §2.2). Errors: CodeContactDoesNotExist for any unknown id, in
// which case nothing changes.
func (s *Store) DeleteContacts(ctx context.Context, ownerID int64, guids []string) error {
	guids = dedup(guids)
	accts, err := s.contactAccounts(ctx, ownerID, guids)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(append([]int64{ownerID}, accts...)...); err != nil {
			return err
		}
		owner, err := t.account(ownerID)
		if err != nil {
			return err
		}
		for _, g := range guids {
			c, err := t.liveContact(ownerID, g, true)
			if err != nil {
				return err
			}
			if c.Key == models.MeKey {
				return models.Errorf(models.CodeBadRequest, "the Me contact %s cannot be deleted", g)
			}
			if err := t.tombstoneContact(c); err != nil {
				return err
			}
			if c.IsMessengerUser && c.ContactAccountID != nil {
				if err := t.reverseRemove(owner, *c.ContactAccountID); err != nil {
					return err
				}
			}
		}
		return t.Emit(ownerID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "contact.deleted"}))
	})
}

func (t *Txn) tombstoneContact(c *models.Contact) error {
	if err := t.DB.Exec("DELETE FROM contact_groups WHERE contact_id = ?", c.ID).Error; err != nil {
		return err
	}
	return t.DB.Model(&models.Contact{}).Where("id = ?", c.ID).
		Updates(map[string]any{"deleted": true, "rev": t.mustRev(c.OwnerID), "updated_at": t.Now}).Error
}

// ContactUpdate is one ABContactUpdate entry: the contact (by GUID, or the
// owner's own with Me) and the properties named in propertiesChanged, with
// their new values. Set fields are applied only when their property is in
// Changed (lower-cased tokens, PROTOCOL.md §2.3).
type ContactUpdate struct {
	GUID    string
	Me      bool
	Changed map[string]bool

	DisplayName     string
	QuickName       string
	FirstName       string
	MiddleName      string
	LastName        string
	Comment         string
	Birthdate       string
	IsMessengerUser bool
	HasSpace        bool
	Annotations     []models.Annotation
}

// Property tokens of propertiesChanged that abch applies (lower-cased).
// Others are accepted and ignored.
const (
	PropDisplayName     = "displayname"
	PropQuickName       = "contactquickname"
	PropFirstName       = "contactfirstname"
	PropMiddleName      = "middlename"
	PropLastName        = "contactlastname"
	PropComment         = "comment"
	PropBirthdate       = "contactbirthdate"
	PropIsMessengerUser = "ismessengeruser"
	PropHasSpace        = "hasspace"
	PropAnnotation      = "annotation"
)

// Me-contact annotations that live on the account row (PROTOCOL.md §1.3).
const (
	AnnBLP  = "MSN.IM.BLP"
	AnnGTC  = "MSN.IM.GTC"
	AnnMBEA = "MSN.IM.MBEA"
	AnnRoam = "MSN.IM.RoamLiveProperties"
)

// UpdateContacts applies ABContactUpdate entries in one transaction. On the
// Me contact, DisplayName and the MSN.IM.BLP/GTC/MBEA/RoamLiveProperties
// annotations change the account row (what the NS reads) and the Me
// contact's rev; BLP/GTC accept 0, 1 and 2 (2 = BL / N, PROTOCOL.md §11).
// Toggling IsMessengerUser adds or removes the Forward List entry with its
// cross-account effects. Errors: CodeContactDoesNotExist, CodeBadRequest
// for a bad privacy value.
func (s *Store) UpdateContacts(ctx context.Context, ownerID int64, ups []ContactUpdate, allowList bool) error {
	// Only a Forward List toggle touches the contact's account (its
	// Reverse/Pending lists); lock those accounts, no others.
	var guids []string
	for _, u := range ups {
		if u.GUID != "" && u.Changed[PropIsMessengerUser] {
			guids = append(guids, u.GUID)
		}
	}
	accts, err := s.contactAccounts(ctx, ownerID, guids)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(append([]int64{ownerID}, accts...)...); err != nil {
			return err
		}
		owner, err := t.account(ownerID)
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
		// The account row may have changed: events carry the new name.
		if owner, err = t.account(ownerID); err != nil {
			return err
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
	})
}

func (t *Txn) updateContact(owner *models.Account, u *ContactUpdate, allowList bool) (profile, privacy, book bool, err error) {
	var c *models.Contact
	if u.Me || u.GUID == "" || u.GUID == owner.MeContactGUID {
		c, err = t.meContact(owner)
	} else {
		c, err = t.liveContact(owner.ID, u.GUID, false)
	}
	if err != nil {
		return false, false, false, err
	}
	ch := u.Changed
	acct := map[string]any{}
	if ch[PropDisplayName] {
		c.DisplayName = u.DisplayName
		if c.Key == models.MeKey {
			if u.DisplayName == "" {
				c.DisplayName = owner.Email
			}
			acct["display_name"] = c.DisplayName
			profile = true
		}
	}
	if ch[PropQuickName] {
		c.QuickName = u.QuickName
	}
	if ch[PropFirstName] {
		c.FirstName = u.FirstName
	}
	if ch[PropMiddleName] {
		c.MiddleName = u.MiddleName
	}
	if ch[PropLastName] {
		c.LastName = u.LastName
	}
	if ch[PropComment] {
		c.Comment = u.Comment
	}
	if ch[PropBirthdate] {
		c.Birthdate = u.Birthdate
	}
	if ch[PropHasSpace] {
		c.HasSpace = u.HasSpace
	}
	if ch[PropAnnotation] {
		anns := u.Annotations
		if c.Key == models.MeKey {
			var rest []models.Annotation
			for _, a := range anns {
				col, val, ok, err := accountAnnotation(a)
				if err != nil {
					return false, false, false, err
				}
				if !ok {
					rest = append(rest, a)
					continue
				}
				if val != nil {
					acct[col] = val
					if col == "blp" || col == "gtc" {
						privacy = true
					}
				}
			}
			anns = rest
		}
		c.Annotations = models.EncodeAnnotations(models.MergeAnnotations(models.DecodeAnnotations(c.Annotations), anns))
	}
	if ch[PropIsMessengerUser] && c.Key != models.MeKey && u.IsMessengerUser != c.IsMessengerUser {
		if c.PassportName == "" && u.IsMessengerUser {
			return false, false, false, models.Errorf(models.CodeBadRequest, "e-mail contact %s cannot become a Messenger user", c.GUID)
		}
		c.IsMessengerUser = u.IsMessengerUser
		if c.ContactAccountID != nil {
			if u.IsMessengerUser {
				tgt, err := t.account(*c.ContactAccountID)
				if err != nil {
					return false, false, false, err
				}
				if err := t.reverseAdd(owner, tgt, "", "", allowList); err != nil {
					return false, false, false, err
				}
			} else if err := t.reverseRemove(owner, *c.ContactAccountID); err != nil {
				return false, false, false, err
			}
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
	return profile, privacy, c.Key != models.MeKey || (!profile && !privacy), nil
}

// accountAnnotation maps a Me annotation to an account column. ok is false
// for annotations stored on the contact; val is nil for an empty value
// (which leaves the setting unchanged).
func accountAnnotation(a models.Annotation) (col string, val any, ok bool, err error) {
	var allowed map[string]any // value → column value
	switch {
	case strings.EqualFold(a.Name, AnnBLP):
		col, allowed = "blp", map[string]any{"1": models.BLPAllow, "0": models.BLPBlock, "2": models.BLPBlock}
	case strings.EqualFold(a.Name, AnnGTC):
		col, allowed = "gtc", map[string]any{"1": models.GTCAsk, "0": models.GTCNone, "2": models.GTCNone}
	case strings.EqualFold(a.Name, AnnMBEA):
		col, allowed = "mbea", map[string]any{"0": 0, "1": 1}
	case strings.EqualFold(a.Name, AnnRoam):
		col, allowed = "roam_live_properties", map[string]any{"0": 0, "1": 1, "2": 2}
	default:
		return "", nil, false, nil
	}
	v := strings.TrimSpace(a.Value)
	if v == "" {
		return col, nil, true, nil
	}
	val, known := allowed[v]
	if !known {
		return "", nil, true, models.Errorf(models.CodeBadRequest, "annotation %s: %q is not a valid value", a.Name, a.Value)
	}
	return col, val, true, nil
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
