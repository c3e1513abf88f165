package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// MaxGroupNameLength is the longest group name accepted, in characters
// (ESC's limit, PROTOCOL.md §2.4, §9).
const MaxGroupNameLength = 61

// checkGroupName validates a group name: not empty, at most 61 characters
// (BadArgumentLength with parameterFault GroupName, which clients map to
// "group name too long").
func checkGroupName(name string) error {
	if strings.TrimSpace(name) == "" {
		return models.Errorf(models.CodeBadRequest, "group name is empty")
	}
	if utf8.RuneCountInString(name) > MaxGroupNameLength {
		return &models.Error{Code: models.CodeBadArgumentLength, Param: "GroupName", Message: "Argument Exceeded Allowed Length GroupName exceeded length"}
	}
	return nil
}

// AddGroup creates a group in ownerID's book and returns its GUID. Errors:
// CodeGroupAlreadyExists (same name in any letter case, ConflictID set),
// CodeBadArgumentLength, CodeRequestLimitReached.
func (s *Store) AddGroup(ctx context.Context, ownerID int64, in models.NewGroup) (string, error) {
	if err := checkGroupName(in.Name); err != nil {
		return "", err
	}
	var guid string
	err := s.Write(ctx, func(t *Txn) error {
		g, err := t.addGroup(ownerID, in)
		if err != nil {
			return err
		}
		guid = g.GUID
		return nil
	})
	return guid, err
}

// addGroup is AddGroup inside t (the name already checked): it bumps the
// owner, creates the group with the next SYN id and emits group.added.
func (t *Txn) addGroup(ownerID int64, in models.NewGroup) (*models.Group, error) {
	if err := t.Bump(ownerID); err != nil {
		return nil, err
	}
	err := t.checkGroupConflict(ownerID, in.Name, 0)
	if err != nil && in.RenameOnConflict && models.ErrorCode(err) == models.CodeGroupAlreadyExists {
		in.Name, err = t.freeGroupName(ownerID, in.Name)
	}
	if err != nil {
		return nil, err
	}
	if max := t.store.Limits.MaxGroups; max > 0 {
		var n int64
		if err := t.DB.Model(&models.Group{}).Where("owner_id = ? AND NOT deleted", ownerID).Count(&n).Error; err != nil {
			return nil, err
		}
		if n >= int64(max) {
			return nil, models.Errorf(models.CodeRequestLimitReached, "address book holds its maximum of %d groups", max)
		}
	}
	synID, err := t.nextSynGroupID(ownerID)
	if err != nil {
		return nil, err
	}
	g := models.Group{
		OwnerID: ownerID, GUID: in.GUID, Name: in.Name, NameLower: strings.ToLower(in.Name),
		Annotations: models.EncodeAnnotations(models.MergeAnnotations(nil, in.Annotations)),
		Rev:         t.Rev(ownerID), SynID: synID, CreatedAt: t.Now, UpdatedAt: t.Now,
	}
	if g.GUID == "" {
		g.GUID = t.store.NewGUID()
	}
	if err := t.DB.Create(&g).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, models.Errorf(models.CodeGroupAlreadyExists, "Group Already Exists")
		}
		return nil, err
	}
	return &g, t.emitBookChanged(ownerID, "group.added")
}

// checkGroupConflict fails with GroupAlreadyExists when another live group
// (not except) has name in any letter case.
func (t *Txn) checkGroupConflict(ownerID int64, name string, except int64) error {
	var g models.Group
	res := t.DB.Where("owner_id = ? AND name_lower = ? AND NOT deleted AND id <> ?", ownerID, strings.ToLower(name), except).Limit(1).Find(&g)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected > 0 {
		return &models.Error{Code: models.CodeGroupAlreadyExists, Message: "Group Already Exists", ConflictID: g.GUID}
	}
	return nil
}

