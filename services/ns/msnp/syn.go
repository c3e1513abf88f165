package msnp

import "strconv"

// The SYN-era (MSNP8–12) list synchronisation: the client sends "SYN trid
// <version>" (MSNP8–9, an integer; pidgin 2.2.2 always sends 0) or "SYN
// trid <list-ts> <settings-ts>" (MSNP10–12) and the server answers with its
// own version(s) and, unless the client is up to date, the whole list.
// Sources: pidgin 2.2.2 sync.c and notification.c syn_cmd (what an MSNP9
// client parses), yellows111's msnp-wiki pages on SYN, LSG and LST (the
// generations of each line per version), clients/NS_CLIENT_FACTS.md.

// SYNGroup is a group as a SYN-era client sees it.
type SYNGroup struct {
	ID   int    // MSNP8–9 integer id (0 is the "no group" pseudo-group)
	GUID string // MSNP10–12 id
	Name string // decoded
}

// SYNContact is one LST line.
type SYNContact struct {
	Email   string
	Name    string // the stored friendly name, decoded; the e-mail when empty
	GUID    string // contact GUID (MSNP10–12 "C="); "" when the contact is not in the address book
	Lists   int    // List* bits
	Network int    // MSNP12 LST network (1 Passport); 0 means 1
	// Groups are the group ids as written: decimal ids for MSNP8–9 (an
	// FL contact without a group is in "0"), GUIDs for MSNP10–12.
	Groups []string
}

// SYNList is everything a full SYN answer lists.
type SYNList struct {
	// Version is the list version: an integer for MSNP8–9, the list
	// timestamp for MSNP10–12 (Settings is the settings timestamp).
	Version, Settings string
	GTC, BLP          string // "A"/"N", "AL"/"BL"
	Name              string // the user's own friendly name (MSNP10–12 PRP MFN)
	Groups            []SYNGroup
	Contacts          []SYNContact
}

// OtherContacts is the name of the MSNP8–9 group 0.
const OtherContacts = "Other Contacts"

// legacyListMask keeps the list bits SYN-era clients know (FL AL BL RL).
// PL did not exist before MSNP13: a pending contact is on RL and on neither
// AL nor BL, which is how MSNP8–12 clients recognise someone new.
const legacyListMask = ListFL | ListAL | ListBL | ListRL

// LegacyLists returns the list bits of an LST line for an MSNP8–12 client.
func LegacyLists(bits int) int { return bits & legacyListMask }

// SYNUpToDate reports whether the client's SYN arguments (after the trid)
// name the current version, so the short answer is enough. A version "0"
// never is: pidgin 2.2.2 sends "SYN trid 0" and treats a short answer as
// an error (notification.c syn_cmd: MSN_ERROR_BAD_BLIST).
func SYNUpToDate(args []string, l SYNList, version int) bool {
	if len(args) == 0 || args[0] == "0" || args[0] != l.Version {
		return false
	}
	if GroupGUIDs(version) {
		return len(args) >= 2 && args[1] == l.Settings
	}
	return true
}

// AppendSYNShort appends the answer for an up-to-date client: "SYN trid
// ver" (MSNP8–9) or "SYN trid ts ts" (MSNP10–12).
func AppendSYNShort(dst []byte, trid string, l SYNList, version int) []byte {
	if GroupGUIDs(version) {
		return AppendLine(dst, "SYN", trid, l.Version, l.Settings)
	}
	return AppendLine(dst, "SYN", trid, l.Version)
}

