package store

import (
	"context"
	"strings"

	"github.com/abch-im/abch/models"
)

// The list writes of SYN-era NS sessions (MSNP8–12: ADD/ADC/REM, ADG/RMG/REG,
// SBP/REA), made through the NS API (services/nsapi, docs/events.md §7.1).
// Each is one transaction built from the same Txn helpers as the SOAP
// operation it stands for (PROTOCOL.md §4.1), so the rows and events are
// the ones that operation writes. What is SYN-only: the integer group ids
// (ab_groups.syn_id), the list version (accounts.list_version, moved by
// Bump with the revision) and "group 0" as a set member (syn_group_zero).

func init() {
	// 0700: SYN-era lists. Existing groups get their SYN ids in creation
	// order per owner; list_version starts at 1 (0 is what a client with no
	// list sends).
	register(sqlMigration{ID: "0700_syn_lists", SQL: `
ALTER TABLE accounts ADD COLUMN list_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE ab_groups ADD COLUMN syn_id INTEGER NOT NULL DEFAULT 0;
UPDATE ab_groups SET syn_id = (SELECT COUNT(*) FROM ab_groups g2 WHERE g2.owner_id = ab_groups.owner_id AND g2.id <= ab_groups.id);
CREATE INDEX ab_groups_syn_id ON ab_groups (owner_id, syn_id);
CREATE TABLE syn_group_zero (
	contact_id BIGINT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE
);
`})
}

// SYN-era list names.
const (
	ListFL = "FL"
	ListAL = "AL"
	ListBL = "BL"
	ListRL = "RL"
	ListPL = "PL"
)

// SynGroupRef names a group in a SYN-era command.
type SynGroupRef struct {
	// Given is false when the command names no group.
	Given bool
	// Integer selects the MSNP8–9 form: ID is a SYN id, 0 = "no group",
	// and a contact's groups are a set in which 0 is a member like any
	// other. Otherwise GUID names the group (MSNP10–12).
	Integer bool
	ID      int
	GUID    string
}

// SynListWrite is one ADD/ADC/REM (nsclient.ListWrite, validated).
type SynListWrite struct {
	List string
	// Address is the lower-cased sign-in name; ContactGUID names an FL
	// contact instead (MSNP10–12).
	Address     string
	ContactGUID string
	// Nickname is ADD's friendly name (a new contact's display name
	// unless it equals the address).
	Nickname string
	Group    SynGroupRef
}

// SynResult is what a committed SYN-era write left: the owner's list
// version and revision after it, the address of the entry it changed
// (list writes) or the group (group writes).
type SynResult struct {
	ListVersion int64
	Revision    int64
	Address     string
	Group       *models.Group
}

// result reads the owner's version and revision as Bump left them.
func (t *Txn) synResult(ownerID int64) *SynResult {
	a := t.locked[ownerID]
	return &SynResult{ListVersion: a.ListVersion, Revision: a.Revision}
}

// nextSynGroupID is one more than the highest SYN id ownerID's groups have
// or had (tombstones included, so an id is not reused while a client may
// still hold it). The owner must be locked (Bump) in t.
func (t *Txn) nextSynGroupID(ownerID int64) (int, error) {
	var max int
	err := t.DB.Model(&models.Group{}).Where("owner_id = ?", ownerID).Select("COALESCE(MAX(syn_id), 0)").Scan(&max).Error
	return max + 1, err
}

// clearGroupZero drops contact id's explicit group-0 membership.
func (t *Txn) clearGroupZero(contactID int64) error {
	return t.DB.Exec("DELETE FROM syn_group_zero WHERE contact_id = ?", contactID).Error
}

// clearGroupZeroIfUngrouped drops contact id's group-0 mark when it is in
// no group any more (then it is in group 0 anyway, and a later group must
// not bring the old mark back).
func (t *Txn) clearGroupZeroIfUngrouped(contactID int64) error {
	return t.DB.Exec(`DELETE FROM syn_group_zero WHERE contact_id = ?
		AND NOT EXISTS (SELECT 1 FROM contact_groups WHERE contact_id = ?)`, contactID, contactID).Error
}

