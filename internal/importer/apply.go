package importer

import (
	"sort"
	"strings"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// target is an account a contact points at.
type target struct {
	ID    int64
	Email string // lower case
	CID   int64
}

// writer applies one account's desired state to its book inside one
// transaction, writing only what differs. The account is bumped lazily,
// right before the first write, so an import that changes nothing leaves
// the revision alone (idempotence).
type writer struct {
	t       *store.Txn
	b       *book
	bumped  bool
	newGUID func() string
	stats   acctStats

	memChecked, memAny bool
	// fresh marks a book this run has just created (empty, no tombstones):
	// the writer skips the reads that could only find nothing.
	fresh bool
}

type acctStats struct {
	contactsAdded, contactsChanged, contactsRemoved int
	groupsAdded, groupsChanged, groupsRemoved       int
	membersAdded, membersRemoved                    int
}

func (w *writer) rev() (int64, error) {
	if !w.bumped {
		if err := w.t.Bump(w.b.acct.ID); err != nil {
			return 0, err
		}
		w.bumped = true
	}
	return w.t.Rev(w.b.acct.ID), nil
}

// apply makes the book equal to d (union=false) or adds d to it (union=true:
// nothing is removed and the profile is kept). targets resolves contact
// addresses; contacts without a target have been dropped before.
func (w *writer) apply(d *AccountDoc, targets map[string]target, union bool) error {
	t, b := w.t, w.b
	now := t.Now
	// Profile and privacy live on the account row and are rendered into the
	// Me contact, whose rev moves with them (DESIGN.md model rules).
	if !union {
		upd := map[string]any{}
		if b.acct.DisplayName != d.DisplayName {
			upd["display_name"] = d.DisplayName
		}
		if b.acct.BLP != d.BLP {
			upd["blp"] = d.BLP
		}
		if b.acct.GTC != d.GTC {
			upd["gtc"] = d.GTC
		}
		meAnn := "[]"
		if b.me != nil {
			meAnn = b.me.Annotations
		}
		newMeAnn := models.WithAnnotation(meAnn, annMPOP, d.MPOP)
		if len(upd) > 0 || (b.me != nil && (newMeAnn != meAnn || b.me.DisplayName != d.DisplayName)) {
			rev, err := w.rev()
			if err != nil {
				return err
			}
			if len(upd) > 0 {
				upd["updated_at"] = now
				if err := t.DB.Model(&models.Account{}).Where("id = ?", b.acct.ID).Updates(upd).Error; err != nil {
					return err
				}
			}
			if b.me != nil {
				if err := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND contact_key = 'me'", b.acct.ID).Updates(map[string]any{
					"display_name": d.DisplayName, "quick_name": d.DisplayName, "annotations": newMeAnn, "rev": rev, "updated_at": now,
				}).Error; err != nil {
					return err
				}
			}
		}
	}

	// Groups: matched by name (any case), then by GUID (a rename).
	groupID := map[string]int64{} // lower name → id
	keep := map[int64]bool{}
	byName := map[string]*models.Group{}
	byGUID := map[string]*models.Group{}
	for i := range b.groups {
		g := &b.groups[i]
		byName[strings.ToLower(g.Name)] = g
		byGUID[strings.ToLower(g.GUID)] = g
	}
	type groupChange struct {
		g    *models.Group
		want GroupDoc
	}
	var renames []groupChange
	var creates []GroupDoc
	for _, gd := range d.Groups {
		if g := byName[strings.ToLower(gd.Name)]; g != nil && !keep[g.ID] {
			keep[g.ID] = true
			groupID[strings.ToLower(gd.Name)] = g.ID
			if (g.Name != gd.Name || g.IsFavorite != gd.Favorite) && !(union && g.Name == gd.Name) {
				renames = append(renames, groupChange{g, gd})
			}
			continue
		}
		if g := byGUID[strings.ToLower(gd.guid)]; gd.guid != "" && g != nil && !keep[g.ID] && !union {
			keep[g.ID] = true
			groupID[strings.ToLower(gd.Name)] = g.ID
			renames = append(renames, groupChange{g, gd})
			continue
		}
		creates = append(creates, gd)
	}
	if !union {
		for i := range b.groups {
			g := &b.groups[i]
			if keep[g.ID] {
				continue
			}
			rev, err := w.rev()
			if err != nil {
				return err
			}
			if err := t.DB.Model(&models.Group{}).Where("id = ?", g.ID).Updates(map[string]any{"deleted": true, "rev": rev, "updated_at": now}).Error; err != nil {
				return err
			}
			if err := t.DB.Where("group_id = ?", g.ID).Delete(&models.ContactGroup{}).Error; err != nil {
				return err
			}
			w.stats.groupsRemoved++
		}
	}
	for _, rc := range renames {
		rev, err := w.rev()
		if err != nil {
			return err
		}
		if err := t.DB.Model(&models.Group{}).Where("id = ?", rc.g.ID).Updates(map[string]any{
			"name": rc.want.Name, "name_lower": strings.ToLower(rc.want.Name), "is_favorite": rc.want.Favorite, "rev": rev, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		w.stats.groupsChanged++
	}
	if len(creates) > 0 {
		rev, err := w.rev()
		if err != nil {
			return err
		}
		rows := make([]models.Group, 0, len(creates))
		usedGUID := map[string]bool{}
		var all []models.Group
		if !w.fresh {
			if err := t.DB.Select("guid").Where("owner_id = ?", b.acct.ID).Find(&all).Error; err != nil {
				return err
			}
		}
		for _, g := range all {
			usedGUID[strings.ToLower(g.GUID)] = true
		}
		for _, gd := range creates {
			guid := gd.guid
			if guid == "" || usedGUID[strings.ToLower(guid)] {
				guid = w.newGUID()
			}
			usedGUID[strings.ToLower(guid)] = true
			rows = append(rows, models.Group{OwnerID: b.acct.ID, GUID: guid, Name: gd.Name, NameLower: strings.ToLower(gd.Name),
				Annotations: `[{"name":"MSN.IM.Display","value":"1"}]`, IsFavorite: gd.Favorite, Rev: rev, CreatedAt: now, UpdatedAt: now})
		}
		if err := t.DB.CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
		for _, g := range rows {
			groupID[strings.ToLower(g.Name)] = g.ID
		}
		w.stats.groupsAdded += len(rows)
	}

	// Address-book contacts (FL and e-mail-only entries).
	wantKeys := map[string]bool{}
	var newContacts []models.Contact
	newGroups := map[int]([]int64){} // index in newContacts → group ids
	var linkAdds []models.ContactGroup
	var linkDrops []int64 // contact ids whose links are replaced
	for _, cd := range d.Contacts {
		if cd.bits()&models.ListFL == 0 {
			continue
		}
		tg := targets[cd.Email]
		key := "passport:" + cd.Email
		wantKeys[key] = true
		var gids []int64
		for _, gn := range cd.Groups {
			if id, ok := groupID[strings.ToLower(gn)]; ok {
				gids = append(gids, id)
			}
		}
		sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
		var acctID *int64
		if tg.ID != 0 {
			id := tg.ID
			acctID = &id
		}
		cur := b.contacts[key]
		if cur == nil {
			cur = b.dead[key]
		}
		if cur == nil {
			guid := cd.guid
			if guid == "" {
				guid = w.newGUID()
			}
			newContacts = append(newContacts, models.Contact{
				OwnerID: b.acct.ID, GUID: guid, Key: key, ContactAccountID: acctID, ContactType: models.ContactTypeRegular,
				PassportName: cd.Email, Network: models.NetworkPassport, CID: tg.CID, DisplayName: cd.DisplayName,
				QuickName: cd.DisplayName, IsMessengerUser: cd.messenger(), Annotations: models.WithAnnotation("[]", annNickName, cd.Nickname),
				FirstName: cd.FirstName, MiddleName: cd.MiddleName, LastName: cd.LastName, Comment: cd.Comment, Birthdate: cd.Birthdate,
				CreatedAt: now, UpdatedAt: now,
			})
			newGroups[len(newContacts)-1] = gids
			continue
		}
		curG := append([]int64(nil), b.cgroups[cur.ID]...)
		if cur.Deleted {
			curG = nil
		}
		sort.Slice(curG, func(i, j int) bool { return curG[i] < curG[j] })
		if union {
			gids = mergeIDs(curG, gids)
		}
		ann := models.WithAnnotation(cur.Annotations, annNickName, cd.Nickname)
		if union && cd.Nickname == "" {
			ann = cur.Annotations
		}
		dn := cd.DisplayName
		if union && dn == "" {
			dn = cur.DisplayName
		}
		det := [5]string{cd.FirstName, cd.MiddleName, cd.LastName, cd.Comment, cd.Birthdate}
		curDet := [5]string{cur.FirstName, cur.MiddleName, cur.LastName, cur.Comment, cur.Birthdate}
		if union && !cd.hasDetails() {
			det = curDet
		}
		sameGroups := equalIDs(curG, gids)
		if cur.Deleted || det != curDet || cur.IsMessengerUser != cd.messenger() || cur.DisplayName != dn || cur.QuickName != dn ||
			cur.Annotations != ann || cur.CID != tg.CID || !equalPtr(cur.ContactAccountID, acctID) || !sameGroups {
			rev, err := w.rev()
			if err != nil {
				return err
			}
			if err := t.DB.Model(&models.Contact{}).Where("id = ?", cur.ID).Updates(map[string]any{
				"deleted": false, "is_messenger_user": cd.messenger(), "display_name": dn, "quick_name": dn,
				"annotations": ann, "cid": tg.CID, "contact_account_id": acctID, "passport_name": cd.Email,
				"first_name": det[0], "middle_name": det[1], "last_name": det[2], "comment": det[3], "birthdate": det[4],
				"rev": rev, "updated_at": now,
			}).Error; err != nil {
				return err
			}
			if cur.Deleted {
				w.stats.contactsAdded++
			} else {
				w.stats.contactsChanged++
			}
			if !sameGroups {
				linkDrops = append(linkDrops, cur.ID)
				for _, g := range gids {
					linkAdds = append(linkAdds, models.ContactGroup{ContactID: cur.ID, GroupID: g})
				}
			}
		}
	}
	if !union {
		for key, c := range b.contacts {
			if wantKeys[key] {
				continue
			}
			rev, err := w.rev()
			if err != nil {
				return err
			}
			if err := t.DB.Model(&models.Contact{}).Where("id = ?", c.ID).Updates(map[string]any{"deleted": true, "rev": rev, "updated_at": now}).Error; err != nil {
				return err
			}
			linkDrops = append(linkDrops, c.ID)
			w.stats.contactsRemoved++
		}
	}
	if len(newContacts) > 0 {
		rev, err := w.rev()
		if err != nil {
			return err
		}
		for i := range newContacts {
			newContacts[i].Rev = rev
		}
		if err := t.DB.CreateInBatches(newContacts, 200).Error; err != nil {
			return err
		}
		for i, c := range newContacts {
			for _, g := range newGroups[i] {
				linkAdds = append(linkAdds, models.ContactGroup{ContactID: c.ID, GroupID: g})
			}
		}
		w.stats.contactsAdded += len(newContacts)
	}
	if len(linkDrops) > 0 {
		if err := t.DB.Where("contact_id IN ?", linkDrops).Delete(&models.ContactGroup{}).Error; err != nil {
			return err
		}
	}
	if len(linkAdds) > 0 {
		if err := t.DB.CreateInBatches(linkAdds, 500).Error; err != nil {
			return err
		}
	}

	// Memberships: AL/BL/RL/PL bits → Allow/Block/Reverse/Pending.
	type mkey struct{ role, name string }
	have := map[mkey]*models.Membership{}
	for i := range b.members {
		m := &b.members[i]
		have[mkey{m.Role, strings.ToLower(m.MemberName)}] = m
	}
	want := map[mkey]bool{}
	var fresh []models.Membership
	for _, cd := range d.Contacts {
		tg := targets[cd.Email]
		for _, role := range []string{models.RoleAllow, models.RoleBlock, models.RoleReverse, models.RolePending} {
			if cd.bits()&models.RoleBit(role) == 0 {
				continue
			}
			k := mkey{role, cd.Email}
			want[k] = true
			dn := ""
			if role == models.RoleReverse || role == models.RolePending {
				dn = cd.DisplayName
			}
			ref := store.MemberRef{Type: models.MemberPassport, Name: cd.Email, CID: tg.CID}
			if tg.ID != 0 {
				id := tg.ID
				ref.AccountID = &id
			}
			if m := have[k]; m != nil {
				if (m.DisplayName != dn && !(union && dn == "")) || m.CID != tg.CID || !equalPtr(m.MemberAccountID, ref.AccountID) {
					rev, err := w.rev()
					if err != nil {
						return err
					}
					if err := t.DB.Model(&models.Membership{}).Where("id = ?", m.ID).Updates(map[string]any{
						"display_name": dn, "cid": tg.CID, "member_account_id": ref.AccountID, "rev": rev, "updated_at": now,
					}).Error; err != nil {
						return err
					}
				}
				continue
			}
			rev, err := w.rev()
			if err != nil {
				return err
			}
			if len(b.members) == 0 && !w.hadMembershipRows() {
				// A book without any membership row (a new account): batch
				// insert the rows PutMember would write one by one.
				fresh = append(fresh, models.Membership{
					OwnerID: b.acct.ID, Role: role, MemberType: ref.Type, MemberName: ref.Name, MemberAccountID: ref.AccountID,
					CID: ref.CID, DisplayName: dn, Annotations: "[]", State: "Accepted", JoinedAt: now, Rev: rev, CreatedAt: now, UpdatedAt: now,
				})
				continue
			}
			if _, _, err := t.PutMember(b.acct.ID, role, ref, dn, "", nil); err != nil {
				return err
			}
			w.stats.membersAdded++
		}
	}
	if len(fresh) > 0 {
		if err := t.DB.CreateInBatches(fresh, 500).Error; err != nil {
			return err
		}
		w.stats.membersAdded += len(fresh)
	}
	if !union {
		for k, m := range have {
			if want[k] {
				continue
			}
			if _, err := w.rev(); err != nil {
				return err
			}
			ref := store.MemberRef{Type: m.MemberType, Name: m.MemberName}
			if _, err := t.RemoveMember(b.acct.ID, m.Role, ref); err != nil {
				return err
			}
			w.stats.membersRemoved++
		}
	}
	return nil
}

// hadMembershipRows reports whether the book ever had a membership row
// (tombstones included); cached per writer.
func (w *writer) hadMembershipRows() bool {
	if w.fresh {
		return false
	}
	if w.memChecked {
		return w.memAny
	}
	var n int64
	w.t.DB.Model(&models.Membership{}).Where("owner_id = ?", w.b.acct.ID).Limit(1).Count(&n)
	w.memChecked, w.memAny = true, n > 0
	return w.memAny
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mergeIDs(a, b []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, x := range append(append([]int64(nil), a...), b...) {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func equalPtr(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
