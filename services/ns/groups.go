package ns

// MSNP8–9 clients name groups by small integers (pidgin 2.2.2 keeps them as
// ints, sync.c lsg_cmd); the address book names them by GUID. Each legacy
// session keeps the mapping it sent: ids are stable for the session (an
// ADG answer never renumbers ids already sent, NS_CLIENT_FACTS.md), id 0 is
// the "no group" pseudo-group (Other Contacts) that holds every FL contact
// without a group. MSNP10–12 sessions use the GUIDs themselves.

// groupIDs is a session's GUID ↔ integer group id mapping (under user.mu).
type groupIDs struct {
	byGUID map[string]int
	byID   map[int]string
	next   int // the lowest id never given out (≥ 1)
}

// ids returns u's mapping, creating it (caller holds u.mu).
func (u *user) ids() *groupIDs {
	if u.gids == nil {
		u.gids = &groupIDs{byGUID: map[string]int{}, byID: map[int]string{}, next: 1}
	}
	return u.gids
}

// give maps guid to id when both are free; it reports whether it did.
func (g *groupIDs) give(guid string, id int) bool {
	if id <= 0 || guid == "" {
		return false
	}
	if _, taken := g.byID[id]; taken {
		return false
	}
	if _, known := g.byGUID[guid]; known {
		return false
	}
	g.byGUID[guid], g.byID[id] = id, guid
	if id >= g.next {
		g.next = id + 1
	}
	return true
}

// groupGUID returns the GUID of the client's group id; id 0 is the "no
// group" pseudo-group: ("", true).
func (u *user) groupGUID(id int) (string, bool) {
	if id == 0 {
		return "", true
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	guid, ok := u.ids().byID[id]
	return guid, ok
}

// addGroup maps a new group (after a successful ADG) and returns its id:
// apiID when the NS API gives one (> 0) that is free in this session, else
// the next id never given out. A GUID already mapped keeps its id.
func (u *user) addGroup(guid string, apiID int) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	g := u.ids()
	if id, ok := g.byGUID[guid]; ok {
		return id
	}
	if g.give(guid, apiID) {
		return apiID
	}
	id := g.next
	g.give(guid, id)
	return id
}

// removeGroup forgets a deleted group's id (it is not given out again in
// this session).
func (u *user) removeGroup(id int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	g := u.ids()
	if guid, ok := g.byID[id]; ok {
		delete(g.byID, id)
		delete(g.byGUID, guid)
	}
}

// mapGroups gives every group of the lists an id (keeping the ones already
// given) and returns them in the order given: the API's integer id when it
// has one and it is free, else the next id.
func (u *user) mapGroups(groups []groupRef) []int {
	u.mu.Lock()
	defer u.mu.Unlock()
	g := u.ids()
	out := make([]int, len(groups))
	// First the groups whose id is known or that bring their own, then
	// the rest, so an API id is never taken by a group numbered before it.
	for i, r := range groups {
		if id, ok := g.byGUID[r.guid]; ok {
			out[i] = id
		} else if g.give(r.guid, r.id) {
			out[i] = r.id
		}
	}
	for i, r := range groups {
		if out[i] == 0 {
			out[i] = g.next
			g.give(r.guid, g.next)
		}
	}
	return out
}

// groupRef is a group of the lists: its GUID and the integer id the NS API
// gives it (0: none).
type groupRef struct {
	guid string
	id   int
}