// freeGroupName returns the first of "name (2)", "name (3)", … that no live
// group of ownerID has in any letter case, shortening name so the result
// stays within MaxGroupNameLength. The owner's account row is locked (Bump),
// so no concurrent add can take the name before this transaction commits.
func (t *Txn) freeGroupName(ownerID int64, name string) (string, error) {
	var taken []string
	if err := t.DB.Model(&models.Group{}).Where("owner_id = ? AND NOT deleted", ownerID).Pluck("name_lower", &taken).Error; err != nil {
		return "", err
	}
	used := make(map[string]bool, len(taken))
	for _, n := range taken {
		used[n] = true
	}
	base := []rune(name)
	for i := 2; i <= len(taken)+2; i++ {
		suffix := fmt.Sprintf(" (%d)", i)
		b := base
		if room := MaxGroupNameLength - utf8.RuneCountInString(suffix); len(b) > room {
			b = []rune(strings.TrimRight(string(b[:room]), " "))
		}
		candidate := string(b) + suffix
		if !used[strings.ToLower(candidate)] {
			return candidate, nil
		}
	}
	return "", models.Errorf(models.CodeGroupAlreadyExists, "Group Already Exists")
}

// liveGroup finds a live group of owner; another owner's GUID is not found.
func (t *Txn) liveGroup(ownerID int64, guid string) (*models.Group, error) {
	var g models.Group
	res := t.DB.Where("owner_id = ? AND guid = ? AND NOT deleted", ownerID, guid).Limit(1).Find(&g)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, models.Errorf(models.CodeGroupDoesNotExist, "group %s does not exist", guid)
	}
	return &g, nil
}

// DeleteGroups deletes groups (tombstones kept for deltas). Their contacts
// stay in the book and lose the group from groupIds (PROTOCOL.md §11);
// those contacts get a new rev so deltas carry the change. Errors:
// CodeGroupDoesNotExist, in which case nothing changes.
func (s *Store) DeleteGroups(ctx context.Context, ownerID int64, guids []string) error {
	guids = dedup(guids)
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		for _, guid := range guids {
			g, err := t.liveGroup(ownerID, guid)
			if err != nil {
				return err
			}
			if err := t.deleteGroup(ownerID, g); err != nil {
				return err
			}
		}
		return t.emitBookChanged(ownerID, "group.deleted")
	})
}

// deleteGroup tombstones live group g of ownerID (bumped in t); its
// contacts stay in the book and get a new rev.
func (t *Txn) deleteGroup(ownerID int64, g *models.Group) error {
	rev := t.mustRev(ownerID)
	// A contact left in no group is plainly in SYN group 0: its explicit
	// group-0 mark (synlists.go) goes with its last group.
	if err := t.DB.Exec(`DELETE FROM syn_group_zero WHERE contact_id IN (SELECT contact_id FROM contact_groups WHERE group_id = ?)
		AND contact_id NOT IN (SELECT contact_id FROM contact_groups WHERE group_id <> ?)`, g.ID, g.ID).Error; err != nil {
		return err
	}
	if err := t.DB.Exec("UPDATE contacts SET rev = ?, updated_at = ? WHERE id IN (SELECT contact_id FROM contact_groups WHERE group_id = ?)", rev, t.Now, g.ID).Error; err != nil {
		return err
	}
	if err := t.DB.Exec("DELETE FROM contact_groups WHERE group_id = ?", g.ID).Error; err != nil {
		return err
	}
	return t.DB.Model(&models.Group{}).Where("id = ?", g.ID).Updates(map[string]any{"deleted": true, "rev": rev, "updated_at": t.Now}).Error
}

// UpdateGroups applies ABGroupUpdate entries. Errors as AddGroup plus
// CodeGroupDoesNotExist.
func (s *Store) UpdateGroups(ctx context.Context, ownerID int64, ups []models.GroupChange) error {
	for _, u := range ups {
		if u.Name != nil {
			if err := checkGroupName(*u.Name); err != nil {
				return err
			}
		}
	}
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		for _, u := range ups {
			g, err := t.liveGroup(ownerID, u.GUID)
			if err != nil {
				return err
			}
			if err := t.updateGroup(ownerID, g, u); err != nil {
				return err
			}
		}
		return t.emitBookChanged(ownerID, "group.updated")
	})
}

// updateGroup applies change u (names already checked) to live group g of
// ownerID (bumped in t).
func (t *Txn) updateGroup(ownerID int64, g *models.Group, u models.GroupChange) error {
	if u.Name != nil {
		if err := t.checkGroupConflict(ownerID, *u.Name, g.ID); err != nil {
			return err
		}
		g.Name, g.NameLower = *u.Name, strings.ToLower(*u.Name)
	}
	if u.IsFavorite != nil {
		g.IsFavorite = *u.IsFavorite
	}
	g.Rev, g.UpdatedAt = t.mustRev(ownerID), t.Now
	if err := t.DB.Save(g).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return models.Errorf(models.CodeGroupAlreadyExists, "Group Already Exists")
		}
		return err
	}
	return nil
}

