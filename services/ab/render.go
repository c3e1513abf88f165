package ab

import (
	"strconv"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/xmlw"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

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
	w := soap.BeginAB(bookSize(b), b.Owner.ID)
	w.Spaced = true
	groups, contacts, abName := "groups", "contacts", "ab"
	if form == formPaged {
		w.OpenAttr("ABFindContactsPagedResponse", "xmlns", soap.NSAB)
		w.Open("ABFindContactsPagedResult")
		groups, contacts, abName = "Groups", "Contacts", "Ab"
	} else {
		w.OpenAttr("ABFindAllResponse", "xmlns", soap.NSAB)
		w.Open("ABFindAllResult")
	}
	if len(b.Groups) == 0 {
		w.Empty(groups)
	} else {
		w.Open(groups)
		for i := range b.Groups {
			writeGroup(w, &b.Groups[i])
		}
		w.Close(groups)
	}
	if len(b.Contacts) == 0 {
		w.Empty(contacts)
	} else {
		w.Open(contacts)
		for i := range b.Contacts {
			writeContact(w, &b.Owner, &b.Contacts[i])
		}
		w.Close(contacts)
	}
	if form == formPaged {
		// Required by the XSD; circles are out of scope (PROTOCOL.md §1.2).
		w.Open("CircleResult")
		w.Empty("CircleTicket")
		w.Close("CircleResult")
	}
	writeAB(w, abName, &b.Owner, form)
	if form == formPaged {
		w.Close("ABFindContactsPagedResult")
		w.Close("ABFindContactsPagedResponse")
	} else {
		w.Close("ABFindAllResult")
		w.Close("ABFindAllResponse")
	}
	return soap.End(w)
}

// bookSize is an upper estimate of b's answer, so the writer's buffer is
// allocated once (a 300-contact book is about 300 KB; growing it copies
// that again).
func bookSize(b *store.Book) int {
	n := 4096 + len(b.Groups)*600
	for i := range b.Contacts {
		c := &b.Contacts[i]
		// ~950 bytes of markup, text at most doubled by escaping (the
		// display name appears up to twice), a group id ~60 bytes.
		n += 1024 + 2*(2*len(c.DisplayName)+len(c.QuickName)+len(c.PassportName)+len(c.Email)+len(c.Annotations)+
			len(c.FirstName)+len(c.MiddleName)+len(c.LastName)+len(c.Comment)+len(c.Birthdate)) + 64*len(c.GroupGUIDs)
	}
	return n
}

