package store

import (
	"context"
	"errors"
	"strconv"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// MemberChange is one list change AddMembers/DeleteMembers made.
type MemberChange struct {
	Role  string
	Added bool // false: removed
	Ref   MemberRef
}

// MemberResult reports what a committed AddMembers/DeleteMembers did.
type MemberResult struct {
	Changes []MemberChange
	// Revision is the owner's revision after the change (0 when nothing
	// changed and nothing was written).
	Revision int64
}

// errNoChange rolls back a transaction that changed nothing, so a no-op
// request does not bump the revision.
var errNoChange = errors.New("store: no change")

// AddMembers puts members on owner's lists in one transaction, all or
// nothing (docs/sharing.md):
//
//   - Allow/Block: the member is added; it is taken off the other of the two
//     (they exclude each other) and off Pending (allowing or blocking an
//     inviter resolves the invitation, PROTOCOL.md §3.3).
//   - Reverse/Pending are kept by the server from the other side's address
//     book (X on my Reverse ⇔ I am on X's FL); clients still send AddMember
//     Reverse when accepting (purple, BitlBee), so it is accepted and
//     changes nothing.
//
// A member already on the list is skipped; when the request changed nothing
// and at least one member was already there, the error is
// CodeMemberAlreadyExists (clients treat it as success). An unknown
// MembershipId (another user's included) is CodeMemberDoesNotExist, an
// unknown CID CodeUserDoesNotExist, a full list CodeRequestLimitReached; each fails
// the whole request.
func (s *Store) AddMembers(ctx context.Context, ownerID int64, specs []models.MemberSpec) (*MemberResult, error) {
	return s.applyMembers(ctx, ownerID, specs, true)
}

// DeleteMembers takes members off owner's Allow, Block or Pending lists in
// one transaction, all or nothing. DeleteMember Pending is the owner
// accepting or declining an invitation and never touches Reverse.
// DeleteMember Reverse changes nothing (Reverse follows the other side's
// address book), and neither does DeleteMember Pending of a member no
// longer pending (see countsAsUnchanged). When nothing changed and at least
// one Allow/Block member was not on its list the error is
// CodeMemberDoesNotExist; unknown MembershipIds and CIDs fail the whole
// request with CodeMemberDoesNotExist.
func (s *Store) DeleteMembers(ctx context.Context, ownerID int64, specs []models.MemberSpec) (*MemberResult, error) {
	return s.applyMembers(ctx, ownerID, specs, false)
}

func (s *Store) applyMembers(ctx context.Context, ownerID int64, specs []models.MemberSpec, add bool) (*MemberResult, error) {
	var res *MemberResult
	err := s.Write(ctx, func(t *Txn) error {
		res = &MemberResult{}
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		a := &memberApplier{t: t, owner: ownerID, max: s.Limits.MaxMembers, accounts: map[string]*models.Account{}}
		unchanged, firstUnchanged := 0, ""
		for _, spec := range specs {
			ref, err := a.resolve(spec, add)
			if err != nil {
				return err
			}
			var n int
			if add {
				n, err = a.add(spec, ref)
			} else {
				n, err = a.remove(spec, ref)
			}
			if err != nil {
				return err
			}
			if n == 0 && countsAsUnchanged(spec.Role) {
				if unchanged == 0 {
					firstUnchanged = spec.Label()
				}
				unchanged++
			}
		}
		if len(a.changes) == 0 {
			if unchanged > 0 && add {
				return models.Errorf(models.CodeMemberAlreadyExists, "member %s is already on the %s list", firstUnchanged, listOf(specs, firstUnchanged))
			}
			if unchanged > 0 {
				return models.Errorf(models.CodeMemberDoesNotExist, "member %s is not on the %s list", firstUnchanged, listOf(specs, firstUnchanged))
			}
			return errNoChange
		}
		if err := a.emit(); err != nil {
			return err
		}
		res.Changes = a.changes
		res.Revision = t.Rev(ownerID)
		return nil
	})
	if errors.Is(err, errNoChange) {
		return &MemberResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// countsAsUnchanged reports whether a member that changed nothing makes
// the request fault (MemberAlreadyExists / MemberDoesNotExist). Reverse and
// AddMember Pending are server-kept no-ops. DeleteMember Pending of a member
// no longer pending succeeds: AddMember Allow/Block already resolved the
// invitation, and every client's accept/decline flow follows it with
// DeleteMember Pending (PROTOCOL.md §3.3) — emesene would report any fault
// as a failure.
func countsAsUnchanged(role string) bool {
	return role == models.RoleAllow || role == models.RoleBlock
}

// listOf returns the role of the first spec labelled label.
func listOf(specs []models.MemberSpec, label string) string {
	for _, s := range specs {
		if s.Label() == label {
			return s.Role
		}
	}
	return ""
}

// memberApplier carries one AddMembers/DeleteMembers transaction.
type memberApplier struct {
	t        *Txn
	owner    int64
	max      int
	accounts map[string]*models.Account // by email_lower / "cid:N" / "id:N"; nil = none
	changes  []MemberChange
}

// resolve turns a spec into the member's identity.
func (a *memberApplier) resolve(spec models.MemberSpec, add bool) (MemberRef, error) {
	switch {
	case spec.MembershipID > 0:
		// Only the owner's own rows (tombstones too: the identity is still
		// known) resolve; another user's id is as unknown as a made-up one.
		var m models.Membership
		res := a.t.DB.Where("id = ? AND owner_id = ?", spec.MembershipID, a.owner).Limit(1).Find(&m)
		if res.Error != nil {
			return MemberRef{}, res.Error
		}
		if res.RowsAffected == 0 {
			return MemberRef{}, models.Errorf(models.CodeMemberDoesNotExist, "MembershipId %d does not exist", spec.MembershipID)
		}
		return MemberRef{Type: m.MemberType, Name: m.MemberName, AccountID: m.MemberAccountID, CID: m.CID}, nil
	case spec.Name != "":
		if spec.Type != models.MemberPassport {
			return MemberRef{Type: spec.Type, Name: spec.Name}, nil
		}
		acct, err := a.account("email_lower = ?", spec.Name, spec.Name)
		if err != nil {
			return MemberRef{}, err
		}
		if acct == nil {
			// Clients block addresses that may not exist here (or not yet):
			// stored as a Passport member without an account.
			return MemberRef{Type: models.MemberPassport, Name: spec.Name}, nil
		}
		return PassportRef(acct), nil
	default:
		var m models.Membership
		res := a.t.DB.Where("owner_id = ? AND cid = ?", a.owner, spec.CID).Order("id").Limit(1).Find(&m)
		if res.Error != nil {
			return MemberRef{}, res.Error
		}
		if res.RowsAffected > 0 {
			return MemberRef{Type: m.MemberType, Name: m.MemberName, AccountID: m.MemberAccountID, CID: m.CID}, nil
		}
		acct, err := a.account("cid = ?", spec.CID, "cid:"+strconv.FormatInt(spec.CID, 10))
		if err != nil {
			return MemberRef{}, err
		}
		if acct == nil {
			if add {
				return MemberRef{}, models.Errorf(models.CodeUserDoesNotExist, "no user with CID %d", spec.CID)
			}
			return MemberRef{}, models.Errorf(models.CodeMemberDoesNotExist, "no member with CID %d", spec.CID)
		}
		return PassportRef(acct), nil
	}
}

func (a *memberApplier) account(where string, arg any, key string) (*models.Account, error) {
	if acct, ok := a.accounts[key]; ok {
		return acct, nil
	}
	var acct models.Account
	res := a.t.DB.Where(where, arg).Limit(1).Find(&acct)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		a.accounts[key] = nil
		return nil, nil
	}
	a.accounts[key] = &acct
	return &acct, nil
}

// add applies one AddMember member and returns how many list changes it made.
func (a *memberApplier) add(spec models.MemberSpec, ref MemberRef) (int, error) {
	if spec.Role != models.RoleAllow && spec.Role != models.RoleBlock {
		return 0, nil // Reverse/Pending: server-kept, see AddMembers
	}
	changes, err := a.t.putListMember(a.owner, spec.Role, ref, "", spec.Annotations, a.max)
	a.changes = append(a.changes, changes...)
	return len(changes), err
}

// putListMember is the rule of AddMember Allow/Block for one member, shared
// by the Sharing service and ABContactAdd's allow-list management: ref is
// put on owner's role list (unless there already; max > 0 bounds the list;
// a new entry stores displayName) and taken off the other of Allow/Block
// and off Pending (allowing or blocking an inviter resolves the
// invitation, PROTOCOL.md §3.3). It returns the changes made, for
// emitMemberChanges. The owner must have been bumped in t.
func (t *Txn) putListMember(ownerID int64, role string, ref MemberRef, displayName string, annotations []models.Annotation, max int) ([]MemberChange, error) {
	var changes []MemberChange
	has, err := t.HasMember(ownerID, role, ref)
	if err != nil {
		return nil, err
	}
	if !has {
		if max > 0 {
			var n int64
			if err := t.DB.Model(&models.Membership{}).Where("owner_id = ? AND role = ? AND NOT deleted", ownerID, role).Count(&n).Error; err != nil {
				return nil, err
			}
			if n >= int64(max) {
				return nil, models.Errorf(models.CodeRequestLimitReached, "the %s list is full (%d members)", role, max)
			}
		}
		if _, _, err := t.PutMember(ownerID, role, ref, displayName, "", annotations); err != nil {
			return nil, err
		}
		changes = append(changes, MemberChange{Role: role, Added: true, Ref: ref})
	}
	other := models.RoleBlock
	if role == models.RoleBlock {
		other = models.RoleAllow
	}
	for _, r := range []string{other, models.RolePending} {
		removed, err := t.RemoveMember(ownerID, r, ref)
		if err != nil {
			return nil, err
		}
		if removed {
			changes = append(changes, MemberChange{Role: r, Added: false, Ref: ref})
		}
	}
	return changes, nil
}

// remove applies one DeleteMember member.
func (a *memberApplier) remove(spec models.MemberSpec, ref MemberRef) (int, error) {
	if spec.Role == models.RoleReverse {
		return 0, nil // follows the other side's address book
	}
	removed, err := a.t.RemoveMember(a.owner, spec.Role, ref)
	if err != nil || !removed {
		return 0, err
	}
	a.changes = append(a.changes, MemberChange{Role: spec.Role, Added: false, Ref: ref})
	return 1, nil
}

// emit writes the events of the request's changes (emitMemberChanges).
func (a *memberApplier) emit() error {
	owner, err := a.t.account(a.owner)
	if err != nil {
		return err
	}
	return a.t.emitMemberChanges(owner, a.changes)
}

// emitMemberChanges writes the events of list changes made by owner:
// membership.changed to the owner for every change, visibility.changed to
// a member with an account whose Allow/Block entry changed (the NS
// re-evaluates what that member sees, §5.4).
func (t *Txn) emitMemberChanges(owner *models.Account, changes []MemberChange) error {
	op := Party(owner)
	memberParties := map[int64]*models.Account{}
	for _, c := range changes {
		opName := events.MembershipOpRemoved
		if c.Added {
			opName = events.MembershipOpAdded
		}
		if err := t.Emit(owner.ID, events.MembershipChanged(op, c.Ref.Name, c.Role, opName)); err != nil {
			return err
		}
		if c.Ref.AccountID == nil || (c.Role != models.RoleAllow && c.Role != models.RoleBlock) {
			continue
		}
		m := memberParties[*c.Ref.AccountID]
		if m == nil {
			m = &models.Account{}
			res := t.DB.Where("id = ?", *c.Ref.AccountID).Limit(1).Find(m)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				continue
			}
			memberParties[m.ID] = m
		}
		if err := t.Emit(m.ID, events.VisibilityChanged(Party(m), op, c.Role, c.Added)); err != nil {
			return err
		}
	}
	return nil
}