// AddGroupContacts puts contacts into groups and returns the first
// contact's GUID. Errors: CodeGroupDoesNotExist, CodeContactDoesNotExist,
// CodeContactAlreadyExists (already in that group; papyon maps it to
// "already in group", PROTOCOL.md §2.4) and those of AddContacts.
func (s *Store) AddGroupContacts(ctx context.Context, ownerID int64, groupGUIDs []string, items []models.GroupContactItem, allowList bool) (string, error) {
	groupGUIDs = dedup(groupGUIDs)
	var news []models.NewContact
	for _, it := range items {
		if it.New != nil {
			news = append(news, *it.New)
		}
	}
	var first string
	err := s.Write(ctx, func(t *Txn) error {
		first = ""
		owner, targets, err := t.lockForAdd(ownerID, news)
		if err != nil {
			return err
		}
		groups, err := t.liveGroups(ownerID, groupGUIDs)
		if err != nil {
			return err
		}
		ni := 0
		for _, it := range items {
			var c *models.Contact
			if it.New != nil {
				c, _, err = t.addContact(owner, it.New, targets[ni], allowList, true)
				ni++
			} else {
				c, err = t.liveContact(ownerID, it.ContactGUID, false)
			}
			if err != nil {
				return err
			}
			for _, g := range groups {
				var n int64
				if err := t.DB.Model(&models.ContactGroup{}).Where("contact_id = ? AND group_id = ?", c.ID, g.ID).Count(&n).Error; err != nil {
					return err
				}
				if n > 0 {
					return &models.Error{Code: models.CodeContactAlreadyExists, Message: "Contact Already Exists", ConflictID: c.GUID}
				}
				if err := t.DB.Create(&models.ContactGroup{ContactID: c.ID, GroupID: g.ID}).Error; err != nil {
					return err
				}
			}
			if err := t.touchContact(c.ID, ownerID); err != nil {
				return err
			}
			if first == "" {
				first = c.GUID
			}
		}
		return t.Emit(ownerID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": "group.contact.added"}))
	})
	return first, err
}

// liveGroups finds owner's live groups by GUID (CodeGroupDoesNotExist for
// any unknown one).
func (t *Txn) liveGroups(ownerID int64, guids []string) ([]*models.Group, error) {
	var groups []*models.Group
	for _, gg := range guids {
		g, err := t.liveGroup(ownerID, gg)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, nil
}

func (t *Txn) touchContact(id, ownerID int64) error {
	return t.DB.Model(&models.Contact{}).Where("id = ?", id).Updates(map[string]any{"rev": t.mustRev(ownerID), "updated_at": t.Now}).Error
}

// DeleteGroupContacts takes contacts out of groups; they stay in the book.
// Errors: CodeGroupDoesNotExist, CodeContactDoesNotExist (unknown contact,
// or not in that group).
func (s *Store) DeleteGroupContacts(ctx context.Context, ownerID int64, groupGUIDs, contactGUIDs []string) error {
	groupGUIDs, contactGUIDs = dedup(groupGUIDs), dedup(contactGUIDs)
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		groups, err := t.liveGroups(ownerID, groupGUIDs)
		if err != nil {
			return err
		}
		for _, cg := range contactGUIDs {
			c, err := t.liveContact(ownerID, cg, false)
			if err != nil {
				return err
			}
			for _, g := range groups {
				res := t.DB.Exec("DELETE FROM contact_groups WHERE contact_id = ? AND group_id = ?", c.ID, g.ID)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					return models.Errorf(models.CodeContactDoesNotExist, "contact %s is not in group %s", c.GUID, g.GUID)
				}
			}
			if err := t.clearGroupZeroIfUngrouped(c.ID); err != nil {
				return err
			}
			if err := t.touchContact(c.ID, ownerID); err != nil {
				return err
			}
		}
		return t.emitBookChanged(ownerID, "group.contact.deleted")
	})
}

// emitBookChanged tells ownerID's own sessions that their address book
// changed by op (in the same transaction as the change).
func (t *Txn) emitBookChanged(ownerID int64, op string) error {
	owner, err := t.account(ownerID)
	if err != nil {
		return err
	}
	return t.Emit(ownerID, events.SelfChanged(events.TypeAddressBookChanged, Party(owner), map[string]string{"op": op}))
}
