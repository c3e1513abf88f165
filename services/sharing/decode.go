package sharing

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Request limits: far above what any client sends (PID splits at 150
// contacts), low enough that one call cannot hold the owner's lock long.
const (
	maxMembersPerRequest = 1000
	maxAnnotations       = 16
	maxPhoneLength       = 32
)

// findRequest is a decoded FindMembership.
type findRequest struct {
	// Messenger is false when serviceFilter names service types but not
	// Messenger: the answer then has an empty Services list.
	Messenger bool
	// Since is the delta cursor (0: full answer).
	Since int64
}

// decodeFindMembership reads serviceFilter, deltasOnly and lastChange.
//
// It never fails on its own: an ordinary FindMembership must not get a
// persistent fault (purple retries it forever, clients/RESPONSES.md §2). A
// deltasOnly that is not a boolean counts as false (a full answer is always
// correct); aMSN sends deltasOnly=false with a lastChange, which is ignored.
// A delta cursor that does not parse is FullSyncRequired: the clients that
// send deltas (papyon, msnp-sharp) then fetch everything.
func decodeFindMembership(op *etree.Element) (findRequest, error) {
	req := findRequest{Messenger: true}
	if types := soap.Path(op, "serviceFilter", "Types"); types != nil {
		req.Messenger = false
		for _, t := range soap.Children(types, "ServiceType") {
			if strings.EqualFold(soap.Text(t), "Messenger") {
				req.Messenger = true
			}
		}
	}
	deltas, _, err := soap.Bool(soap.Child(op, "deltasOnly"))
	if err != nil || !deltas {
		return req, nil
	}
	ts, never, err := models.ParseTimestamp(soap.Text(soap.Child(op, "lastChange")))
	if err != nil {
		return req, models.Errorf(models.CodeFullSyncRequired, "lastChange %q is not a timestamp", soap.Text(soap.Child(op, "lastChange")))
	}
	if !never {
		req.Since = models.RevisionAt(ts)
		if req.Since <= 0 {
			return req, models.Errorf(models.CodeFullSyncRequired, "lastChange %q is before any address book", soap.Text(soap.Child(op, "lastChange")))
		}
	}
	return req, nil
}

// memberRequest is a decoded AddMember or DeleteMember.
type memberRequest struct {
	// Messenger is false for another service's handle (aMSN's RoamingSeed
	// AddMember on the Profile service): accepted, nothing to do.
	Messenger bool
	Members   []models.MemberSpec
}

// otherServices are the service types of the schema that abch accepts and
// ignores in a serviceHandle (PROTOCOL.md §3.2: only Messenger matters).
var otherServices = map[string]bool{
	"profile": true, "invitation": true, "socialnetwork": true, "space": true, "folder": true,
	"event": true, "contactcategories": true, "communityquestionanswer": true,
}

// decodeMemberRequest reads serviceHandle and every Membership/Member.
// Every problem is reported before anything is written.
func decodeMemberRequest(op *etree.Element) (memberRequest, error) {
	req := memberRequest{Messenger: true}
	if h := soap.Child(op, "serviceHandle"); h != nil {
		if id := soap.Child(h, "Id"); id != nil {
			if _, _, err := soap.Int64(id); err != nil {
				return req, errBad("serviceHandle/Id %q is not an integer", soap.Text(id))
			}
		}
		typ := soap.PathText(h, "Type")
		switch {
		case typ == "" || strings.EqualFold(typ, "Messenger"):
		case otherServices[strings.ToLower(typ)]:
			req.Messenger = false
		default:
			return req, errBad("serviceHandle/Type %q is not a service type", typ)
		}
	}
	if !req.Messenger {
		return req, nil
	}
	ms := soap.Children(soap.Child(op, "memberships"), "Membership")
	if len(ms) == 0 {
		return req, errBad("memberships/Membership missing")
	}
	for _, m := range ms {
		roleText := soap.PathText(m, "MemberRole")
		if roleText == "" {
			return req, errBad("Membership/MemberRole missing")
		}
		role := canonicalRole(roleText)
		if role == "" {
			return req, models.Errorf(models.CodeRoleDoesNotExist, "role %q does not exist", roleText)
		}
		members := soap.Children(soap.Child(m, "Members"), "Member")
		if len(members) == 0 {
			return req, errBad("Membership %s has no Members/Member", role)
		}
		for _, mem := range members {
			spec, err := decodeMember(mem, role)
			if err != nil {
				return req, err
			}
			req.Members = append(req.Members, spec)
			if len(req.Members) > maxMembersPerRequest {
				return req, errBad("more than %d members in one request", maxMembersPerRequest)
			}
		}
	}
	return req, nil
}

// canonicalRole returns the role as stored, "" for roles abch does not keep.
func canonicalRole(s string) string {
	for _, r := range models.MembershipRoles {
		if strings.EqualFold(s, r) {
			return r
		}
	}
	return ""
}

// memberTypes maps xsi:type values and Type texts to member types.
var memberTypes = map[string]string{
	"passportmember": models.MemberPassport, "passport": models.MemberPassport,
	"emailmember": models.MemberEmail, "email": models.MemberEmail,
	"phonemember": models.MemberPhone, "phone": models.MemberPhone,
}

// decodeMember reads one Member: its kind (xsi:type, else Type), then the
// first of MembershipId, PassportName/Email/PhoneNumber, CID that is given
// (PROTOCOL.md §3.3: purple names Pending members by MembershipId, Digsby
// falls back to CID).
func decodeMember(mem *etree.Element, role string) (models.MemberSpec, error) {
	spec := models.MemberSpec{Role: role}
	kind := ""
	if xt, ok := soap.Attr(mem, "type"); ok {
		name := xt
		if i := strings.LastIndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		kind = memberTypes[strings.ToLower(strings.TrimSpace(name))]
		if kind == "" || !strings.HasSuffix(strings.ToLower(name), "member") {
			return spec, errBad("member type %q is not supported on the Messenger service", xt)
		}
	}
	if t := soap.PathText(mem, "Type"); t != "" {
		k := memberTypes[strings.ToLower(t)]
		if k == "" || strings.HasSuffix(strings.ToLower(t), "member") {
			return spec, errBad("member Type %q is not supported on the Messenger service", t)
		}
		if kind != "" && k != kind {
			return spec, errBad("member Type %q contradicts its xsi:type", t)
		}
		kind = k
	}
	if e := soap.Child(mem, "MembershipId"); e != nil && soap.Text(e) != "" {
		id, err := strconv.ParseInt(soap.Text(e), 10, 64)
		if err != nil || id <= 0 {
			return spec, errBad("MembershipId %q is not a positive integer", soap.Text(e))
		}
		spec.MembershipID = id
	}
	nameField := map[string]string{models.MemberPassport: "PassportName", models.MemberEmail: "Email", models.MemberPhone: "PhoneNumber"}
	if kind == "" {
		// No type given: take whichever name element is there.
		for _, k := range []string{models.MemberPassport, models.MemberEmail, models.MemberPhone} {
			if soap.PathText(mem, nameField[k]) != "" {
				kind = k
				break
			}
		}
	}
	if kind != "" && spec.MembershipID == 0 {
		if raw := soap.PathText(mem, nameField[kind]); raw != "" {
			name, err := normalizeName(kind, raw)
			if err != nil {
				return spec, err
			}
			spec.Type, spec.Name = kind, name
		} else if e := soap.Child(mem, nameField[kind]); e != nil {
			return spec, errBad("member %s is empty", nameField[kind])
		}
	}
	if spec.MembershipID == 0 && spec.Name == "" {
		if e := soap.Child(mem, "CID"); e != nil && soap.Text(e) != "" {
			cid, err := strconv.ParseInt(soap.Text(e), 10, 64)
			if err != nil || cid == 0 {
				return spec, errBad("CID %q is not a non-zero integer", soap.Text(e))
			}
			spec.CID = cid
		} else {
			return spec, errBad("member has no PassportName, Email, PhoneNumber, MembershipId or CID")
		}
	}
	// papyon's Yahoo members carry MSN.IM.BuddyType=32:; they are stored
	// and echoed.
	anns, err := soap.Annotations(soap.Child(mem, "Annotations"), maxAnnotations)
	if err != nil {
		return spec, err
	}
	spec.Annotations = anns
	return spec, nil
}

// normalizeName checks and lower-cases a member's address.
func normalizeName(kind, raw string) (string, error) {
	if kind == models.MemberPhone {
		if len(raw) > maxPhoneLength {
			return "", errBad("PhoneNumber %q is too long", raw)
		}
		for i, c := range raw {
			if !(c >= '0' && c <= '9' || c == '+' && i == 0 || c == '-' || c == ' ' || c == '(' || c == ')') {
				return "", errBad("PhoneNumber %q is not a phone number", raw)
			}
		}
		return raw, nil
	}
	name, err := models.NormalizeEmail(raw)
	if err != nil {
		field := "PassportName"
		if kind == models.MemberEmail {
			field = "Email"
		}
		return "", errBad("%s %q is not a valid address", field, raw)
	}
	return name, nil
}
