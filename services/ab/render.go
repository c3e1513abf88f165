package ab

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// ServiceVersion is the ServiceHeader Version (the value of the captures
// MSNPSharp and pidgin accepted, clients/RESPONSES.md §3).
const ServiceVersion = "15.01.1408.0000"

// cacheKey is the opaque CacheKey of an account's answers: stable per
// account (pidgin ≥ 2.6 echoes it back; nothing else reads it).
func cacheKey(accountID int64) string {
	h := sha256.Sum256([]byte("abch ab cache key " + strconv.FormatInt(accountID, 10)))
	return "12r1:" + hex.EncodeToString(h[:12])
}

// findForm selects the shape of the find answer: ABFindAll (lower-case
// groups/contacts/ab) or WLM 2009's ABFindContactsPaged (Groups/Contacts/
// CircleResult/Ab), per the MSNPSharp XSD.
type findForm int

const (
	formFindAll findForm = iota
	formPaged
)

// renderBook writes a complete ABFindAll / ABFindContactsPaged response.
// Element order is the XSD order (msnab_datatypes.xsd), which is also the
// order of the safe answer in clients/RESPONSES.md §3.
func renderBook(b *store.Book, form findForm) []byte {
	w := &xw{b: make([]byte, 0, 2048+len(b.Contacts)*1100+len(b.Groups)*400)}
	w.envelopeStart(cacheKey(b.Owner.ID))
	groups, contacts, abName := "groups", "contacts", "ab"
	if form == formPaged {
		w.openNS("ABFindContactsPagedResponse")
		w.open("ABFindContactsPagedResult")
		groups, contacts, abName = "Groups", "Contacts", "Ab"
	} else {
		w.openNS("ABFindAllResponse")
		w.open("ABFindAllResult")
	}
	if len(b.Groups) == 0 {
		w.empty(groups)
	} else {
		w.open(groups)
		for i := range b.Groups {
			writeGroup(w, &b.Groups[i])
		}
		w.close(groups)
	}
	if len(b.Contacts) == 0 {
		w.empty(contacts)
	} else {
		w.open(contacts)
		for i := range b.Contacts {
			writeContact(w, &b.Owner, &b.Contacts[i])
		}
		w.close(contacts)
	}
	if form == formPaged {
		// Required by the XSD; circles are out of scope (PROTOCOL.md §1.2).
		w.open("CircleResult")
		w.empty("CircleTicket")
		w.close("CircleResult")
	}
	writeAB(w, abName, &b.Owner, form)
	if form == formPaged {
		w.close("ABFindContactsPagedResult")
		w.close("ABFindContactsPagedResponse")
	} else {
		w.close("ABFindAllResult")
		w.close("ABFindAllResponse")
	}
	w.envelopeEnd()
	return w.b
}

func writeAnnotations(w *xw, anns []models.Annotation) {
	if len(anns) == 0 {
		return
	}
	w.open("annotations")
	for _, a := range anns {
		w.open("Annotation")
		w.leaf("Name", a.Name)
		w.leaf("Value", a.Value)
		w.close("Annotation")
	}
	w.close("annotations")
}

func writeGroup(w *xw, g *models.Group) {
	w.open("Group")
	w.leaf("groupId", g.GUID)
	w.open("groupInfo")
	writeAnnotations(w, models.DecodeAnnotations(g.Annotations))
	w.leaf("groupType", models.MessengerGroupType)
	w.leaf("name", g.Name)
	w.bool("IsNotMobileVisible", false)
	w.bool("IsPrivate", false)
	if g.IsFavorite {
		w.bool("IsFavorite", true)
	}
	w.close("groupInfo")
	w.empty("propertiesChanged")
	w.bool("fDeleted", g.Deleted)
	w.leaf("lastChange", models.FormatRevision(g.Rev))
	w.close("Group")
}

// meAnnotations renders the owner's settings as Me annotations: 1/0 for
// BLP and GTC (PROTOCOL.md §11), then the annotations stored on the Me
// contact (MSN.IM.MPOP and anything else a client set).
func meAnnotations(owner *models.Account, stored []models.Annotation) []models.Annotation {
	blp, gtc := "1", "1"
	if owner.BLP == models.BLPBlock {
		blp = "0"
	}
	if owner.GTC == models.GTCNone {
		gtc = "0"
	}
	out := []models.Annotation{
		{Name: annMBEA, Value: strconv.Itoa(owner.MBEA)},
		{Name: annGTC, Value: gtc},
		{Name: annBLP, Value: blp},
		{Name: annRoam, Value: strconv.Itoa(owner.RoamLiveProps)},
	}
	for _, a := range stored {
		switch a.Name {
		case annMBEA, annGTC, annBLP, annRoam:
			continue
		}
		out = append(out, a)
	}
	return out
}

