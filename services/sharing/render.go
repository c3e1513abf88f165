package sharing

import (
	"strconv"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// ServiceVersion is the ServiceHeader/Version abch reports (a value real
// servers sent, PROTOCOL.md §0.4; only Version is mandatory in the XSD).
const ServiceVersion = "15.01.1408.0000"

// messengerServiceID is Info/Handle/Id of the Messenger service. Clients
// address it as Id 0 in AddMember/DeleteMember whatever we report (§3.3).
const messengerServiceID = "1"

// inviteAnnotation carries the invitation text on Pending members (papyon
// and purple 2.6+ show it in the "X added you" dialog, §3.2).
const inviteAnnotation = "MSN.IM.InviteMessage"

// newEnvelope starts a Sharing answer: soap:Envelope with the ServiceHeader.
// Nothing per-request goes in it (no SessionId) so full answers can be
// cached and golden files are byte-exact.
func newEnvelope() *soap.Envelope {
	env := soap.NewEnvelope()
	sh := env.Head().CreateElement("ServiceHeader")
	sh.CreateAttr("xmlns", soap.NSAB)
	soap.Elem(sh, "Version", ServiceVersion)
	soap.Elem(sh, "CacheKeyChanged", "false")
	return env
}

// emptyResponse is <name xmlns="…AddressBook"/> (AddMember/DeleteMember:
// every client ignores the body, clients/RESPONSES.md §3).
func emptyResponse(name string) []byte {
	env := newEnvelope()
	env.Body.CreateElement(name).CreateAttr("xmlns", soap.NSAB)
	return env.Bytes()
}

// renderFindMembership builds the FindMembership answer for set
// (clients/RESPONSES.md §3 "FindMembership"): one Messenger service, roles
// Allow/Block/Reverse/Pending only, each member with xsi:type and an
// integer MembershipId; Service/LastChange = OwnerNamespace/LastChange =
// the owner's revision (PROTOCOL.md §11). A delta with no change has an
// empty <Memberships/> (tolerated by every client). Without Messenger in the
// filter, Services is empty and only OwnerNamespace is given.
func renderFindMembership(set *store.MembershipSet, messenger bool) []byte {
	env := newEnvelope()
	resp := env.Body.CreateElement("FindMembershipResponse")
	resp.CreateAttr("xmlns", soap.NSAB)
	result := resp.CreateElement("FindMembershipResult")
	services := result.CreateElement("Services")
	lastChange := models.FormatRevision(set.Revision)
	if messenger {
		svc := services.CreateElement("Service")
		ms := svc.CreateElement("Memberships")
		var (
			current string
			members *etree.Element
			roles   []*etree.Element
		)
		for i := range set.Members {
			m := &set.Members[i]
			if m.Role != current {
				current = m.Role
				mb := ms.CreateElement("Membership")
				soap.Elem(mb, "MemberRole", m.Role)
				members = mb.CreateElement("Members")
				roles = append(roles, mb)
			}
			renderMember(members, m)
		}
		for _, mb := range roles {
			soap.Elem(mb, "MembershipIsComplete", "true")
		}
		info := svc.CreateElement("Info")
		h := info.CreateElement("Handle")
		soap.Elem(h, "Id", messengerServiceID)
		soap.Elem(h, "Type", "Messenger")
		soap.Elem(h, "ForeignId", "")
		soap.Elem(info, "InverseRequired", "false")
		soap.Elem(info, "AuthorizationCriteria", "Everyone")
		soap.Elem(info, "IsBot", "false")
		soap.Elem(svc, "Changes", "")
		soap.Elem(svc, "LastChange", lastChange)
		soap.Elem(svc, "Deleted", "false")
	}
	renderOwnerNamespace(result, &set.Account, lastChange)
	return env.Bytes()
}

// renderMember writes one Member in the XSD's element order (BaseMember,
// then the PassportMember/EmailMember/PhoneMember fields).
func renderMember(parent *etree.Element, m *models.Membership) {
	e := parent.CreateElement("Member")
	e.CreateAttr("xsi:type", m.MemberType+"Member")
	soap.Elem(e, "MembershipId", strconv.FormatInt(m.ID, 10))
	soap.Elem(e, "Type", m.MemberType)
	if m.DisplayName != "" {
		soap.Elem(e, "DisplayName", m.DisplayName)
	}
	soap.Elem(e, "State", m.State)
	anns := models.DecodeAnnotations(m.Annotations)
	if m.Role == models.RolePending && m.InviteMessage != "" {
		anns = append(anns, models.Annotation{Name: inviteAnnotation, Value: m.InviteMessage})
	}
	if len(anns) > 0 {
		ae := e.CreateElement("Annotations")
		for _, a := range anns {
			an := ae.CreateElement("Annotation")
			soap.Elem(an, "Name", a.Name)
			soap.Elem(an, "Value", a.Value)
		}
	}
	soap.Elem(e, "Deleted", soap.BoolText(m.Deleted))
	soap.Elem(e, "LastChanged", models.FormatRevision(m.Rev))
	soap.Elem(e, "JoinedDate", models.FormatTime(m.JoinedAt))
	soap.Elem(e, "ExpirationDate", models.NeverTimestamp)
	soap.Elem(e, "Changes", "")
	switch m.MemberType {
	case models.MemberEmail:
		soap.Elem(e, "Email", m.MemberName)
	case models.MemberPhone:
		soap.Elem(e, "PhoneNumber", m.MemberName)
	default:
		soap.Elem(e, "PassportName", m.MemberName)
		soap.Elem(e, "IsPassportNameHidden", "false")
		soap.Elem(e, "PassportId", "0")
		soap.Elem(e, "CID", strconv.FormatInt(m.CID, 10))
		soap.Elem(e, "PassportChanges", "")
		soap.Elem(e, "LookedupByCID", "false")
	}
}

// renderOwnerNamespace writes the per-user namespace header (§3.2).
func renderOwnerNamespace(result *etree.Element, a *models.Account, lastChange string) {
	ns := result.CreateElement("OwnerNamespace")
	info := ns.CreateElement("Info")
	h := info.CreateElement("Handle")
	soap.Elem(h, "Id", models.ZeroGUID)
	soap.Elem(h, "IsPassportNameHidden", "false")
	soap.Elem(h, "CID", "0")
	soap.Elem(info, "CreatorPuid", "0")
	soap.Elem(info, "CreatorCID", strconv.FormatInt(a.CID, 10))
	soap.Elem(info, "CreatorPassportName", a.Email)
	ca := info.CreateElement("CircleAttributes")
	soap.Elem(ca, "IsPresenceEnabled", "false")
	soap.Elem(ca, "Domain", "WindowsLive")
	soap.Elem(info, "MessengerApplicationServiceCreated", "false")
	soap.Elem(ns, "Changes", "")
	soap.Elem(ns, "CreateDate", models.FormatTime(a.CreatedAt))
	soap.Elem(ns, "LastChange", lastChange)
}