// SynGroupZero returns the ids of ownerID's contacts put in group 0 by an
// MSNP8–9 ADD while also in other groups (see ListEntry.SynGroups).
func (s *Store) SynGroupZero(ctx context.Context, ownerID int64) (map[int64]bool, error) {
	var ids []int64
	if err := s.DB.WithContext(ctx).Raw(`SELECT z.contact_id FROM syn_group_zero z JOIN contacts c ON c.id = z.contact_id
		WHERE c.owner_id = ? AND NOT c.deleted`, ownerID).Scan(&ids).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// synGroup finds owner's live group named by ref (CodeGroupDoesNotExist for
// an unknown one, another owner's included; CodeGroupZero for id 0).
func (t *Txn) synGroup(ownerID int64, ref SynGroupRef) (*models.Group, error) {
	if !ref.Integer {
		return t.liveGroup(ownerID, ref.GUID)
	}
	if ref.ID == 0 {
		return nil, models.Errorf(models.CodeGroupZero, "group 0 is not a stored group")
	}
	var g models.Group
	res := t.DB.Where("owner_id = ? AND syn_id = ? AND NOT deleted", ownerID, ref.ID).Limit(1).Find(&g)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeGroupDoesNotExist, "group %d does not exist", ref.ID)
	}
	return &g, nil
}

// synGroups returns the ids of the groups contact c is in, and whether it
// is in group 0 as well (syn_group_zero).
func (t *Txn) synGroups(c *models.Contact) (groups []int64, zero bool, err error) {
	if err := t.DB.Model(&models.ContactGroup{}).Where("contact_id = ?", c.ID).Pluck("group_id", &groups).Error; err != nil {
		return nil, false, err
	}
	var n int64
	if err := t.DB.Raw("SELECT COUNT(*) FROM syn_group_zero WHERE contact_id = ?", c.ID).Scan(&n).Error; err != nil {
		return nil, false, err
	}
	return groups, n > 0, nil
}

// flContact finds owner's live Forward List contact by GUID or address
// (CodeContactDoesNotExist when there is none: not on the FL).
func (t *Txn) flContact(ownerID int64, guid, address string) (*models.Contact, error) {
	var c models.Contact
	q := t.DB.Where("owner_id = ? AND NOT deleted AND is_messenger_user AND contact_key <> ?", ownerID, models.MeKey)
	if guid != "" {
		q = q.Where("guid = ?", guid)
	} else {
		q = q.Where("contact_key = ?", "passport:"+address)
	}
	res := q.Limit(1).Find(&c)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		name := guid
		if name == "" {
			name = address
		}
		return nil, models.Errorf(models.CodeContactDoesNotExist, "%s is not on the FL", name)
	}
	return &c, nil
}

// contactAddress is the address an entry is listed under.
func contactAddress(c *models.Contact) string {
	if c.PassportName != "" {
		return strings.ToLower(c.PassportName)
	}
	return strings.ToLower(c.Email)
}

// SynAdd is ADD/ADC: FL is ABContactAdd (without Allow-list management:
// SYN-era clients send ADD AL themselves) or, with a group,
// ABGroupContactAdd; AL/BL is AddMember. Errors: CodeInvalidArgument (RL,
// PL, unknown list, own address), CodeInvalidPassportUser (no such
// account), CodeContactAlreadyExists / CodeMemberAlreadyExists (already
// there), CodeOnOppositeList, CodeGroupDoesNotExist, CodeContactDoesNotExist
// (unknown contact GUID), CodeRequestLimitReached. Nothing changes on error.
func (s *Store) SynAdd(ctx context.Context, ownerID int64, w SynListWrite) (*SynResult, error) {
	switch w.List {
	case ListFL:
		return s.synAddFL(ctx, ownerID, w)
	case ListAL, ListBL:
		return s.synMember(ctx, ownerID, w, true)
	}
	return nil, models.Errorf(models.CodeInvalidArgument, "a client cannot add to the %s list", w.List)
}

