package importer

import (
	"sort"
	"strings"

	"github.com/abch-im/abch/internal/listbits"
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
// transaction, writing only what differs, through the store's bulk
// operations (each bumps the account before its first write, so an import
// that changes nothing leaves the revision alone: idempotence).
type writer struct {
	t       *store.Txn
	b       *book
	newGUID func() string
	stats   acctStats
	// fresh marks a book this run has just created (empty, no tombstones):
	// the store skips the reads that could only find nothing.
	fresh bool
}

type acctStats struct {
	contactsAdded, contactsChanged, contactsRemoved int
	groupsAdded, groupsChanged, groupsRemoved       int
	membersAdded, membersRemoved                    int
}

// apply makes the book equal to d (union=false) or adds d to it (union=true:
// nothing is removed and the profile is kept). targets resolves contact
// addresses; contacts without a target have been dropped before.
func (w *writer) apply(d *AccountDoc, targets map[string]target, union bool) error {
	if !union {
		meAnn := "[]"
		if w.b.me != nil {
			meAnn = w.b.me.Annotations
		}
		if _, err := w.t.SetProfile(&w.b.acct, w.b.me, d.DisplayName, d.BLP, d.GTC, models.WithAnnotation(meAnn, annMPOP, d.MPOP)); err != nil {
			return err
		}
	}
	groupID, err := w.applyGroups(d, union)
	if err != nil {
		return err
	}
	if err := w.applyContacts(d, targets, groupID, union); err != nil {
		return err
	}
	return w.applyMembers(d, targets, union)
}

// applyGroups matches the wanted groups by name (any case), then by GUID (a
// rename), and creates, renames and (unless union) deletes groups. It
// returns the group ids by lower-cased name.
func (w *writer) applyGroups(d *AccountDoc, union bool) (map[string]int64, error) {
	groupID := map[string]int64{}
	keep := map[int64]bool{}
	byName := map[string]*models.Group{}
	byGUID := map[string]*models.Group{}
	for i := range w.b.groups {
		g := &w.b.groups[i]
		byName[strings.ToLower(g.Name)] = g
		byGUID[strings.ToLower(g.GUID)] = g
	}
	var creates, renames []models.Group
	for _, gd := range d.Groups {
		g := byName[strings.ToLower(gd.Name)]
		rename := g != nil && !keep[g.ID] && (g.Name != gd.Name || g.IsFavorite != gd.Favorite) && !(union && g.Name == gd.Name)
		if g == nil || keep[g.ID] {
			g, rename = byGUID[strings.ToLower(gd.guid)], true
			if gd.guid == "" || g == nil || keep[g.ID] || union {
				creates = append(creates, models.Group{GUID: gd.guid, Name: gd.Name, IsFavorite: gd.Favorite,
					Annotations: `[{"name":"MSN.IM.Display","value":"1"}]`})
				continue
			}
		}
		keep[g.ID] = true
		groupID[strings.ToLower(gd.Name)] = g.ID
		if rename {
			renames = append(renames, models.Group{ID: g.ID, Name: gd.Name, IsFavorite: gd.Favorite})
		}
	}
	if !union {
		var drop []int64
		for _, g := range w.b.groups {
			if !keep[g.ID] {
				drop = append(drop, g.ID)
			}
		}
		if err := w.t.TombstoneGroups(w.b.acct.ID, drop); err != nil {
			return nil, err
		}
		w.stats.groupsRemoved += len(drop)
	}
	for _, g := range renames {
		if err := w.t.RenameGroup(w.b.acct.ID, g.ID, g.Name, g.IsFavorite); err != nil {
			return nil, err
		}
	}
	w.stats.groupsChanged += len(renames)
	if err := w.t.CreateGroups(w.b.acct.ID, creates, w.fresh); err != nil {
		return nil, err
	}
	for _, g := range creates {
		groupID[strings.ToLower(g.Name)] = g.ID
	}
	w.stats.groupsAdded += len(creates)
	return groupID, nil
}

// applyContacts makes the Forward List and e-mail entries match d: new
// contacts are created, changed ones revised (tombstones revived), missing
// ones (unless union) deleted, and group links set.
func (w *writer) applyContacts(d *AccountDoc, targets map[string]target, groupID map[string]int64, union bool) error {
	wantKeys := map[string]bool{}
	var fresh []models.Contact
	var freshGroups [][]int64
	var relinked []int64
	var links []models.ContactGroup
	for _, cd := range d.Contacts {
		if cd.bits()&listbits.FL == 0 {
			continue
		}
		key := "passport:" + cd.Email
		wantKeys[key] = true
		gids := groupIDs(cd.Groups, groupID)
		want := wantContact(cd, targets[cd.Email])
		cur := w.b.contacts[key]
		if cur == nil {
			cur = w.b.dead[key]
		}
		if cur == nil {
			if want.GUID == "" {
				want.GUID = w.newGUID()
			}
			want.Key = key
			fresh, freshGroups = append(fresh, want), append(freshGroups, gids)
			continue
		}
		gids, relink, err := w.reviseContact(cur, &want, &cd, gids, union)
		if err != nil {
			return err
		}
		if relink {
			relinked = append(relinked, cur.ID)
			for _, g := range gids {
				links = append(links, models.ContactGroup{ContactID: cur.ID, GroupID: g})
			}
		}
	}
	if !union {
		var drop []int64
		for key, c := range w.b.contacts {
			if !wantKeys[key] {
				drop = append(drop, c.ID)
			}
		}
		if err := w.t.TombstoneContacts(w.b.acct.ID, drop); err != nil {
			return err
		}
		w.stats.contactsRemoved += len(drop)
	}
	if err := w.t.CreateContacts(w.b.acct.ID, fresh); err != nil {
		return err
	}
	for i, c := range fresh {
		for _, g := range freshGroups[i] {
			links = append(links, models.ContactGroup{ContactID: c.ID, GroupID: g})
		}
	}
	w.stats.contactsAdded += len(fresh)
	return w.t.SetContactGroups(relinked, links)
}

// groupIDs maps group names to ids (unknown names dropped), sorted.
func groupIDs(names []string, groupID map[string]int64) []int64 {
	var gids []int64
	for _, gn := range names {
		if id, ok := groupID[strings.ToLower(gn)]; ok {
			gids = append(gids, id)
		}
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	return gids
}

// wantContact is the contact row cd describes (without key and ids).
func wantContact(cd ContactDoc, tg target) models.Contact {
	c := models.Contact{
		GUID: cd.guid, PassportName: cd.Email, Network: models.NetworkPassport, CID: tg.CID,
		DisplayName: cd.DisplayName, QuickName: cd.DisplayName, IsMessengerUser: cd.messenger(),
		Annotations: models.WithAnnotation("[]", annNickName, cd.Nickname),
		FirstName:   cd.FirstName, MiddleName: cd.MiddleName, LastName: cd.LastName, Comment: cd.Comment, Birthdate: cd.Birthdate,
	}
	if tg.ID != 0 {
		id := tg.ID
		c.ContactAccountID = &id
	}
	return c
}

// reviseContact revises the existing (or dead) row cur to want, the row
// cd describes, unless they are the same; union keeps what cd leaves
// empty and merges the groups. It returns the contact's groups and whether
// its links must be replaced with them.
func (w *writer) reviseContact(cur, want *models.Contact, cd *ContactDoc, gids []int64, union bool) ([]int64, bool, error) {
	curG := append([]int64(nil), w.b.cgroups[cur.ID]...)
	if cur.Deleted {
		curG = nil
	}
	sort.Slice(curG, func(i, j int) bool { return curG[i] < curG[j] })
	if union {
		gids = mergeIDs(curG, gids)
	}
	want.Annotations = models.WithAnnotation(cur.Annotations, annNickName, cd.Nickname)
	if union && cd.Nickname == "" {
		want.Annotations = cur.Annotations
	}
	if union && cd.DisplayName == "" {
		want.DisplayName, want.QuickName = cur.DisplayName, cur.DisplayName
	}
	if union && !cd.hasDetails() {
		want.FirstName, want.MiddleName, want.LastName, want.Comment, want.Birthdate = cur.FirstName, cur.MiddleName, cur.LastName, cur.Comment, cur.Birthdate
	}
	det := [5]string{want.FirstName, want.MiddleName, want.LastName, want.Comment, want.Birthdate}
	curDet := [5]string{cur.FirstName, cur.MiddleName, cur.LastName, cur.Comment, cur.Birthdate}
	sameGroups := equalIDs(curG, gids)
	if !cur.Deleted && det == curDet && cur.IsMessengerUser == want.IsMessengerUser && cur.DisplayName == want.DisplayName &&
		cur.QuickName == want.QuickName && cur.Annotations == want.Annotations && cur.CID == want.CID &&
		equalPtr(cur.ContactAccountID, want.ContactAccountID) && sameGroups {
		return gids, false, nil
	}
	want.ID = cur.ID
	if err := w.t.ReviseContact(w.b.acct.ID, want); err != nil {
		return nil, false, err
	}
	if cur.Deleted {
		w.stats.contactsAdded++
	} else {
		w.stats.contactsChanged++
	}
	return gids, !sameGroups, nil
}

// applyMembers makes the Allow/Block/Reverse/Pending lists match the
// AL/BL/RL/PL bits of d's contacts.
func (w *writer) applyMembers(d *AccountDoc, targets map[string]target, union bool) error {
	type mkey struct{ role, name string }
	have := map[mkey]*models.Membership{}
	for i := range w.b.members {
		m := &w.b.members[i]
		have[mkey{m.Role, strings.ToLower(m.MemberName)}] = m
	}
	want := map[mkey]bool{}
	var puts []store.NewMember
	for _, cd := range d.Contacts {
		tg := targets[cd.Email]
		ref := store.MemberRef{Type: models.MemberPassport, Name: cd.Email, CID: tg.CID}
		if tg.ID != 0 {
			id := tg.ID
			ref.AccountID = &id
		}
		for _, role := range []string{models.RoleAllow, models.RoleBlock, models.RoleReverse, models.RolePending} {
			if cd.bits()&listbits.RoleBit(role) == 0 {
				continue
			}
			k := mkey{role, cd.Email}
			want[k] = true
			dn := ""
			if role == models.RoleReverse || role == models.RolePending {
				dn = cd.DisplayName
			}
			m := have[k]
			if m == nil {
				puts = append(puts, store.NewMember{Role: role, Ref: ref, DisplayName: dn})
				continue
			}
			if (m.DisplayName != dn && !(union && dn == "")) || m.CID != tg.CID || !equalPtr(m.MemberAccountID, ref.AccountID) {
				if err := w.t.ReviseMember(w.b.acct.ID, m, dn, ref); err != nil {
					return err
				}
			}
		}
	}
	n, err := w.t.PutMembers(w.b.acct.ID, puts, w.fresh)
	w.stats.membersAdded += n
	if err != nil || union {
		return err
	}
	var drop []models.Membership
	for k, m := range have {
		if !want[k] {
			drop = append(drop, *m)
		}
	}
	w.stats.membersRemoved += len(drop)
	return w.t.RemoveMembers(w.b.acct.ID, drop)
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
