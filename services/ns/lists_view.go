package ns

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// A SYN-era client (MSNP8–12) keeps its own copy of its FL, AL, BL and
// groups, built from SYN and moved only by the lines it is sent. When the
// account's lists change through another path while it is signed in (an
// MSNP13 client or the web calling the SOAP services, an operator's
// command, a deleted account), the event carries no SYN-era lines for
// those lists (events name the change for SOAP clients: NOT, ADL/RML). The
// session therefore keeps listView, what its client was told, re-reads the
// lists at each such event and sends the difference in the forms the
// client parses for its own commands' answers, with trid 0: ADG/REG first,
// then per contact REM … then ADD/ADC …, and RMG last. Its own commands
// move the view with their answers (the NS API returns the contact after
// the change), so they are never sent twice; the RL, which only other
// people move, stays with the event lines of legacyEventLines.
//
// The view is read and written only on the user's worker (SYN and the list
// commands run there through user.serial, and so do events).

// viewedLists are the bits the view tracks.
const viewedLists = msnp.ListFL | msnp.ListAL | msnp.ListBL

// listView is what the client was told of its lists: contacts by
// lower-case address, groups by GUID.
type listView struct {
	contacts map[string]viewContact
	groups   map[string]nsclient.Group // by GUID
}

// viewContact is one contact as the client holds it.
type viewContact struct {
	email, name, guid string
	lists             int      // FL|AL|BL bits
	groups            []string // FL group GUIDs, sorted
}

func newListView(l *nsclient.Lists) *listView {
	v := &listView{contacts: map[string]viewContact{}, groups: map[string]nsclient.Group{}}
	for _, g := range l.Groups {
		v.groups[g.GUID] = g
	}
	for _, e := range l.Contacts {
		v.put(e)
	}
	return v
}

// put records a contact as the NS API shows it (an entry that left every
// viewed list is dropped). put, putGroup and dropGroup do nothing on a nil
// view (a session before its first SYN, which will list everything).
func (v *listView) put(e nsclient.ListEntry) {
	if v == nil {
		return
	}
	key := strings.ToLower(e.Email)
	c := viewContact{email: e.Email, name: e.DisplayName, guid: e.ContactGUID, lists: e.Lists & viewedLists}
	if c.lists == 0 {
		delete(v.contacts, key)
		return
	}
	if c.lists&msnp.ListFL != 0 {
		for _, g := range e.Groups {
			c.groups = append(c.groups, g.GUID)
		}
		slices.Sort(c.groups)
	}
	v.contacts[key] = c
}

// putGroup and dropGroup follow the session's own ADG/REG and RMG.
func (v *listView) putGroup(g nsclient.Group) {
	if v != nil {
		v.groups[g.GUID] = g
	}
}

func (v *listView) dropGroup(guid string) {
	if v == nil {
		return
	}
	delete(v.groups, guid)
	for k, c := range v.contacts {
		if i := slices.Index(c.groups, guid); i >= 0 {
			c.groups = slices.Delete(slices.Clone(c.groups), i, i+1)
			v.contacts[k] = c
		}
	}
}

// syncView re-reads the lists after an event that changed the user's own
// lists and returns the lines that bring the client from its view to them;
// the view becomes the lists. Nothing before the first SYN (it lists
// everything) or when the lists cannot be read (the next event or SYN
// catches up).
func (s *Server) syncView(u *user) [][]byte {
	ss := u.ss
	if ss.view == nil {
		return nil
	}
	ctx, cancel := s.apiCtx()
	l, err := s.cfg.API.Lists(ctx, u.email)
	cancel()
	if err != nil {
		s.cfg.Log.Warn("ns: lists after an event", "email", u.email, "error", err)
		return nil
	}
	next := newListView(l)
	d := viewDiff{u: u, ver: max(l.Version, 1)}
	d.lines(ss.view, next)
	ss.view = next
	if len(d.out) > 0 {
		ss.noteListVersion(d.ver)
	}
	return d.out
}

// viewDiff writes the lines from one view to the next for u's session.
type viewDiff struct {
	u   *user
	ver int64
	out [][]byte
}

func (d *viewDiff) line(name string, args ...string) {
	d.out = append(d.out, msnp.AppendLine(nil, name, args...))
}