func writeContact(w *xw, owner *models.Account, c *store.BookContact) {
	me := c.Key == models.MeKey
	w.open("Contact")
	w.leaf("contactId", c.GUID)
	w.open("contactInfo")
	if c.PassportName == "" && c.Email != "" {
		// E-mail-only entry (not on the Forward List).
		w.open("emails")
		w.open("ContactEmail")
		w.leaf("contactEmailType", "ContactEmailPersonal")
		w.leaf("email", c.Email)
		w.bool("isMessengerEnabled", false)
		w.leaf("Capability", "0")
		w.bool("MessengerEnabledExternally", false)
		w.empty("propertiesChanged")
		w.close("ContactEmail")
		w.close("emails")
	}
	anns := models.DecodeAnnotations(c.Annotations)
	if me {
		anns = meAnnotations(owner, anns)
	}
	writeAnnotations(w, anns)
	if len(c.GroupGUIDs) > 0 {
		w.open("groupIds")
		for _, g := range c.GroupGUIDs {
			w.leaf("guid", g)
		}
		w.close("groupIds")
	}
	display, passport := c.DisplayName, c.PassportName
	if me {
		display, passport = owner.DisplayName, owner.EmailLower
	}
	if display == "" {
		display = passport + c.Email
	}
	w.leaf("contactType", c.ContactType) // before CID: emesene splits on it (RESPONSES.md §3)
	quick := c.QuickName
	if quick == "" || me {
		quick = display
	}
	w.leaf("quickName", quick)
	if c.FirstName != "" {
		w.leaf("firstName", c.FirstName)
	}
	if c.MiddleName != "" {
		w.leaf("MiddleName", c.MiddleName)
	}
	if c.LastName != "" {
		w.leaf("lastName", c.LastName)
	}
	if passport != "" {
		w.leaf("passportName", passport)
		w.bool("IsPassportNameHidden", false)
	}
	w.leaf("displayName", display)
	w.leaf("puid", "0")
	w.leaf("CID", strconv.FormatInt(c.CID, 10))
	if c.Comment != "" {
		w.leaf("comment", c.Comment)
	}
	w.bool("IsNotMobileVisible", false)
	w.bool("isMobileIMEnabled", c.IsMobileIMEnabled)
	// The Me contact is never a Messenger user of its own book: emesene
	// would list you as your own buddy (RESPONSES.md §3).
	w.bool("isMessengerUser", c.IsMessengerUser && !me)
	w.bool("isFavorite", c.IsFavorite)
	w.bool("isSmtp", c.IsSMTP)
	w.bool("hasSpace", c.HasSpace)
	w.leaf("spotWatchState", "NoDevice")
	birth := c.Birthdate
	if birth == "" {
		birth = models.NeverTimestamp // papyon parses it: must be a valid ISO value
	}
	w.leaf("birthdate", birth)
	w.leaf("primaryEmailType", "ContactEmailPersonal")
	w.leaf("PrimaryLocation", "ContactLocationPersonal")
	w.leaf("PrimaryPhone", "ContactPhonePersonal")
	w.bool("IsPrivate", false)
	w.leaf("Gender", "Unspecified")
	w.leaf("TimeZone", "None")
	w.close("contactInfo")
	w.empty("propertiesChanged")
	w.bool("fDeleted", c.Deleted)
	w.leaf("lastChange", models.FormatRevision(c.Rev))
	w.close("Contact")
}

func writeAB(w *xw, name string, owner *models.Account, form findForm) {
	w.open(name)
	w.leaf("abId", models.ZeroGUID)
	w.open("abInfo")
	w.leaf("ownerPuid", "0")
	w.leaf("OwnerCID", strconv.FormatInt(owner.CID, 10))
	w.leaf("ownerEmail", owner.EmailLower)
	w.bool("fDefault", true)
	w.bool("joinedNamespace", false)
	w.bool("IsBot", false)
	w.bool("IsParentManaged", false)
	w.bool("SubscribeExternalPartner", false)
	w.bool("NotifyExternalPartner", false)
	w.leaf("AddressBookType", "Individual")
	w.close("abInfo")
	w.leaf("lastChange", models.FormatRevision(owner.Revision))
	w.leaf("DynamicItemLastChanged", models.NeverTimestamp)
	if form == formPaged {
		w.leaf("RecentActivityItemLastChanged", models.NeverTimestamp)
	}
	w.leaf("createDate", models.FormatTime(owner.CreatedAt))
	w.empty("propertiesChanged")
	w.close(name)
}

// renderSimple writes an operation response: <op>Response, with
// <op>Result><guid> when guid is set (ABContactAdd, ABGroupAdd,
// ABGroupContactAdd), a bare ABAddResult for ABAdd, or empty.
func renderSimple(accountID int64, op, resultGUID string) []byte {
	w := &xw{b: make([]byte, 0, 1024)}
	w.envelopeStart(cacheKey(accountID))
	resp := op + "Response"
	switch {
	case op == "ABAdd":
		w.openNS(resp)
		w.leaf("ABAddResult", resultGUID)
		w.close(resp)
	case resultGUID != "":
		w.openNS(resp)
		w.open(op + "Result")
		w.leaf("guid", resultGUID)
		w.close(op + "Result")
		w.close(resp)
	default:
		w.raw("<" + resp + ` xmlns="` + nsAB + `" />`)
	}
	w.envelopeEnd()
	return w.b
}
