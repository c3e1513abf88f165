package store

import (
	"context"
	"fmt"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/models"
)

// roleOrder ranks roles for FindMembership.
var roleOrder = map[string]int{models.RoleAllow: 0, models.RoleBlock: 1, models.RoleReverse: 2, models.RolePending: 3}

// MembershipSet is an owner's memberships as of one revision of the owner's
// book: every live row for a full sync, or every row changed after the
// cursor (tombstones included) for a delta.
type MembershipSet struct {
	Account models.Account
	// Revision is the owner's revision the set is consistent with; it is
	// the LastChange cursor to hand out.
	Revision int64
	// Since is the cursor of a delta (0 for a full set).
	Since int64
	// Members are ordered by role (Allow, Block, Reverse, Pending), then
	// MembershipId.
	Members []models.Membership
}

// Memberships returns owner's memberships: all live ones when sinceRev is 0,
// else the ones changed after sinceRev, deleted ones as tombstones. A cursor
// the book cannot serve — beyond its current revision, older than its
// tombstone horizon (pruned_revision) or older than the book itself — is
// CodeFullSyncRequired (docs/DESIGN.md "Revisions and delta sync").
//
// The account row is read first and rows are limited to rev <= its
// revision: every row with such a rev was committed together with that
// revision (revisions are allocated under the account row lock), so the set
// is exactly the state at Revision, without a read transaction (which on the
// embedded database would take the write lock).
func (s *Store) Memberships(ctx context.Context, ownerID, sinceRev int64) (*MembershipSet, error) {
	acct, err := s.AccountByID(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	set := &MembershipSet{Account: *acct, Revision: acct.Revision, Since: sinceRev}
	if sinceRev != 0 {
		created := models.RevisionAt(acct.CreatedAt.UTC())
		switch {
		case sinceRev > acct.Revision:
			return nil, models.Errorf(models.CodeFullSyncRequired, "cursor %s is not from this address book", models.FormatRevision(sinceRev))
		case sinceRev < acct.PrunedRevision:
			return nil, models.Errorf(models.CodeFullSyncRequired, "cursor %s is older than the tombstone horizon", models.FormatRevision(sinceRev))
		case sinceRev < created-models.TicksPerSecond:
			// One second of slack: created_at may be stored with less
			// precision than the first revision.
			return nil, models.Errorf(models.CodeFullSyncRequired, "cursor %s predates the address book", models.FormatRevision(sinceRev))
		}
		if sinceRev == acct.Revision {
			return set, nil
		}
	}
	q := s.DB.WithContext(ctx).Where("owner_id = ? AND role IN ? AND rev <= ?", ownerID, models.MembershipRoles, acct.Revision)
	if sinceRev == 0 {
		q = q.Where("NOT deleted")
	} else {
		q = q.Where("rev > ?", sinceRev)
	}
	if err := q.Order("id").Find(&set.Members).Error; err != nil {
		return nil, translate(err)
	}
	if err := s.fillInviterNames(ctx, set.Members); err != nil {
		return nil, err
	}
	sortMembers(set.Members)
	return set, nil
}

// fillInviterNames gives Reverse/Pending rows stored without a display name
// the inviter's current one: clients show it in the "X added you" dialog
// (PROTOCOL.md §3.2), and a row written without it (an import, an older
// writer) should still name the person.
func (s *Store) fillInviterNames(ctx context.Context, list []models.Membership) error {
	var ids []int64
	for _, m := range list {
		if m.DisplayName == "" && m.MemberAccountID != nil && (m.Role == models.RoleReverse || m.Role == models.RolePending) {
			ids = append(ids, *m.MemberAccountID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID          int64
		DisplayName string
	}
	if err := s.DB.WithContext(ctx).Model(&models.Account{}).Select("id, display_name").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return translate(err)
	}
	names := make(map[int64]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.DisplayName
	}
	for i := range list {
		m := &list[i]
		if m.DisplayName == "" && m.MemberAccountID != nil && (m.Role == models.RoleReverse || m.Role == models.RolePending) {
			m.DisplayName = names[*m.MemberAccountID]
		}
	}
	return nil
}

// sortMembers orders rows by role rank, keeping the id order within a role.
func sortMembers(list []models.Membership) {
	// Insertion into four buckets keeps it O(n) and stable.
	var buckets [4][]models.Membership
	for _, m := range list {
		buckets[roleOrder[m.Role]] = append(buckets[roleOrder[m.Role]], m)
	}
	list = list[:0]
	for _, b := range buckets {
		list = append(list, b...)
	}
}

// ListBits returns, for every member of owner's Allow/Block/Reverse/Pending
// lists, the MSNP list bits (listbits.AL|ListBL|ListRL|ListPL) keyed by
// "<type>:<name>" (for example "Passport:bob@example.com"). The NS pairing
// and the MSNP ≤ 12 import read the old AL/BL/RL/PL lists from it.
func (s *Store) ListBits(ctx context.Context, ownerID int64) (map[string]int, error) {
	var rows []struct {
		Role       string
		MemberType string
		MemberName string
	}
	err := s.DB.WithContext(ctx).Model(&models.Membership{}).Select("role, member_type, member_name").
		Where("owner_id = ? AND role IN ? AND NOT deleted", ownerID, models.MembershipRoles).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[fmt.Sprintf("%s:%s", r.MemberType, r.MemberName)] |= listbits.RoleBit(r.Role)
	}
	return out, nil
}