// SynRemove is REM: FL without a group is ABContactDelete; with a GUID
// group ABGroupContactDelete; with an integer group the same, and
// ABContactDelete when it was the contact's last group (0 included).
// AL/BL/PL is DeleteMember. Errors: CodeInvalidArgument (RL, unknown list),
// CodeContactDoesNotExist / CodeMemberDoesNotExist (not on that list),
// CodeGroupDoesNotExist, CodeNotInGroup. Nothing changes on error.
func (s *Store) SynRemove(ctx context.Context, ownerID int64, w SynListWrite) (*SynResult, error) {
	switch w.List {
	case ListFL:
		return s.synRemoveFL(ctx, ownerID, w)
	case ListAL, ListBL, ListPL:
		return s.synMember(ctx, ownerID, w, false)
	}
	return nil, models.Errorf(models.CodeInvalidArgument, "a client cannot remove from the %s list", w.List)
}

func (s *Store) synAddFL(ctx context.Context, ownerID int64, w SynListWrite) (*SynResult, error) {
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		var (
			c       *models.Contact
			created bool
		)
		if w.ContactGUID != "" {
			if _, err := t.lockWithContacts(ownerID, []string{w.ContactGUID}); err != nil {
				return err
			}
			var err error
			if c, err = t.flContact(ownerID, w.ContactGUID, ""); err != nil {
				return err
			}
		} else {
			nc := models.NewContact{PassportName: w.Address, IsMessengerUser: true}
			if w.Nickname != "" && !strings.EqualFold(w.Nickname, w.Address) {
				nc.DisplayName = w.Nickname
			}
			owner, targets, err := t.lockForAdd(ownerID, []models.NewContact{nc})
			if err != nil {
				return err
			}
			if c, err = t.flContact(ownerID, "", w.Address); err != nil {
				if models.ErrorCode(err) != models.CodeContactDoesNotExist {
					return err
				}
				// ABContactAdd: create, revive or upgrade an e-mail entry.
				if c, _, err = t.addContact(owner, &nc, targets[0], false, false); err != nil {
					return err
				}
				created = true
				if err := t.clearGroupZero(c.ID); err != nil {
					return err
				}
			}
		}
		op := "contact.added"
		if !created && !w.Group.Given {
			return &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", ConflictID: c.GUID}
		}
		if w.Group.Given && !(created && w.Group.Integer && w.Group.ID == 0) {
			if err := t.synLink(ownerID, c, w.Group, created); err != nil {
				return err
			}
			op = "group.contact.added"
		}
		if err := t.emitBookChanged(ownerID, op); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Address = contactAddress(c)
		return nil
	})
	return out, err
}

// synLink puts FL contact c into the group ref names (ABGroupContactAdd of
// an existing contact). In the integer form group 0 is a set member: a
// contact in no group is in 0, and stays in it when put in another group
// (MSNP8–9 clients move a buddy with ADD <new> then REM <old>). created
// says c was just added (it is then in the named group only).
func (t *Txn) synLink(ownerID int64, c *models.Contact, ref SynGroupRef, created bool) error {
	groups, zero, err := t.synGroups(c)
	if err != nil {
		return err
	}
	inZero := len(groups) == 0 || zero
	if ref.Integer && ref.ID == 0 {
		if inZero {
			return &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", ConflictID: c.GUID}
		}
		if err := t.DB.Exec("INSERT INTO syn_group_zero (contact_id) VALUES (?)", c.ID).Error; err != nil {
			return err
		}
		return t.touchContact(c.ID, ownerID)
	}
	g, err := t.synGroup(ownerID, ref)
	if err != nil {
		return err
	}
	for _, id := range groups {
		if id == g.ID {
			return &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", ConflictID: c.GUID}
		}
	}
	if ref.Integer && !created && len(groups) == 0 && !zero {
		if err := t.DB.Exec("INSERT INTO syn_group_zero (contact_id) VALUES (?)", c.ID).Error; err != nil {
			return err
		}
	}
	if err := t.DB.Create(&models.ContactGroup{ContactID: c.ID, GroupID: g.ID}).Error; err != nil {
		return err
	}
	return t.touchContact(c.ID, ownerID)
}