func writeGroup(w *xmlw.Writer, g *models.Group) {
	w.Open("Group")
	w.Leaf("groupId", g.GUID)
	w.Open("groupInfo")
	soap.WriteAnnotations(w, "annotations", models.DecodeAnnotations(g.Annotations))
	w.Leaf("groupType", models.MessengerGroupType)
	w.Leaf("name", g.Name)
	w.Bool("IsNotMobileVisible", false)
	w.Bool("IsPrivate", false)
	if g.IsFavorite {
		w.Bool("IsFavorite", true)
	}
	w.Close("groupInfo")
	w.Empty("propertiesChanged")
	w.Raw(leafDeleted.of(g.Deleted))
	w.Time("lastChange", models.RevisionTime(g.Rev))
	w.Close("Group")
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

// writeEmailOnly writes the emails list of an e-mail-only entry.
func writeEmailOnly(w *xmlw.Writer, email string) {
	w.Open("emails")
	w.Open("ContactEmail")
	w.Leaf("contactEmailType", "ContactEmailPersonal")
	w.Leaf("email", email)
	w.Bool("isMessengerEnabled", false)
	w.Leaf("Capability", "0")
	w.Bool("MessengerEnabledExternally", false)
	w.Empty("propertiesChanged")
	w.Close("ContactEmail")
	w.Close("emails")
}

// writeGroupIDs writes the groups a contact is in, nothing for none.
func writeGroupIDs(w *xmlw.Writer, guids []string) {
	if len(guids) == 0 {
		return
	}
	w.Open("groupIds")
	for _, g := range guids {
		w.Leaf("guid", g)
	}
	w.Close("groupIds")
}

// The constant runs of a contact, written as one string each (the
// Address Book's spelling: Spaced empty elements). Every variable value
// still goes through the writer's escaping.
const (
	contactTail = `<spotWatchState>NoDevice</spotWatchState>`
	contactEnd  = `<primaryEmailType>ContactEmailPersonal</primaryEmailType><PrimaryLocation>ContactLocationPersonal</PrimaryLocation>` +
		`<PrimaryPhone>ContactPhonePersonal</PrimaryPhone><IsPrivate>false</IsPrivate><Gender>Unspecified</Gender><TimeZone>None</TimeZone>` +
		`</contactInfo><propertiesChanged />`
)

// boolLeaf is <name>true</name> / <name>false</name> as two constants.
type boolLeaf [2]string

func newBoolLeaf(name string) boolLeaf {
	return boolLeaf{"<" + name + ">false</" + name + ">", "<" + name + ">true</" + name + ">"}
}

func (l *boolLeaf) of(v bool) string {
	if v {
		return l[1]
	}
	return l[0]
}

var (
	leafMobileIM  = newBoolLeaf("isMobileIMEnabled")
	leafMessenger = newBoolLeaf("isMessengerUser")
	leafFavorite  = newBoolLeaf("isFavorite")
	leafSMTP      = newBoolLeaf("isSmtp")
	leafSpace     = newBoolLeaf("hasSpace")
	leafDeleted   = newBoolLeaf("fDeleted")
)

func writeContact(w *xmlw.Writer, owner *models.Account, c *store.BookContact) {
	me := c.Key == models.MeKey
	w.Raw("<Contact>")
	w.Leaf("contactId", c.GUID)
	w.Raw("<contactInfo>")
	if c.PassportName == "" && c.Email != "" {
		writeEmailOnly(w, c.Email) // not on the Forward List
	}
	anns := models.DecodeAnnotations(c.Annotations)
	if me {
		anns = meAnnotations(owner, anns)
	}
	soap.WriteAnnotations(w, "annotations", anns)
	writeGroupIDs(w, c.GroupGUIDs)
	display, passport := c.DisplayName, c.PassportName
	if me {
		display, passport = owner.DisplayName, owner.EmailLower
	}
	if display == "" {
		display = passport + c.Email
	}
	w.Leaf("contactType", c.ContactType) // before CID: emesene splits on it (RESPONSES.md §3)
	quick := c.QuickName
	if quick == "" || me {
		quick = display
	}
	w.Leaf("quickName", quick)
	if c.FirstName != "" {
		w.Leaf("firstName", c.FirstName)
	}
	if c.MiddleName != "" {
		w.Leaf("MiddleName", c.MiddleName)
	}
	if c.LastName != "" {
		w.Leaf("lastName", c.LastName)
	}
	if passport != "" {
		w.Leaf("passportName", passport)
		w.Raw("<IsPassportNameHidden>false</IsPassportNameHidden>")
	}
	w.Leaf("displayName", display)
	w.Raw("<puid>0</puid>")
	w.Int("CID", c.CID)
	if c.Comment != "" {
		w.Leaf("comment", c.Comment)
	}
	w.Raw("<IsNotMobileVisible>false</IsNotMobileVisible>")
	w.Raw(leafMobileIM.of(c.IsMobileIMEnabled))
	// The Me contact is never a Messenger user of its own book: emesene
	// would list you as your own buddy (RESPONSES.md §3).
	w.Raw(leafMessenger.of(c.IsMessengerUser && !me))
	w.Raw(leafFavorite.of(c.IsFavorite))
	w.Raw(leafSMTP.of(c.IsSMTP))
	w.Raw(leafSpace.of(c.HasSpace))
	w.Raw(contactTail)
	birth := c.Birthdate
	if birth == "" {
		birth = models.NeverTimestamp // papyon parses it: must be a valid ISO value
	}
	w.Leaf("birthdate", birth)
	w.Raw(contactEnd)
	w.Raw(leafDeleted.of(c.Deleted))
	w.Time("lastChange", models.RevisionTime(c.Rev))
	w.Raw("</Contact>")
}

func writeAB(w *xmlw.Writer, name string, owner *models.Account, form findForm) {
	w.Open(name)
	w.Leaf("abId", models.ZeroGUID)
	w.Open("abInfo")
	w.Leaf("ownerPuid", "0")
	w.Leaf("OwnerCID", strconv.FormatInt(owner.CID, 10))
	w.Leaf("ownerEmail", owner.EmailLower)
	w.Bool("fDefault", true)
	w.Bool("joinedNamespace", false)
	w.Bool("IsBot", false)
	w.Bool("IsParentManaged", false)
	w.Bool("SubscribeExternalPartner", false)
	w.Bool("NotifyExternalPartner", false)
	w.Leaf("AddressBookType", "Individual")
	w.Close("abInfo")
	w.Leaf("lastChange", models.FormatRevision(owner.Revision))
	w.Leaf("DynamicItemLastChanged", models.NeverTimestamp)
	if form == formPaged {
		w.Leaf("RecentActivityItemLastChanged", models.NeverTimestamp)
	}
	w.Leaf("createDate", models.FormatTime(owner.CreatedAt))
	w.Empty("propertiesChanged")
	w.Close(name)
}

// renderSimple writes an operation response: <op>Response, with
// <op>Result><guid> when guid is set (ABContactAdd, ABGroupAdd,
// ABGroupContactAdd), a bare ABAddResult for ABAdd, or empty.
func renderSimple(accountID int64, op, resultGUID string) []byte {
	w := soap.BeginAB(1024, accountID)
	w.Spaced = true
	resp := op + "Response"
	switch {
	case op == "ABAdd":
		w.OpenAttr(resp, "xmlns", soap.NSAB)
		w.Leaf("ABAddResult", resultGUID)
		w.Close(resp)
	case resultGUID != "":
		w.OpenAttr(resp, "xmlns", soap.NSAB)
		w.Open(op + "Result")
		w.Leaf("guid", resultGUID)
		w.Close(op + "Result")
		w.Close(resp)
	default:
		w.EmptyAttr(resp, "xmlns", soap.NSAB)
	}
	return soap.End(w)
}
