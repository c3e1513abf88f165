package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/models"
)

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
	// MembershipId (roleRank).
	Members []models.Membership
}

// Memberships returns owner's memberships: all live ones when sinceRev is 0,
// else the ones changed after sinceRev, deleted ones as tombstones. A cursor
// the book cannot serve — beyond its current revision, older than its
// tombstone horizon (pruned_revision) or older than the book itself — is
// CodeFullSyncRequired (docs/DESIGN.md "Revisions and delta sync").
//
// The account row and the rows are read in one read-only snapshot without
// GORM (rawread.go; on Postgres one pipelined round trip), so the set is
// exactly the state at Revision. A Reverse or Pending row stored without a
// display name gets the inviter's current one in the same query: clients
// show it in the "X added you" dialog (PROTOCOL.md §3.2), and a row written
// without it (an import, an older writer) should still name the person.
func (s *Store) Memberships(ctx context.Context, ownerID, sinceRev int64) (*MembershipSet, error) {
	return s.MembershipsChecked(ctx, ownerID, sinceRev, nil)
}

// MembershipsChecked is Memberships handing the owner's account row, read
// in the same snapshot, to check first, for a caller whose ticket
// signature is verified but whose account state is not (as LoadDelta):
// check's error is returned as is (a nil account: there is no such row),
// and nothing read is returned unless check passes.
func (s *Store) MembershipsChecked(ctx context.Context, ownerID, sinceRev int64, check AccountCheck) (*MembershipSet, error) {
	acc, err := s.columnsOf(&models.Account{})
	if err != nil {
		return nil, err
	}
	mem, err := s.columnsOf(&models.Membership{})
	if err != nil {
		return nil, err
	}
	set := &MembershipSet{Since: sinceRev}
	found := false
	var m models.Membership
	var inviter string
	cond := "NOT m.deleted"
	args := []any{ownerID}
	if sinceRev != 0 {
		cond, args = "m.rev > $2", append(args, sinceRev)
	}
	roles := `m.role IN ('` + strings.Join(models.MembershipRoles, "', '") + `')`
	var count int64
	err = s.rawRead(ctx,
		rawQuery{
			cols: acc.list(""), rest: `FROM accounts WHERE id = $1`, args: []any{ownerID},
			targets: acc.targets(&set.Account), row: func() error { found = true; return nil },
		},
		s.countFirst(`FROM memberships m WHERE m.owner_id = $1 AND `+roles+` AND `+cond, args, &count, func() { set.Members = make([]models.Membership, 0, count) }),
		rawQuery{
			// The inviter's name as a subquery the rows that need it run
			// (a join let Postgres hash the whole accounts table).
			cols: mem.list("m") + `, CASE WHEN m.display_name = '' AND m.member_account_id IS NOT NULL AND m.role IN ('` +
				models.RoleReverse + `', '` + models.RolePending + `') THEN COALESCE((SELECT a.display_name FROM accounts a WHERE a.id = m.member_account_id), '') ELSE '' END`,
			rest: `FROM memberships m WHERE m.owner_id = $1 AND ` + roles + ` AND ` + cond + ` ORDER BY ` + roleRank + `, m.id`,
			args: args, targets: append(mem.targets(&m), &inviter),
			row: func() error {
				if inviter != "" {
					m.DisplayName = inviter
				}
				set.Members = append(set.Members, m)
				return nil
			},
		},
	)
	if err != nil {
		return nil, translate(err)
	}
	if check != nil {
		owner := &set.Account
		if !found {
			owner = nil
		}
		if err := check(owner); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, models.Errorf(models.CodeNotFound, "no account %d", ownerID)
	}
	acct := &set.Account
	set.Revision = acct.Revision
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
			set.Members = nil
			return set, nil
		}
	}
	return set, nil
}

// roleRank orders rows by role in SQL as FindMembership lists them: Allow,
// Block, Reverse, Pending (sorting 450 wide rows in Go, bucket by bucket,
// cost as much as reading them).
var roleRank = "CASE m.role WHEN '" + models.RoleAllow + "' THEN 0 WHEN '" + models.RoleBlock + "' THEN 1 WHEN '" +
	models.RoleReverse + "' THEN 2 ELSE 3 END"

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