func (s *Store) synRemoveFL(ctx context.Context, ownerID int64, w SynListWrite) (*SynResult, error) {
	guid := w.ContactGUID
	if guid == "" {
		// Which contact (and so which account to lock) is read before
		// the lock; the contact is read again under it.
		var c models.Contact
		res := s.DB.WithContext(ctx).Where("owner_id = ? AND contact_key = ? AND NOT deleted AND is_messenger_user", ownerID, "passport:"+w.Address).Limit(1).Find(&c)
		if res.Error != nil {
			return nil, translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return nil, models.Errorf(models.CodeContactDoesNotExist, "%s is not on the FL", w.Address)
		}
		guid = c.GUID
	}
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		owner, err := t.lockWithContacts(ownerID, []string{guid})
		if err != nil {
			return err
		}
		c, err := t.flContact(ownerID, guid, "")
		if err != nil {
			return err
		}
		op, err := t.synUnlink(owner, c, w.Group)
		if err != nil {
			return err
		}
		if err := t.emitBookChanged(ownerID, op); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Address = contactAddress(c)
		return nil
	})
	return out, err
}

// synUnlink takes FL contact c off the FL (no group) or out of the group
// ref names, and returns the addressbook.changed op of what it did.
func (t *Txn) synUnlink(owner *models.Account, c *models.Contact, ref SynGroupRef) (string, error) {
	if !ref.Given {
		return "contact.deleted", t.deleteContact(owner, c)
	}
	groups, zero, err := t.synGroups(c)
	if err != nil {
		return "", err
	}
	notIn := models.Errorf(models.CodeNotInGroup, "contact %s is not in that group", c.GUID)
	if ref.Integer && ref.ID == 0 {
		switch {
		case len(groups) == 0:
			return "contact.deleted", t.deleteContact(owner, c) // its last group
		case !zero:
			return "", notIn
		}
		if err := t.clearGroupZero(c.ID); err != nil {
			return "", err
		}
		return "group.contact.deleted", t.touchContact(c.ID, owner.ID)
	}
	g, err := t.synGroup(owner.ID, ref)
	if err != nil {
		return "", err
	}
	idx := -1
	for i, id := range groups {
		if id == g.ID {
			idx = i
		}
	}
	if idx < 0 {
		return "", notIn
	}
	if ref.Integer && len(groups) == 1 && !zero {
		return "contact.deleted", t.deleteContact(owner, c) // its last group
	}
	if err := t.DB.Exec("DELETE FROM contact_groups WHERE contact_id = ? AND group_id = ?", c.ID, g.ID).Error; err != nil {
		return "", err
	}
	// Only in group 0 now: the plain "no group" state.
	if err := t.clearGroupZeroIfUngrouped(c.ID); err != nil {
		return "", err
	}
	return "group.contact.deleted", t.touchContact(c.ID, owner.ID)
}

