package store

import (
	"github.com/abch-im/abch/models"
)

// MemberRef names a member of one of an owner's lists.
type MemberRef struct {
	Type      string // models.MemberPassport, MemberEmail, MemberPhone
	Name      string // lower-cased address or phone number
	AccountID *int64 // the member's account, for Passport members that exist
	CID       int64
}

// PutMember puts ref on owner's role list (reviving a tombstone, keeping its
// MembershipId) and returns the row and whether it was newly added (false:
// it was already there, nothing changed). The owner must have been bumped
// in t. displayName and invite are stored when non-empty (Pending/Reverse
// entries carry the inviter's name and message, PROTOCOL.md §3.2).
func (t *Txn) PutMember(ownerID int64, role string, ref MemberRef, displayName, invite string, annotations []models.Annotation) (*models.Membership, bool, error) {
	rev := t.mustRev(ownerID)
	var m models.Membership
	res := t.DB.Where("owner_id = ? AND role = ? AND member_type = ? AND member_name = ?", ownerID, role, ref.Type, ref.Name).Limit(1).Find(&m)
	if res.Error != nil {
		return nil, false, res.Error
	}
	annJSON := models.EncodeAnnotations(annotations)
	if res.RowsAffected > 0 && !m.Deleted {
		return &m, false, nil
	}
	if res.RowsAffected > 0 {
		m.Deleted = false
		m.MemberAccountID = ref.AccountID
		m.CID = ref.CID
		m.DisplayName = displayName
		m.InviteMessage = invite
		m.Annotations = annJSON
		m.State = "Accepted"
		m.JoinedAt = t.Now
		m.Rev = rev
		m.UpdatedAt = t.Now
		return &m, true, t.DB.Save(&m).Error
	}
	m = models.Membership{
		OwnerID: ownerID, Role: role, MemberType: ref.Type, MemberName: ref.Name, MemberAccountID: ref.AccountID,
		CID: ref.CID, DisplayName: displayName, InviteMessage: invite, Annotations: annJSON, State: "Accepted",
		JoinedAt: t.Now, Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now,
	}
	return &m, true, t.DB.Create(&m).Error
}

// RemoveMember tombstones ref on owner's role list. It reports false when
// the member was not there. The owner must have been bumped in t.
func (t *Txn) RemoveMember(ownerID int64, role string, ref MemberRef) (bool, error) {
	rev := t.mustRev(ownerID)
	res := t.DB.Model(&models.Membership{}).
		Where("owner_id = ? AND role = ? AND member_type = ? AND member_name = ? AND NOT deleted", ownerID, role, ref.Type, ref.Name).
		Updates(map[string]any{"deleted": true, "rev": rev, "updated_at": t.Now})
	return res.RowsAffected > 0, res.Error
}

// HasMember reports whether ref is (not deleted) on owner's role list.
func (t *Txn) HasMember(ownerID int64, role string, ref MemberRef) (bool, error) {
	var n int64
	err := t.DB.Model(&models.Membership{}).
		Where("owner_id = ? AND role = ? AND member_type = ? AND member_name = ? AND NOT deleted", ownerID, role, ref.Type, ref.Name).
		Count(&n).Error
	return n > 0, err
}

func (t *Txn) mustRev(ownerID int64) int64 {
	rev := t.revs[ownerID]
	if rev == 0 {
		panic("store: change to account without Bump in this transaction")
	}
	return rev
}

// PassportRef is the MemberRef of an account.
func PassportRef(a *models.Account) MemberRef {
	id := a.ID
	return MemberRef{Type: models.MemberPassport, Name: a.EmailLower, AccountID: &id, CID: a.CID}
}
