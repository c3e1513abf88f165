package ab

import (
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Input limits. Friendly names are at most 129 characters, up to three
// bytes each once URL-encoded (PROTOCOL.md §1.3); other texts get a generous
// bound so one request cannot store megabytes.
const (
	maxDisplayName = 387
	maxText        = 1024
	maxAnnotations = 64
	maxItems       = 100 // contacts or groups per request
)

// badRequest is a CodeBadRequest error.
func badRequest(format string, args ...any) error {
	return models.Errorf(models.CodeBadRequest, format, args...)
}

// text returns the trimmed text of e, refusing more than max characters.
func text(e *etree.Element, param string, max int) (string, error) {
	s := soap.Text(e)
	if utf8.RuneCountInString(s) > max {
		return "", soap.TooLong(param)
	}
	return s, nil
}

// guidOf reads a required GUID element (lower-cased: stored ids are).
func guidOf(e *etree.Element, what string) (string, error) {
	if e == nil {
		return "", badRequest("%s missing", what)
	}
	s := soap.Text(e)
	if !models.IsGUID(s) {
		return "", badRequest("%s %q is not a GUID", what, soap.Truncate(s, 64))
	}
	return strings.ToLower(s), nil
}

// guidList reads <guid> children of a groupIds element (at least one).
func guidList(e *etree.Element, what string) ([]string, error) {
	return decodeAll(soap.Children(e, "guid"), what, "guid", "ids", func(k *etree.Element) (string, error) {
		return guidOf(k, what)
	})
}

// decodeAll decodes 1 to maxItems elements with decode; none is
// "<who>: no <one>", too many "<who>: more than maxItems <many>", both
// BadRequest.
func decodeAll[T any](kids []*etree.Element, who, one, many string, decode func(*etree.Element) (T, error)) ([]T, error) {
	if len(kids) == 0 {
		return nil, badRequest("%s: no %s", who, one)
	}
	if len(kids) > maxItems {
		return nil, badRequest("%s: more than %d %s", who, maxItems, many)
	}
	out := make([]T, 0, len(kids))
	for _, k := range kids {
		v, err := decode(k)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// checkAbID enforces that the request addresses the caller's own book:
// abId absent or the zero GUID (the individual book's id; non-zero ids are
// MSNP18 circles, PROTOCOL.md §1.1). Anything else is refused, so no
// request can name another account's book.
func checkAbID(op *etree.Element) error {
	e := soap.Child(op, "abId")
	if e == nil {
		if h := soap.Child(op, "abHandle"); h != nil {
			e = soap.Child(h, "ABId")
		}
	}
	if e == nil {
		return nil
	}
	s := soap.Text(e)
	if !models.IsGUID(s) {
		return badRequest("abId %q is not a GUID", soap.Truncate(s, 64))
	}
	if s != models.ZeroGUID {
		return models.Errorf(models.CodeInvalidArgument, "abId %s is not your address book; use %s", s, models.ZeroGUID)
	}
	return nil
}

// boolOf reads an optional boolean element with a default.
func boolOf(e *etree.Element, def bool) (bool, error) {
	v, present, err := soap.Bool(e)
	if err != nil {
		return false, err
	}
	if !present {
		return def, nil
	}
	return v, nil
}

// emailOf validates an address the way ABContactAdd reports it
// (BadEmailArgument, PROTOCOL.md §2.1).
func emailOf(s string) (string, error) {
	lower, err := models.NormalizeEmail(s)
	if err != nil {
		msg := "Malformed email Argument Email " + soap.Truncate(s, 129)
		if !strings.Contains(s, "@") {
			msg = "Malformed email Argument Email missing '@' character"
		}
		return "", &models.Error{Code: models.CodeBadEmailArgument, Message: msg, Err: err}
	}
	return lower, nil
}

// memberInfo reads MessengerMemberInfo (what the target sees on its Pending
// entry): DisplayName and the MSN.IM.InviteMessage pending annotation.
func memberInfo(e *etree.Element, in *models.NewContact) error {
	if e == nil {
		return nil
	}
	var err error
	if in.InviterName, err = text(soap.Child(e, "DisplayName"), "DisplayName", maxDisplayName); err != nil {
		return err
	}
	anns, err := soap.Annotations(soap.Child(e, "PendingAnnotations"), maxAnnotations)
	if err != nil {
		return err
	}
	for _, a := range anns {
		if strings.EqualFold(a.Name, "MSN.IM.InviteMessage") {
			in.InviteMessage = a.Value
		}
	}
	return nil
}

// contactInput decodes the contactInfo of an ABContactAdd/ABGroupContactAdd
// Contact. A passportName makes a passport contact (a Forward List entry
// unless isMessengerUser=false); an e-mail address (emails/ContactEmail, or
// aMSN's bare contactInfo/email) makes an e-mail-only entry. A request to
// reach a federated network (Yahoo: isMessengerEnabled=true,
// contactEmailType=Messenger2, MSN.IM.BuddyType 32:) is refused with
// InvalidPassportUser: abch has no gateway, and every client maps that
// errorcode to "invalid contact address" (docs/ab.md).
func contactInput(info *etree.Element) (*models.NewContact, error) {
	if info == nil {
		return nil, badRequest("Contact has no contactInfo")
	}
	in := &models.NewContact{}
	if strings.EqualFold(soap.PathText(info, "contactType"), models.ContactTypeMe) {
		return nil, badRequest("the Me contact cannot be added")
	}
	passport, err := text(soap.Child(info, "passportName"), "PassportName", models.MaxEmailLength+64)
	if err != nil {
		return nil, err
	}
	email := firstEmail(info)
	anns, err := soap.Annotations(soap.Child(info, "annotations"), maxAnnotations)
	if err != nil {
		return nil, err
	}
	federated := federatedRequest(info, anns)
	in.Annotations = anns
	switch {
	case passport != "":
		if in.PassportName, err = emailOf(passport); err != nil {
			return nil, err
		}
		if in.IsMessengerUser, err = boolOf(soap.Child(info, "isMessengerUser"), true); err != nil {
			return nil, err
		}
	case email != "":
		addr, err := emailOf(email)
		if err != nil {
			return nil, err
		}
		if federated {
			return nil, models.Errorf(models.CodeInvalidPassportUser, "The Passport user specified is invalid SignInName: %s (federated networks such as Yahoo are not served)", addr)
		}
		if _, err := boolOf(soap.Child(info, "isMessengerUser"), false); err != nil {
			return nil, err
		}
		in.Email = addr
	default:
		return nil, badRequest("Contact has neither passportName nor an e-mail address")
	}
	if err := contactNames(info, in); err != nil {
		return nil, err
	}
	if err := memberInfo(soap.Child(info, "MessengerMemberInfo"), in); err != nil {
		return nil, err
	}
	return in, nil
}

// firstEmail is the e-mail address of a contactInfo: aMSN's bare email,
// else the first emails/ContactEmail.
func firstEmail(info *etree.Element) string {
	if email := soap.PathText(info, "email"); email != "" {
		return email
	}
	for _, ce := range soap.Children(soap.Child(info, "emails"), "ContactEmail") {
		if email := soap.PathText(ce, "email"); email != "" {
			return email
		}
	}
	return ""
}

// federatedRequest reports whether a contactInfo asks for a federated
// network's contact (Yahoo): isMessengerEnabled=true, contactEmailType
// Messenger2, or an MSN.IM.BuddyType 32: annotation.
func federatedRequest(info *etree.Element, anns []models.Annotation) bool {
	if v, _ := boolOf(soap.Child(info, "isMessengerEnabled"), false); v {
		return true
	}
	for _, ce := range soap.Children(soap.Child(info, "emails"), "ContactEmail") {
		if v, _ := boolOf(soap.Child(ce, "isMessengerEnabled"), false); v {
			return true
		}
		if strings.EqualFold(soap.PathText(ce, "contactEmailType"), "Messenger2") {
			return true
		}
	}
	for _, a := range anns {
		if strings.EqualFold(a.Name, "MSN.IM.BuddyType") && strings.HasPrefix(a.Value, "32") {
			return true
		}
	}
	return false
}

// contactNames reads the name and comment fields of a contactInfo.
func contactNames(info *etree.Element, in *models.NewContact) error {
	fields := []struct {
		name, param string
		max         int
		dst         *string
	}{
		{"displayName", "DisplayName", maxDisplayName, &in.DisplayName},
		{"quickName", "QuickName", maxDisplayName, &in.QuickName},
		{"firstName", "FirstName", maxText, &in.FirstName},
		{"MiddleName", "MiddleName", maxText, &in.MiddleName},
		{"lastName", "LastName", maxText, &in.LastName},
		{"comment", "Comment", maxText, &in.Comment},
	}
	for _, f := range fields {
		v, err := text(soap.Child(info, f.name), f.param, f.max)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	return nil
}

// propertiesChanged splits the space-separated list (pidgin and emesene add
// a trailing space) into lower-cased tokens.
func propertiesChanged(e *etree.Element) map[string]bool {
	out := map[string]bool{}
	for _, f := range strings.Fields(soap.Text(e)) {
		out[strings.ToLower(f)] = true
	}
	return out
}

// Property tokens of propertiesChanged that abch applies (lower-cased,
// PROTOCOL.md §2.3). Others are accepted and ignored.
const (
	propDisplayName     = "displayname"
	propQuickName       = "contactquickname"
	propFirstName       = "contactfirstname"
	propMiddleName      = "middlename"
	propLastName        = "contactlastname"
	propComment         = "comment"
	propBirthdate       = "contactbirthdate"
	propIsMessengerUser = "ismessengeruser"
	propHasSpace        = "hasspace"
	propAnnotation      = "annotation"
)

// contactUpdate decodes one ABContactUpdate Contact: the fields its
// propertiesChanged names, and on the Me contact the owner's settings.
func contactUpdate(c *etree.Element) (models.ContactChange, error) {
	changed := propertiesChanged(soap.Child(c, "propertiesChanged"))
	var u models.ContactChange
	info := soap.Child(c, "contactInfo")
	if id := soap.Child(c, "contactId"); id != nil {
		g, err := guidOf(id, "contactId")
		if err != nil {
			return u, err
		}
		u.GUID = g
	} else if strings.EqualFold(soap.PathText(info, "contactType"), models.ContactTypeMe) {
		u.Me = true
	} else {
		return u, badRequest("Contact has neither contactId nor contactType Me")
	}
	if len(changed) == 0 {
		return u, badRequest("Contact %s: propertiesChanged is empty", u.GUID)
	}
	strs := []struct {
		prop, name, param string
		max               int
		dst               **string
	}{
		{propDisplayName, "displayName", "DisplayName", maxDisplayName, &u.DisplayName},
		{propQuickName, "quickName", "QuickName", maxDisplayName, &u.QuickName},
		{propFirstName, "firstName", "FirstName", maxText, &u.FirstName},
		{propMiddleName, "MiddleName", "MiddleName", maxText, &u.MiddleName},
		{propLastName, "lastName", "LastName", maxText, &u.LastName},
		{propComment, "comment", "Comment", maxText, &u.Comment},
	}
	for _, f := range strs {
		if changed[f.prop] {
			v, err := text(soap.Child(info, f.name), f.param, f.max)
			if err != nil {
				return u, err
			}
			*f.dst = &v
		}
	}
	if err := contactFlags(info, changed, &u); err != nil {
		return u, err
	}
	if changed[propAnnotation] {
		anns, err := soap.Annotations(soap.Child(info, "annotations"), maxAnnotations)
		if err != nil {
			return u, err
		}
		u.Annotations, u.Settings, err = meSettings(anns)
		if err != nil {
			return u, err
		}
	}
	return u, nil
}

// contactFlags decodes the birthdate, isMessengerUser and hasSpace of an
// ABContactUpdate Contact when propertiesChanged names them.
func contactFlags(info *etree.Element, changed map[string]bool, u *models.ContactChange) error {
	if changed[propBirthdate] {
		s := soap.PathText(info, "birthdate")
		t, never, err := models.ParseTimestamp(s)
		if err != nil {
			return badRequest("birthdate %q is not a timestamp", soap.Truncate(s, 64))
		}
		b := ""
		if !never {
			b = t.Format("2006-01-02T15:04:05")
		}
		u.Birthdate = &b
	}
	if changed[propIsMessengerUser] {
		v, present, err := soap.Bool(soap.Child(info, "isMessengerUser"))
		if err != nil {
			return err
		}
		if !present {
			return badRequest("propertiesChanged names IsMessengerUser but isMessengerUser is missing")
		}
		u.IsMessengerUser = &v
	}
	if changed[propHasSpace] {
		v, err := boolOf(soap.Child(info, "hasSpace"), false)
		if err != nil {
			return err
		}
		u.HasSpace = &v
	}
	return nil
}

// Me-contact annotations that show the owner's settings, which live on the
// account row (PROTOCOL.md §1.3, §11).
const (
	annBLP  = "MSN.IM.BLP"
	annGTC  = "MSN.IM.GTC"
	annMBEA = "MSN.IM.MBEA"
	annRoam = "MSN.IM.RoamLiveProperties"
)

// meSettings takes the settings annotations out of anns: BLP and GTC accept
// 0, 1 and 2 (2 = BL / N, PROTOCOL.md §11), MBEA 0/1, RoamLiveProperties
// 0-2; an empty value leaves the setting as it is. The store applies
// them to the Me contact only. Another value is a BadRequest.
func meSettings(anns []models.Annotation) (rest []models.Annotation, st models.Settings, err error) {
	for _, a := range anns {
		v := strings.TrimSpace(a.Value)
		var known bool
		switch {
		case strings.EqualFold(a.Name, annBLP):
			st.BLP, known = choice(v, map[string]string{"1": models.BLPAllow, "0": models.BLPBlock, "2": models.BLPBlock})
		case strings.EqualFold(a.Name, annGTC):
			st.GTC, known = choice(v, map[string]string{"1": models.GTCAsk, "0": models.GTCNone, "2": models.GTCNone})
		case strings.EqualFold(a.Name, annMBEA):
			st.MBEA, known = choice(v, map[string]int{"0": 0, "1": 1})
		case strings.EqualFold(a.Name, annRoam):
			st.RoamLiveProps, known = choice(v, map[string]int{"0": 0, "1": 1, "2": 2})
		default:
			rest = append(rest, a)
			continue
		}
		if !known && v != "" {
			return nil, st, badRequest("annotation %s: %q is not a valid value", a.Name, a.Value)
		}
	}
	return rest, st, nil
}

// choice maps v through allowed: nil and false for a value not in it.
func choice[T any](v string, allowed map[string]T) (*T, bool) {
	x, ok := allowed[v]
	if !ok {
		return nil, false
	}
	return &x, true
}