// synMember is ADD AL/BL (AddMember) and REM AL/BL/PL (DeleteMember) of
// one Passport address, through the Sharing service's applier.
func (s *Store) synMember(ctx context.Context, ownerID int64, w SynListWrite, add bool) (*SynResult, error) {
	role := map[string]string{ListAL: models.RoleAllow, ListBL: models.RoleBlock, ListPL: models.RolePending}[w.List]
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		a := &memberApplier{t: t, owner: ownerID, max: s.Limits.MaxMembers, accounts: map[string]*models.Account{}}
		spec := models.MemberSpec{Role: role, Type: models.MemberPassport, Name: w.Address}
		ref, err := a.resolve(spec, add)
		if err != nil {
			return err
		}
		var n int
		if add {
			other := models.RoleBlock
			if role == models.RoleBlock {
				other = models.RoleAllow
			}
			// The SYN-era rule (error 219): a client takes an address off
			// one of AL/BL before putting it on the other.
			on, err := t.HasMember(ownerID, other, ref)
			if err != nil {
				return err
			}
			if on {
				return models.Errorf(models.CodeOnOppositeList, "%s is on the opposite list", w.Address)
			}
			n, err = a.add(spec, ref)
			if err != nil {
				return err
			}
			if n == 0 {
				return models.Errorf(models.CodeMemberAlreadyExists, "member %s is already on the %s list", w.Address, role)
			}
		} else {
			if n, err = a.remove(spec, ref); err != nil {
				return err
			}
			if n == 0 {
				return models.Errorf(models.CodeMemberDoesNotExist, "member %s is not on the %s list", w.Address, role)
			}
		}
		if err := a.emit(); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Address = w.Address
		return nil
	})
	return out, err
}

// SynAddGroup is ADG (ABGroupAdd). Errors as AddGroup.
func (s *Store) SynAddGroup(ctx context.Context, ownerID int64, name string) (*SynResult, error) {
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		g, err := t.addGroup(ownerID, models.NewGroup{Name: name})
		if err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Group = g
		return nil
	})
	return out, err
}

// SynRemoveGroup is RMG (ABGroupDelete: its contacts stay on the FL, those
// left in no group are in group 0). Errors: CodeGroupDoesNotExist,
// CodeGroupZero.
func (s *Store) SynRemoveGroup(ctx context.Context, ownerID int64, ref SynGroupRef) (*SynResult, error) {
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		g, err := t.synGroup(ownerID, ref)
		if err != nil {
			return err
		}
		if err := t.deleteGroup(ownerID, g); err != nil {
			return err
		}
		if err := t.emitBookChanged(ownerID, "group.deleted"); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Group = g
		return nil
	})
	return out, err
}

// SynRenameGroup is REG (ABGroupUpdate GroupName). Errors as UpdateGroups
// plus CodeGroupZero.
func (s *Store) SynRenameGroup(ctx context.Context, ownerID int64, ref SynGroupRef, name string) (*SynResult, error) {
	if err := checkGroupName(name); err != nil {
		return nil, err
	}
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		g, err := t.synGroup(ownerID, ref)
		if err != nil {
			return err
		}
		if err := t.updateGroup(ownerID, g, models.GroupChange{GUID: g.GUID, Name: &name}); err != nil {
			return err
		}
		if err := t.emitBookChanged(ownerID, "group.updated"); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Group = g
		return nil
	})
	return out, err
}

// SynSetContactName is SBP <guid> MFN and REA of another contact:
// ABContactUpdate DisplayName of the FL contact named by GUID or address.
// Errors: CodeBadRequest (empty, over-long or multi-line name),
// CodeContactDoesNotExist (not on the FL).
func (s *Store) SynSetContactName(ctx context.Context, ownerID int64, guid, address, name string) (*SynResult, error) {
	if err := checkDisplayName(name); err != nil {
		return nil, err
	}
	var out *SynResult
	err := s.Write(ctx, func(t *Txn) error {
		c, err := t.flContact(ownerID, guid, address)
		if err != nil {
			return err
		}
		if err := t.updateContacts(ownerID, nil, []models.ContactChange{{GUID: c.GUID, DisplayName: &name}}, false); err != nil {
			return err
		}
		out = t.synResult(ownerID)
		out.Address = contactAddress(c)
		return nil
	})
	return out, err
}
