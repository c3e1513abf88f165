// Package ab is the Address Book service (/abservice/abservice.asmx): the
// Forward List as an address book with groups, the owner's Me contact, real
// delta sync, and the mutations that replaced ADC/REM/ADG/RMG/REG/SBP
// (PROTOCOL.md §1, §2, §4). Each handler authenticates, decodes the request
// into plain values, calls one store operation (one transaction) and
// renders the answer the way clients/RESPONSES.md §3 says clients read it.
package ab

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

const nsAB = soap.NSAB

// service holds the dependencies and the rendered-answer cache.
type service struct {
	d     soap.Deps
	st    *store.Store
	cache *bookCache
}

// New returns the Address Book service.
func New(d soap.Deps) *soap.Service {
	s := &service{d: d, st: d.Store, cache: newBookCache(d.Config.ABCacheBytes)}
	return &soap.Service{
		Name:  "abservice",
		Paths: []string{"/abservice/abservice.asmx"},
		Ops: map[string]soap.Handler{
			"ABFindAll":            s.findAll,
			"ABFindContactsPaged":  s.findContactsPaged,
			"ABAdd":                s.abAdd,
			"ABContactAdd":         s.contactAdd,
			"ABContactDelete":      s.contactDelete,
			"ABContactUpdate":      s.contactUpdate,
			"ABGroupAdd":           s.groupAdd,
			"ABGroupDelete":        s.groupDelete,
			"ABGroupUpdate":        s.groupUpdate,
			"ABGroupContactAdd":    s.groupContactAdd,
			"ABGroupContactDelete": s.groupContactDelete,
		},
		Fault: soap.ABFaults(d.Config.Hostname),
		WSDL:  wsdl.AB,
	}
}

// begin authenticates r and checks its abId: the prologue of every
// operation.
func (s *service) begin(r *soap.Request) (*auth.Principal, error) {
	p, err := s.d.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if err := checkAbID(r.Op); err != nil {
		return nil, err
	}
	return p, nil
}

// findAll is ABFindAll: the full book (cached per account revision) or,
// with deltasOnly=true and a lastChange cursor, the rows changed since.
func (s *service) findAll(r *soap.Request) (*soap.Response, error) {
	return s.find(r, formFindAll, soap.Child(r.Op, "deltasOnly"), soap.Child(r.Op, "lastChange"))
}

// findContactsPaged is WLM 2009's ABFindContactsPaged: the same data with
// filterOptions/DeltasOnly and filterOptions/LastChanged.
func (s *service) findContactsPaged(r *soap.Request) (*soap.Response, error) {
	fo := soap.Child(r.Op, "filterOptions")
	return s.find(r, formPaged, soap.Child(fo, "DeltasOnly"), soap.Child(fo, "LastChanged"))
}

// find serves both find forms. A delta reads the caller's account row in
// the same database round trip as the changed rows (store.LoadDelta), so
// only the ticket's signature is checked before it and the account check
// runs on the row that read returns. A request the caller got wrong is
// answered only after the whole ticket check, so a caller whose ticket
// fails sees AuthFailed first, as with begin (whose abId check findArgs
// makes).
func (s *service) find(r *soap.Request, form findForm, deltasEl, cursorEl *etree.Element) (*soap.Response, error) {
	c, err := s.d.CheckTicket(r)
	if err != nil {
		return nil, err
	}
	deltas, since, err := findArgs(r, deltasEl, cursorEl)
	if err != nil || !deltas {
		p, aerr := s.d.Load(r, c)
		if aerr != nil {
			return nil, aerr
		}
		if err != nil {
			return nil, err
		}
		return s.full(r, p, form)
	}
	b, err := s.st.LoadDelta(r.Ctx, c.AccountID, since, func(a *models.Account) error {
		_, err := s.d.Accept(r, c, a)
		return err
	})
	if err != nil {
		return nil, err
	}
	return soap.OK(renderBook(b, form)), nil
}

// findArgs decodes a find request: its abId, whether it asks for a delta
// and, if so, the cursor (-1 for "never", which is before any book and so
// FullSyncRequired).
func findArgs(r *soap.Request, deltasEl, cursorEl *etree.Element) (deltas bool, since int64, err error) {
	if err := checkAbID(r.Op); err != nil {
		return false, 0, err
	}
	deltas, err = boolOf(deltasEl, false)
	if err != nil || !deltas {
		return false, 0, err
	}
	raw := soap.Text(cursorEl)
	t, never, err := models.ParseTimestamp(raw)
	if err != nil {
		return false, 0, badRequest("lastChange %q is not a timestamp", truncate(raw, 64))
	}
	if never {
		return true, -1, nil
	}
	return true, models.RevisionAt(t), nil
}