func (d *viewDiff) lines(old, next *listView) {
	version := d.u.ss.ver
	for _, guid := range slices.Sorted(maps.Keys(next.groups)) {
		g := next.groups[guid]
		name := msnp.URLEncodeName(g.Name)
		was, had := old.groups[guid]
		switch {
		case !had:
			d.line("ADG", msnp.ADGArgs(version, "0", d.ver, name, d.newGroupArg(g))...)
		case was.Name != g.Name:
			d.line("REG", msnp.REGArgs(version, "0", d.ver, d.groupArg(guid), name)...)
		}
	}
	keys := slices.Collect(maps.Keys(old.contacts))
	for k := range next.contacts {
		if _, ok := old.contacts[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.contact(old.contacts[k], next.contacts[k])
	}
	for _, guid := range slices.Sorted(maps.Keys(old.groups)) {
		if _, ok := next.groups[guid]; !ok {
			d.line("RMG", msnp.RMGArgs(version, "0", d.ver, d.groupArg(guid))...)
			if !msnp.GroupGUIDs(version) {
				if id, ok := d.u.groupID(guid); ok {
					d.u.removeGroup(id)
				}
			}
		}
	}
}

// contact writes the lines for one contact: removals first (groups, then
// lists), then additions (lists, then groups).
func (d *viewDiff) contact(was, now viewContact) {
	version := d.u.ss.ver
	guids := msnp.GroupGUIDs(version)
	email := now.email
	if email == "" {
		email = was.email
	}
	flID := email // how REM names an FL contact: address (MSNP8–9) or GUID
	if guids {
		flID = was.guid
	}
	bothFL := was.lists&now.lists&msnp.ListFL != 0
	if bothFL {
		for _, g := range was.groups {
			if !slices.Contains(now.groups, g) {
				d.line("REM", msnp.REMArgs(version, "0", "FL", d.ver, flID, d.groupArg(g))...)
			}
		}
	}
	for _, l := range listNames {
		if was.lists&l.bit != 0 && now.lists&l.bit == 0 {
			id := email
			if l.bit == msnp.ListFL {
				id = flID
			}
			d.line("REM", msnp.REMArgs(version, "0", l.name, d.ver, id, "")...)
		}
	}
	name := now.name
	if name == "" {
		name = email
	}
	nameArg := msnp.URLEncodeName(name)
	for _, l := range listNames {
		if now.lists&l.bit == 0 || was.lists&l.bit != 0 {
			continue
		}
		switch {
		case l.bit == msnp.ListFL && guids:
			d.line("ADC", msnp.ADCArgs("0", msnp.ListOp{List: "FL", Email: email, NickArg: nameArg}, now.guid)...)
		case l.bit == msnp.ListFL && len(now.groups) == 0:
			d.line("ADD", msnp.ADDArgs("0", "FL", d.ver, email, nameArg, "0")...)
		case l.bit == msnp.ListFL:
			// MSNP8–9: the first group comes with the FL add, below.
		case guids:
			d.line("ADC", msnp.ADCArgs("0", msnp.ListOp{List: l.name, Email: email}, "")...)
		default:
			d.line("ADD", msnp.ADDArgs("0", l.name, d.ver, email, nameArg, "")...)
		}
	}
	if now.lists&msnp.ListFL == 0 {
		return
	}
	for _, g := range now.groups {
		if bothFL && slices.Contains(was.groups, g) {
			continue
		}
		if guids {
			d.line("ADC", msnp.ADCArgs("0", msnp.ListOp{List: "FL", Group: g}, now.guid)...)
		} else {
			d.line("ADD", msnp.ADDArgs("0", "FL", d.ver, email, nameArg, d.groupArg(g))...)
		}
	}
}

// listNames are the viewed lists in the order their lines are written.
var listNames = []struct {
	bit  int
	name string
}{{msnp.ListFL, "FL"}, {msnp.ListAL, "AL"}, {msnp.ListBL, "BL"}}

// groupArg is how the session names a group: its GUID (MSNP10–12) or the
// integer id it was given (MSNP8–9).
func (d *viewDiff) groupArg(guid string) string {
	if msnp.GroupGUIDs(d.u.ss.ver) {
		return guid
	}
	id, _ := d.u.groupID(guid)
	return strconv.Itoa(id)
}

// newGroupArg names a group new to the session, giving it an id (MSNP8–9)
// as an ADG answer would: the NS API's SYN id when the session has not
// used it.
func (d *viewDiff) newGroupArg(g nsclient.Group) string {
	if msnp.GroupGUIDs(d.u.ss.ver) {
		return g.GUID
	}
	return strconv.Itoa(d.u.addGroup(g.GUID, g.ID))
}

// groupID is the session's integer id of a group GUID.
func (u *user) groupID(guid string) (int, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id, ok := u.ids().byGUID[guid]
	return id, ok
}