// AppendSYN appends the full answer for protocol version:
//
//	MSNP8–9:  SYN trid ver ncontacts ngroups, GTC, BLP, LSG id name 0 …,
//	          LSG 0 Other%20Contacts 0, LST email name bits [gids] …
//	MSNP10–12: SYN trid ts ts ncontacts ngroups, GTC, BLP, PRP MFN name,
//	          LSG name guid …, LST N=email F=name [C=guid] bits [network] [guids] …
//
// ncontacts is the number of LST lines and ngroups of LSG lines: pidgin
// 2.2.2 ends its sign-in at the LST numbered ncontacts, or at LSG 0 when
// ncontacts is 0 (sync.c). That is why group 0 comes last among the LSG
// lines: a client with no contacts stops reading the list there, after
// every group. Contacts are written in the order given; contacts with no
// bit a SYN-era client knows are left out. An MSNP8–9 FL contact always
// has a group field ("0" when it is in no group): pidgin 2.2.2 crashes on
// an FL line without one (NS_CLIENT_FACTS.md). MSNP8–9 get no PRP MFN
// (their name came in USR OK; sync.c prp_cmd reads phone numbers only)
// and no PRP/BPR for unset phone numbers (the msnp-wiki: "unset properties
// are now omitted" since MSNP8).
func AppendSYN(dst []byte, trid string, l SYNList, version int) []byte {
	guids := GroupGUIDs(version)
	ncontacts := 0
	for _, c := range l.Contacts {
		if LegacyLists(c.Lists) != 0 {
			ncontacts++
		}
	}
	ngroups := len(l.Groups)
	if !guids {
		ngroups++ // group 0
	}
	gtc, blp := l.GTC, l.BLP
	if gtc != "N" {
		gtc = "A"
	}
	if blp != PrivacyBlock {
		blp = PrivacyAllow
	}
	if guids {
		dst = AppendLine(dst, "SYN", trid, l.Version, l.Settings, strconv.Itoa(ncontacts), strconv.Itoa(ngroups))
	} else {
		dst = AppendLine(dst, "SYN", trid, l.Version, strconv.Itoa(ncontacts), strconv.Itoa(ngroups))
	}
	dst = AppendLine(dst, "GTC", gtc)
	dst = AppendLine(dst, "BLP", blp)
	if guids {
		if l.Name != "" {
			dst = AppendLine(dst, "PRP", "MFN", URLEncodeName(l.Name))
		}
		for _, g := range l.Groups {
			dst = AppendLine(dst, "LSG", URLEncodeName(g.Name), g.GUID)
		}
	} else {
		for _, g := range l.Groups {
			dst = AppendLine(dst, "LSG", strconv.Itoa(g.ID), URLEncodeName(g.Name), "0")
		}
		dst = AppendLine(dst, "LSG", "0", URLEncodeName(OtherContacts), "0")
	}
	for _, c := range l.Contacts {
		dst = appendLST(dst, c, version)
	}
	return dst
}

// appendLST appends c's LST line for version, or nothing when c is on no
// list a SYN-era client knows.
func appendLST(dst []byte, c SYNContact, version int) []byte {
	bits := LegacyLists(c.Lists)
	if bits == 0 {
		return dst
	}
	name := c.Name
	if name == "" {
		name = c.Email
	}
	guids := GroupGUIDs(version)
	dst = append(dst, "LST "...)
	if guids {
		dst = append(dst, "N="...)
		dst = append(dst, c.Email...)
		dst = append(dst, " F="...)
		dst = appendEncodedName(dst, name)
		if c.GUID != "" {
			dst = append(dst, " C="...)
			dst = append(dst, c.GUID...)
		}
	} else {
		dst = append(dst, c.Email...)
		dst = append(dst, ' ')
		dst = appendEncodedName(dst, name)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(bits), 10)
	if guids && version >= MSNP12 {
		n := c.Network
		if n == 0 {
			n = 1
		}
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, int64(n), 10)
	}
	if bits&ListFL != 0 {
		switch {
		case len(c.Groups) > 0:
			for i, g := range c.Groups {
				if i == 0 {
					dst = append(dst, ' ')
				} else {
					dst = append(dst, ',')
				}
				dst = append(dst, g...)
			}
		case !guids:
			dst = append(dst, " 0"...)
		}
	}
	return append(dst, '\r', '\n')
}