// full answers the whole book from the cache, or reads and caches it.
func (s *service) full(r *soap.Request, p *auth.Principal, form findForm) (*soap.Response, error) {
	if body := s.cache.get(p.AccountID, form, p.Revision); body != nil {
		return soap.OK(body), nil
	}
	b, err := s.st.LoadBook(r.Ctx, p.AccountID, false, 0)
	if err != nil {
		return nil, err
	}
	body := renderBook(b, form)
	s.cache.put(p.AccountID, form, b.Owner.Revision, body)
	return soap.OK(body), nil
}

// abAdd is ABAdd: books exist from account creation, so it only repairs a
// missing Me contact and answers the zero GUID (idempotent, PROTOCOL.md
// §1.5; clients treat ABAlreadyExists as success too, but a plain answer
// works for all of them).
func (s *service) abAdd(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	id, err := s.st.EnsureAddressBook(r.Ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABAdd", id, true)), nil
}

// contactAdd is ABContactAdd.
func (s *service) contactAdd(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	kids, err := items(r, "contacts", "Contact", "contacts")
	if err != nil {
		return nil, err
	}
	var in []store.ContactInput
	for _, c := range kids {
		ci, err := contactInput(soap.Child(c, "contactInfo"))
		if err != nil {
			return nil, err
		}
		in = append(in, *ci)
	}
	allow, err := boolOf(soap.Path(r.Op, "options", "EnableAllowListManagement"), false)
	if err != nil {
		return nil, err
	}
	guids, err := s.st.AddContacts(r.Ctx, p.AccountID, in, allow)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABContactAdd", guids[0], true)), nil
}

// contactDelete is ABContactDelete.
func (s *service) contactDelete(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	ids, err := contactIDList(r)
	if err != nil {
		return nil, err
	}
	if err := s.st.DeleteContacts(r.Ctx, p.AccountID, ids); err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABContactDelete", "", false)), nil
}

// items returns the list/item elements of the operation, 1 to maxItems of
// them; none or too many is a BadRequest naming the operation.
func items(r *soap.Request, list, item, noun string) ([]*etree.Element, error) {
	kids := soap.Children(soap.Child(r.Op, list), item)
	if len(kids) == 0 {
		return nil, badRequest("%s: no %s/%s", r.Operation, list, item)
	}
	if len(kids) > maxItems {
		return nil, badRequest("%s: more than %d %s", r.Operation, maxItems, noun)
	}
	return kids, nil
}

// contactIDList reads the contactId of every contacts/Contact.
func contactIDList(r *soap.Request) ([]string, error) {
	kids, err := items(r, "contacts", "Contact", "contacts")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range kids {
		g, err := guidOf(soap.Child(c, "contactId"), "contactId")
		if err != nil {
			return nil, err
		}
		ids = append(ids, g)
	}
	return ids, nil
}

// contactUpdate is ABContactUpdate.
func (s *service) contactUpdate(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	kids, err := items(r, "contacts", "Contact", "contacts")
	if err != nil {
		return nil, err
	}
	var ups []store.ContactUpdate
	for _, c := range kids {
		u, err := contactUpdate(c)
		if err != nil {
			return nil, err
		}
		ups = append(ups, u)
	}
	allow, err := boolOf(soap.Path(r.Op, "options", "EnableAllowListManagement"), false)
	if err != nil {
		return nil, err
	}
	if err := s.st.UpdateContacts(r.Ctx, p.AccountID, ups, allow); err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABContactUpdate", "", false)), nil
}

// groupAdd is ABGroupAdd.
func (s *service) groupAdd(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	rename, err := boolOf(soap.Path(r.Op, "groupAddOptions", "fRenameOnMsgrConflict"), false)
	if err != nil {
		return nil, err
	}
	infos := soap.Children(soap.Child(r.Op, "groupInfo"), "GroupInfo")
	if len(infos) != 1 {
		return nil, badRequest("ABGroupAdd needs exactly one groupInfo/GroupInfo")
	}
	nameEl := soap.Child(infos[0], "name")
	if nameEl == nil {
		return nil, badRequest("ABGroupAdd: groupInfo/GroupInfo/name missing")
	}
	anns, err := annotations(soap.Child(infos[0], "annotations"))
	if err != nil {
		return nil, err
	}
	guid, err := s.st.AddGroup(r.Ctx, p.AccountID, store.GroupInput{Name: groupName(nameEl.Text()), Annotations: anns, RenameOnConflict: rename})
	if err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABGroupAdd", guid, true)), nil
}

// groupName trims a group name (purple pads nothing, papyon pads with
// newlines, PROTOCOL.md §0.6) but keeps its inner spacing.
func groupName(s string) string { return strings.TrimSpace(s) }

// groupDelete is ABGroupDelete.
func (s *service) groupDelete(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	ids, err := guidList(soap.Path(r.Op, "groupFilter", "groupIds"), "groupFilter/groupIds")
	if err != nil {
		return nil, err
	}
	if err := s.st.DeleteGroups(r.Ctx, p.AccountID, ids); err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABGroupDelete", "", false)), nil
}

// groupUpdate is ABGroupUpdate (rename; WLM 2009 favourites).
func (s *service) groupUpdate(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	kids, err := items(r, "groups", "Group", "groups")
	if err != nil {
		return nil, err
	}
	var ups []store.GroupUpdate
	for _, g := range kids {
		id, err := guidOf(soap.Child(g, "groupId"), "groupId")
		if err != nil {
			return nil, err
		}
		u := store.GroupUpdate{GUID: id}
		info := soap.Child(g, "groupInfo")
		if propertiesChanged(soap.Child(g, "propertiesChanged"))["groupname"] {
			nameEl := soap.Child(info, "name")
			if nameEl == nil {
				return nil, badRequest("ABGroupUpdate: GroupName changed but groupInfo/name missing")
			}
			name := groupName(nameEl.Text())
			u.Name = &name
		}
		if fav := soap.Child(info, "IsFavorite"); fav != nil {
			v, present, err := soap.Bool(fav)
			if err != nil {
				return nil, err
			}
			if present {
				u.IsFavorite = &v
			}
		}
		if u.Name == nil && u.IsFavorite == nil {
			return nil, badRequest("ABGroupUpdate: group %s: nothing to change (propertiesChanged GroupName)", id)
		}
		ups = append(ups, u)
	}
	if err := s.st.UpdateGroups(r.Ctx, p.AccountID, ups); err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABGroupUpdate", "", false)), nil
}

// groupContactAdd is ABGroupContactAdd, by contactId or (pidgin, when it
// does not know the contact's id yet) by contactInfo/passportName, which
// adds the contact to the book first (PROTOCOL.md §2.4 form b).
func (s *service) groupContactAdd(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	groups, err := guidList(soap.Path(r.Op, "groupFilter", "groupIds"), "groupFilter/groupIds")
	if err != nil {
		return nil, err
	}
	kids, err := items(r, "contacts", "Contact", "contacts")
	if err != nil {
		return nil, err
	}
	var items []store.GroupContactItem
	for _, c := range kids {
		if id := soap.Child(c, "contactId"); id != nil {
			g, err := guidOf(id, "contactId")
			if err != nil {
				return nil, err
			}
			items = append(items, store.GroupContactItem{ContactGUID: g})
			continue
		}
		in, err := contactInput(soap.Child(c, "contactInfo"))
		if err != nil {
			return nil, err
		}
		// pidgin 2.7 puts MessengerMemberInfo next to contacts instead.
		if in.InviterName == "" && in.InviteMessage == "" {
			if err := memberInfo(soap.Child(r.Op, "MessengerMemberInfo"), in); err != nil {
				return nil, err
			}
		}
		items = append(items, store.GroupContactItem{New: in})
	}
	allow, err := boolOf(soap.Path(r.Op, "groupContactAddOptions", "EnableAllowListManagement"), false)
	if err != nil {
		return nil, err
	}
	if _, err := boolOf(soap.Path(r.Op, "groupContactAddOptions", "fGenerateMissingQuickName"), false); err != nil {
		return nil, err
	}
	guid, err := s.st.AddGroupContacts(r.Ctx, p.AccountID, groups, items, allow)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABGroupContactAdd", guid, true)), nil
}

// groupContactDelete is ABGroupContactDelete.
func (s *service) groupContactDelete(r *soap.Request) (*soap.Response, error) {
	p, err := s.begin(r)
	if err != nil {
		return nil, err
	}
	ids, err := contactIDList(r)
	if err != nil {
		return nil, err
	}
	groups, err := guidList(soap.Path(r.Op, "groupFilter", "groupIds"), "groupFilter/groupIds")
	if err != nil {
		return nil, err
	}
	if err := s.st.DeleteGroupContacts(r.Ctx, p.AccountID, groups, ids); err != nil {
		return nil, err
	}
	return soap.OK(renderSimple(p.AccountID, "ABGroupContactDelete", "", false)), nil
}
