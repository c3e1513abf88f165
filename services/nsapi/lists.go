package nsapi

import (
	"sort"
	"strings"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// annNickName is the owner's alias for a contact (PROTOCOL.md §1.3).
const annNickName = "AB.NickName"

// lists renders an account's list rows in MSNP terms (docs/events.md): one
// entry per address, the union of its address-book entry (FL) and its
// memberships (AL/BL/RL/PL), sorted by address; phone members as tel:
// URIs; an entry without a name shows its address.
// zero are the contacts also in SYN group 0 (store.SynGroupZero).
func lists(rows *store.ListRows, zero map[int64]bool) *nsclient.Lists {
	out := &nsclient.Lists{Contacts: []nsclient.ListEntry{}, Groups: make([]nsclient.Group, 0, len(rows.Groups))}
	groupByID := map[int64]nsclient.Group{}
	for _, g := range rows.Groups {
		lg := nsclient.Group{ID: g.SynID, GUID: g.GUID, Name: g.Name}
		groupByID[g.ID] = lg
		out.Groups = append(out.Groups, lg)
	}
	groupsOf := map[int64][]nsclient.Group{}
	for _, l := range rows.Links {
		if g, ok := groupByID[l.GroupID]; ok {
			groupsOf[l.ContactID] = append(groupsOf[l.ContactID], g)
		}
	}
	byKey := map[string]*nsclient.ListEntry{}
	entry := func(key string) *nsclient.ListEntry {
		if e := byKey[key]; e != nil {
			return e
		}
		e := &nsclient.ListEntry{Email: key, Groups: []nsclient.Group{}, SynGroups: []int{}}
		byKey[key] = e
		return e
	}
	for _, c := range rows.Contacts {
		addr := c.PassportName
		if addr == "" {
			addr = c.Email
		}
		e := entry(strings.ToLower(addr))
		e.Lists |= listbits.FL
		e.Network, e.CID, e.DisplayName, e.ContactGUID = c.Network, c.CID, c.DisplayName, c.GUID
		e.NickName = models.AnnotationValue(c.Annotations, annNickName)
		if gs := groupsOf[c.ID]; gs != nil {
			sort.Slice(gs, func(i, j int) bool { return strings.ToLower(gs[i].Name) < strings.ToLower(gs[j].Name) })
			e.Groups = gs
		}
		e.SynGroups = synGroups(e.Groups, zero[c.ID])
	}
	for _, m := range rows.Members {
		addMember(entry, m)
	}
	for _, e := range byKey {
		if e.DisplayName == "" {
			e.DisplayName = e.Email
		}
		out.Contacts = append(out.Contacts, *e)
	}
	sort.Slice(out.Contacts, func(i, j int) bool { return out.Contacts[i].Email < out.Contacts[j].Email })
	return out
}

// synGroups are an FL entry's MSNP8–9 group ids, ascending: its groups'
// SYN ids, and 0 when it is in no group or also in group 0.
func synGroups(gs []nsclient.Group, zero bool) []int {
	out := make([]int, 0, len(gs)+1)
	if len(gs) == 0 || zero {
		out = append(out, 0)
	}
	for _, g := range gs {
		out = append(out, g.ID)
	}
	sort.Ints(out)
	return out
}

// addMember adds membership m's list bit to its address's entry, and what
// the entry lacks of its network, CID, name and (Pending) invitation.
func addMember(entry func(string) *nsclient.ListEntry, m models.Membership) {
	bit := listbits.RoleBit(m.Role)
	if bit == 0 {
		return
	}
	key := strings.ToLower(m.MemberName)
	network := models.NetworkPassport
	switch m.MemberType {
	case models.MemberPhone:
		network = models.NetworkPhone
		if !strings.HasPrefix(key, "tel:") {
			key = "tel:" + key
		}
	case models.MemberEmail:
		network = models.NetworkEmail
	}
	e := entry(key)
	e.Lists |= bit
	if e.Network == 0 {
		e.Network = network
	}
	if e.CID == 0 {
		e.CID = m.CID
	}
	if e.DisplayName == "" {
		e.DisplayName = m.DisplayName
	}
	if m.Role == models.RolePending && m.InviteMessage != "" {
		e.InviteMessage = m.InviteMessage
	}
}

// watchers renders the accounts with a target on their Forward List.
func watchers(ws []store.Watcher) []nsclient.Watcher {
	out := make([]nsclient.Watcher, 0, len(ws))
	for _, w := range ws {
		a := &w.Account
		out = append(out, nsclient.Watcher{Email: a.Email, CID: a.CID, PUID: a.PUIDUnsigned(), DisplayName: a.DisplayName,
			Allowed: w.Allowed, Blocked: w.Blocked, CanSee: w.CanSee})
	}
	return out
}
