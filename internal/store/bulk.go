package store

import (
	"strings"

	"github.com/abch-im/abch/models"
)

// Bulk operations for the importer, which makes a whole book equal to a
// desired state in one transaction. Each bumps the owner itself (Bump is a
// no-op the second time), so a book whose import changes nothing keeps its
// revision; each stamps what it writes with the owner's new revision.

// setProfile writes account columns acct of ownerID and the columns me of
// its Me contact, whose rev moves with every profile or privacy change
// (DESIGN.md "Model rules": deltas carry the Me contact). It reports
// whether the book has a Me contact.
func (t *Txn) setProfile(ownerID int64, acct, me map[string]any) (bool, error) {
	if err := t.Bump(ownerID); err != nil {
		return false, err
	}
	if len(acct) > 0 {
		acct["updated_at"] = t.Now
		if err := t.DB.Model(&models.Account{}).Where("id = ?", ownerID).Updates(acct).Error; err != nil {
			return false, err
		}
	}
	me["rev"], me["updated_at"] = t.Rev(ownerID), t.Now
	res := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND contact_key = ?", ownerID, models.MeKey).Updates(me)
	return res.RowsAffected > 0, res.Error
}

// SetProfile makes the owner's display name (on the account and the Me
// contact), privacy settings and Me annotations equal to the given ones,
// writing only when one differs. It reports whether it wrote.
func (t *Txn) SetProfile(owner *models.Account, me *models.Contact, displayName, blp, gtc string, meAnnotations string) (bool, error) {
	acct := map[string]any{}
	if owner.DisplayName != displayName {
		acct["display_name"] = displayName
	}
	if owner.BLP != blp {
		acct["blp"] = blp
	}
	if owner.GTC != gtc {
		acct["gtc"] = gtc
	}
	meChanged := me != nil && (me.Annotations != meAnnotations || me.DisplayName != displayName)
	if len(acct) == 0 && !meChanged {
		return false, nil
	}
	_, err := t.setProfile(owner.ID, acct, map[string]any{"display_name": displayName, "quick_name": displayName, "annotations": meAnnotations})
	return true, err
}

// TombstoneGroups deletes groups of ownerID (tombstones kept for deltas)
// with their contact links.
func (t *Txn) TombstoneGroups(ownerID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	if err := t.DB.Model(&models.Group{}).Where("owner_id = ? AND id IN ?", ownerID, ids).
		Updates(map[string]any{"deleted": true, "rev": t.Rev(ownerID), "updated_at": t.Now}).Error; err != nil {
		return err
	}
	return t.DB.Where("group_id IN ?", ids).Delete(&models.ContactGroup{}).Error
}

// RenameGroup sets the name and favourite flag of group id of ownerID.
func (t *Txn) RenameGroup(ownerID, id int64, name string, favorite bool) error {
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	return t.DB.Model(&models.Group{}).Where("owner_id = ? AND id = ?", ownerID, id).Updates(map[string]any{
		"name": name, "name_lower": strings.ToLower(name), "is_favorite": favorite, "rev": t.Rev(ownerID), "updated_at": t.Now,
	}).Error
}

// CreateGroups inserts new groups into ownerID's book, filling in their
// ids. A group keeps its GUID unless the book has (or had) a group with it
// or it is empty: then it gets a new one. fresh says the book was created
// in this transaction, so it has no GUIDs yet.
func (t *Txn) CreateGroups(ownerID int64, rows []models.Group, fresh bool) error {
	if len(rows) == 0 {
		return nil
	}
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	used := map[string]bool{}
	if !fresh {
		var guids []string
		if err := t.DB.Model(&models.Group{}).Where("owner_id = ?", ownerID).Pluck("guid", &guids).Error; err != nil {
			return err
		}
		for _, g := range guids {
			used[strings.ToLower(g)] = true
		}
	}
	synID, err := t.nextSynGroupID(ownerID)
	if err != nil {
		return err
	}
	for i := range rows {
		g := &rows[i]
		g.SynID, synID = synID, synID+1
		if g.GUID == "" || used[strings.ToLower(g.GUID)] {
			g.GUID = t.store.NewGUID()
		}
		used[strings.ToLower(g.GUID)] = true
		g.OwnerID, g.NameLower, g.Rev, g.CreatedAt, g.UpdatedAt = ownerID, strings.ToLower(g.Name), t.Rev(ownerID), t.Now, t.Now
		if g.Annotations == "" {
			g.Annotations = "[]"
		}
	}
	return t.DB.CreateInBatches(rows, 200).Error
}

