package storage

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Resource ids have the real service's form, "<CID in 16 hex digits>!<n>"
// (clients keep them as opaque strings and send them back): the profile is
// n=106, its expression profile n=118, and display picture k is
// n=photoBase+k. The CID prefix names the owner, so another account's id is
// told apart without a read.
const (
	profileN    = 106
	expressionN = 118
	photoBase   = 200
)

// kind is what a resource id names.
type kind int

const (
	kindProfile kind = iota + 1
	kindExpression
	kindPhoto
)

// aliasNamespace is the Alias NameSpace clients name their own items by,
// with Name = the signed decimal CID (NS_CLIENT_FACTS.md "Storage
// service").
const aliasNamespace = "MyCidStuff"

func cidHex(a *models.Account) string { return fmt.Sprintf("%016X", uint64(a.CID)) }

func profileID(a *models.Account) string    { return cidHex(a) + "!" + strconv.Itoa(profileN) }
func expressionID(a *models.Account) string { return cidHex(a) + "!" + strconv.Itoa(expressionN) }
func photoID(a *models.Account, id int64) string {
	return cidHex(a) + "!" + strconv.FormatInt(photoBase+id, 10)
}

// notExist is the fault of an id that is unknown or someone else's: the
// same for both, so ids of other accounts cannot be probed. The message
// says "does not exist", which MSNPSharp looks for.
func notExist(what string) error {
	return models.Errorf(models.CodeNotFound, "%s does not exist", what)
}

// resolve parses a resource id of a's items: its kind and, for a photo,
// the photo's id.
func resolve(a *models.Account, rid string) (kind, int64, error) {
	rid = strings.TrimSpace(rid)
	if rid == "" {
		return 0, 0, models.Errorf(models.CodeBadRequest, "ResourceID missing")
	}
	if len(rid) > 64 {
		return 0, 0, notExist("item")
	}
	owner, num, ok := strings.Cut(rid, "!")
	if !ok || !strings.EqualFold(owner, cidHex(a)) {
		return 0, 0, notExist("item")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil:
		return 0, 0, notExist("item")
	case n == profileN:
		return kindProfile, 0, nil
	case n == expressionN:
		return kindExpression, 0, nil
	case n > photoBase:
		return kindPhoto, n - photoBase, nil
	}
	return 0, 0, notExist("item")
}

// checkHandle checks a Handle element (profileHandle, objectHandle,
// parentHandle, sourceHandle) names a's own items: by ResourceID, or by
// Alias (NameSpace MyCidStuff, Name = a's CID) with a RelationshipName. It
// returns the RelationshipName and the kind a ResourceID named (0 for an
// alias).
func checkHandle(a *models.Account, h *etree.Element, what string) (string, kind, int64, error) {
	if h == nil {
		return "", 0, 0, models.Errorf(models.CodeBadRequest, "%s missing", what)
	}
	rel := soap.Text(soap.Child(h, "RelationshipName"))
	if rid := soap.Text(soap.Child(h, "ResourceID")); rid != "" {
		k, id, err := resolve(a, rid)
		return rel, k, id, err
	}
	alias := soap.Child(h, "Alias")
	if alias == nil {
		return "", 0, 0, models.Errorf(models.CodeBadRequest, "%s has neither ResourceID nor Alias", what)
	}
	if ns := soap.Text(soap.Child(alias, "NameSpace")); !strings.EqualFold(ns, aliasNamespace) {
		return "", 0, 0, models.Errorf(models.CodeBadRequest, "Alias NameSpace %q is not supported", truncate(ns, 64))
	}
	name := soap.Text(soap.Child(alias, "Name"))
	if name != strconv.FormatInt(a.CID, 10) && name != strconv.FormatUint(uint64(a.CID), 10) {
		return "", 0, 0, notExist("item")
	}
	if rel == "" {
		return "", 0, 0, models.Errorf(models.CodeBadRequest, "%s RelationshipName missing", what)
	}
	return rel, 0, 0, nil
}

// aliasCID is the CID an Alias (NameSpace MyCidStuff) of handle h names,
// in signed or unsigned decimal.
func aliasCID(h *etree.Element) (int64, bool) {
	alias := soap.Child(h, "Alias")
	if alias == nil || !strings.EqualFold(soap.Text(soap.Child(alias, "NameSpace")), aliasNamespace) {
		return 0, false
	}
	name := soap.Text(soap.Child(alias, "Name"))
	if n, err := strconv.ParseInt(name, 10, 64); err == nil {
		return n, true
	}
	if n, err := strconv.ParseUint(name, 10, 64); err == nil {
		return int64(n), true
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
