package sharing

import (
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/xmlw"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// messengerServiceID is Info/Handle/Id of the Messenger service. Clients
// address it as Id 0 in AddMember/DeleteMember whatever we report (§3.3).
const messengerServiceID = "1"

// messengerServiceInfo is the constant part of the Messenger service after
// its Memberships: Info (Handle Id/Type/ForeignId, InverseRequired,
// AuthorizationCriteria, IsBot) and an empty Changes (§3.2).
const messengerServiceInfo = `<Info><Handle><Id>` + messengerServiceID + `</Id><Type>Messenger</Type><ForeignId/></Handle>` +
	`<InverseRequired>false</InverseRequired><AuthorizationCriteria>Everyone</AuthorizationCriteria><IsBot>false</IsBot></Info><Changes/>`

// inviteAnnotation carries the invitation text on Pending members (papyon
// and purple 2.6+ show it in the "X added you" dialog, §3.2).
const inviteAnnotation = "MSN.IM.InviteMessage"

// emptyResponse is <name xmlns="…AddressBook"/> (AddMember/DeleteMember:
// every client ignores the body, clients/RESPONSES.md §3) for the account
// with accountID. Nothing per-request goes in the header (the account's
// CacheKey, no SessionId), so full answers can be cached and golden files
// are byte-exact.
func emptyResponse(accountID int64, name string) []byte {
	return soap.EmptyResponse(soap.BeginAB(512, accountID), name, soap.NSAB)
}

// renderFindMembership builds the FindMembership answer for set
// (clients/RESPONSES.md §3 "FindMembership"): one Messenger service, roles
// Allow/Block/Reverse/Pending only, each member with xsi:type and an
// integer MembershipId; Service/LastChange = OwnerNamespace/LastChange =
// the owner's revision (PROTOCOL.md §11). A delta with no change has an
// empty <Memberships/> (tolerated by every client). Without Messenger in the
// filter, Services is empty and only OwnerNamespace is given.
func renderFindMembership(set *store.MembershipSet, messenger bool) []byte {
	w := soap.BeginAB(2048+len(set.Members)*700, set.Account.ID)
	w.OpenAttr("FindMembershipResponse", "xmlns", soap.NSAB)
	w.Open("FindMembershipResult")
	lastChange := models.FormatRevision(set.Revision)
	if messenger {
		w.Open("Services")
		w.Open("Service")
		renderMemberships(w, set.Members)
		w.Raw(messengerServiceInfo)
		w.Leaf("LastChange", lastChange)
		w.Leaf("Deleted", "false")
		w.Close("Service")
		w.Close("Services")
	} else {
		w.Empty("Services")
	}
	renderOwnerNamespace(w, &set.Account, lastChange)
	w.Close("FindMembershipResult")
	w.Close("FindMembershipResponse")
	return soap.End(w)
}

// renderMemberships writes one Membership per role, members being sorted
// by role: MemberRole, Members, MembershipIsComplete.
func renderMemberships(w *xmlw.Writer, members []models.Membership) {
	if len(members) == 0 {
		w.Empty("Memberships")
		return
	}
	w.Open("Memberships")
	for i := range members {
		m := &members[i]
		if i == 0 || m.Role != members[i-1].Role {
			if i > 0 {
				closeMembership(w)
			}
			w.Open("Membership")
			w.Leaf("MemberRole", m.Role)
			w.Open("Members")
		}
		renderMember(w, m)
	}
	closeMembership(w)
	w.Close("Memberships")
}

func closeMembership(w *xmlw.Writer) {
	w.Close("Members")
	w.Leaf("MembershipIsComplete", "true")
	w.Close("Membership")
}

// renderMember writes one Member in the XSD's element order (BaseMember,
// then the PassportMember/EmailMember/PhoneMember fields).
func renderMember(w *xmlw.Writer, m *models.Membership) {
	w.Start("Member")
	w.Attr("xsi:type", m.MemberType+"Member")
	w.EndStart()
	w.Int("MembershipId", m.ID)
	w.Leaf("Type", m.MemberType)
	if m.DisplayName != "" {
		w.Leaf("DisplayName", m.DisplayName)
	}
	w.Leaf("State", m.State)
	anns := models.DecodeAnnotations(m.Annotations)
	if m.Role == models.RolePending && m.InviteMessage != "" {
		anns = append(anns, models.Annotation{Name: inviteAnnotation, Value: m.InviteMessage})
	}
	soap.WriteAnnotations(w, "Annotations", anns)
	if m.Deleted {
		w.Raw("<Deleted>true</Deleted>")
	} else {
		w.Raw("<Deleted>false</Deleted>")
	}
	w.Time("LastChanged", models.RevisionTime(m.Rev))
	w.Time("JoinedDate", m.JoinedAt)
	w.Raw("<ExpirationDate>" + models.NeverTimestamp + "</ExpirationDate><Changes/>")
	switch m.MemberType {
	case models.MemberEmail:
		w.Leaf("Email", m.MemberName)
	case models.MemberPhone:
		w.Leaf("PhoneNumber", m.MemberName)
	default:
		w.Leaf("PassportName", m.MemberName)
		w.Raw("<IsPassportNameHidden>false</IsPassportNameHidden><PassportId>0</PassportId>")
		w.Int("CID", m.CID)
		w.Raw("<PassportChanges/><LookedupByCID>false</LookedupByCID>")
	}
	w.Raw("</Member>")
}

// renderOwnerNamespace writes the per-user namespace header (§3.2).
func renderOwnerNamespace(w *xmlw.Writer, a *models.Account, lastChange string) {
	w.Open("OwnerNamespace")
	w.Open("Info")
	w.Open("Handle")
	w.Leaf("Id", models.ZeroGUID)
	w.Leaf("IsPassportNameHidden", "false")
	w.Leaf("CID", "0")
	w.Close("Handle")
	w.Leaf("CreatorPuid", "0")
	w.Int("CreatorCID", a.CID)
	w.Leaf("CreatorPassportName", a.Email)
	w.Open("CircleAttributes")
	w.Leaf("IsPresenceEnabled", "false")
	w.Leaf("Domain", "WindowsLive")
	w.Close("CircleAttributes")
	w.Leaf("MessengerApplicationServiceCreated", "false")
	w.Close("Info")
	w.Empty("Changes")
	w.Leaf("CreateDate", models.FormatTime(a.CreatedAt))
	w.Leaf("LastChange", lastChange)
	w.Close("OwnerNamespace")
}