// CreateContacts inserts new regular contacts into ownerID's book, filling
// in their ids (GUIDs must be set).
func (t *Txn) CreateContacts(ownerID int64, rows []models.Contact) error {
	if len(rows) == 0 {
		return nil
	}
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	for i := range rows {
		c := &rows[i]
		c.OwnerID, c.ContactType, c.Rev, c.CreatedAt, c.UpdatedAt = ownerID, models.ContactTypeRegular, t.Rev(ownerID), t.Now, t.Now
	}
	return t.DB.CreateInBatches(rows, 200).Error
}

// ReviseContact writes c's link, Forward List flag, names, details and
// annotations over its row (c.ID of ownerID), live again if it was a
// tombstone.
func (t *Txn) ReviseContact(ownerID int64, c *models.Contact) error {
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	return t.DB.Model(&models.Contact{}).Where("owner_id = ? AND id = ?", ownerID, c.ID).Updates(map[string]any{
		"deleted": false, "is_messenger_user": c.IsMessengerUser, "display_name": c.DisplayName, "quick_name": c.QuickName,
		"annotations": c.Annotations, "cid": c.CID, "contact_account_id": c.ContactAccountID, "passport_name": c.PassportName,
		"first_name": c.FirstName, "middle_name": c.MiddleName, "last_name": c.LastName, "comment": c.Comment, "birthdate": c.Birthdate,
		"rev": t.Rev(ownerID), "updated_at": t.Now,
	}).Error
}

// TombstoneContacts deletes contacts of ownerID (tombstones kept for
// deltas) and drops their group links. The Me contact is never deleted.
func (t *Txn) TombstoneContacts(ownerID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	if err := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND id IN ? AND contact_key <> ?", ownerID, ids, models.MeKey).
		Updates(map[string]any{"deleted": true, "rev": t.Rev(ownerID), "updated_at": t.Now}).Error; err != nil {
		return err
	}
	return t.DB.Where("contact_id IN ?", ids).Delete(&models.ContactGroup{}).Error
}

// SetContactGroups replaces the group links of the contacts ids with links
// (the caller has changed those contacts' rev).
func (t *Txn) SetContactGroups(ids []int64, links []models.ContactGroup) error {
	if len(ids) > 0 {
		if err := t.DB.Where("contact_id IN ?", ids).Delete(&models.ContactGroup{}).Error; err != nil {
			return err
		}
	}
	if len(links) == 0 {
		return nil
	}
	return t.DB.CreateInBatches(links, 500).Error
}

// ReviseMember sets the display name and the account link of membership
// m of ownerID.
func (t *Txn) ReviseMember(ownerID int64, m *models.Membership, displayName string, ref MemberRef) error {
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	return t.DB.Model(&models.Membership{}).Where("owner_id = ? AND id = ?", ownerID, m.ID).Updates(map[string]any{
		"display_name": displayName, "cid": ref.CID, "member_account_id": ref.AccountID, "rev": t.Rev(ownerID), "updated_at": t.Now,
	}).Error
}

// NewMember is one membership to put on a list.
type NewMember struct {
	Role        string
	Ref         MemberRef
	DisplayName string
}

// PutMembers puts members on ownerID's lists as PutMember does; a book
// that never had a membership row (fresh, or none found) gets them in one
// batch insert. It returns how many were added.
func (t *Txn) PutMembers(ownerID int64, list []NewMember, fresh bool) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	if err := t.Bump(ownerID); err != nil {
		return 0, err
	}
	var n int64
	if !fresh {
		if err := t.DB.Model(&models.Membership{}).Where("owner_id = ?", ownerID).Limit(1).Count(&n).Error; err != nil {
			return 0, err
		}
	}
	if n == 0 {
		rows := make([]models.Membership, 0, len(list))
		for _, m := range list {
			rows = append(rows, models.Membership{
				OwnerID: ownerID, Role: m.Role, MemberType: m.Ref.Type, MemberName: m.Ref.Name, MemberAccountID: m.Ref.AccountID,
				CID: m.Ref.CID, DisplayName: m.DisplayName, Annotations: "[]", State: "Accepted", JoinedAt: t.Now,
				Rev: t.Rev(ownerID), CreatedAt: t.Now, UpdatedAt: t.Now,
			})
		}
		return len(rows), t.DB.CreateInBatches(rows, 500).Error
	}
	added := 0
	for _, m := range list {
		_, ok, err := t.PutMember(ownerID, m.Role, m.Ref, m.DisplayName, "", nil)
		if err != nil {
			return added, err
		}
		if ok {
			added++
		}
	}
	return added, nil
}

// RemoveMembers takes memberships off ownerID's lists (RemoveMember).
func (t *Txn) RemoveMembers(ownerID int64, list []models.Membership) error {
	if len(list) == 0 {
		return nil
	}
	if err := t.Bump(ownerID); err != nil {
		return err
	}
	for _, m := range list {
		if _, err := t.RemoveMember(ownerID, m.Role, MemberRef{Type: m.MemberType, Name: m.MemberName}); err != nil {
			return err
		}
	}
	return nil
}
