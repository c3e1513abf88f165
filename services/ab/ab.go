// Package ab is the Address Book service (/abservice/abservice.asmx): the
// Forward List as an address book with groups, the owner's Me contact, real
// delta sync, and the mutations that replaced ADC/REM/ADG/RMG/REG/SBP
// (PROTOCOL.md §1, §2, §4). Each handler authenticates, decodes the request
// into plain values, calls one store operation (one transaction) and
// renders the answer the way clients/RESPONSES.md §3 says clients read it.
package ab

import (
	"context"
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/answercache"
	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// Store is the storage the Address Book service uses (*store.Store). Each
// method is one transaction; its doc comment in internal/store names the
// error codes it returns.
type Store interface {
	LoadBook(ctx context.Context, ownerID int64, delta bool, since int64) (*store.Book, error)
	LoadDelta(ctx context.Context, ownerID, since int64, check store.AccountCheck) (*store.Book, error)
	LoadFull(ctx context.Context, ownerID int64, check store.AccountCheck) (*store.Book, error)
	StoredAnswer(ctx context.Context, ownerID int64, kind, format string, dst []byte, check store.AccountCheck) ([]byte, *models.Account, error)
	StoreAnswer(ownerID int64, kind, format string, rev int64, body []byte)
	EnsureAddressBook(ctx context.Context, ownerID int64) (string, error)
	AddContacts(ctx context.Context, ownerID int64, in []models.NewContact, allowList bool) ([]string, error)
	DeleteContacts(ctx context.Context, ownerID int64, guids []string) error
	UpdateContacts(ctx context.Context, ownerID int64, ups []models.ContactChange, allowList bool) error
	AddGroup(ctx context.Context, ownerID int64, in models.NewGroup) (string, error)
	DeleteGroups(ctx context.Context, ownerID int64, guids []string) error
	UpdateGroups(ctx context.Context, ownerID int64, ups []models.GroupChange) error
	AddGroupContacts(ctx context.Context, ownerID int64, groupGUIDs []string, items []models.GroupContactItem, allowList bool) (string, error)
	DeleteGroupContacts(ctx context.Context, ownerID int64, groupGUIDs, contactGUIDs []string) error
}

// Deps are the Address Book service's dependencies.
type Deps = soap.ABDeps[Store]

// service is the Address Book service: its dependencies and the
// rendered-answer cache.
type service struct {
	deps  Deps
	cache *answercache.Cache[cacheID]
}

// New returns the Address Book service.
func New(deps Deps) *soap.Service {
	s := &service{deps: deps, cache: answercache.New[cacheID](deps.CacheBytes)}
	return deps.Service("abservice", "/abservice/abservice.asmx", map[string]soap.Handler{
		"ABFindAll":            s.findAll,
		"ABFindContactsPaged":  s.findContactsPaged,
		"ABAdd":                s.mutation(s.abAdd),
		"ABContactAdd":         s.mutation(s.contactAdd),
		"ABContactDelete":      s.mutation(s.contactDelete),
		"ABContactUpdate":      s.mutation(s.contactUpdate),
		"ABGroupAdd":           s.mutation(s.groupAdd),
		"ABGroupDelete":        s.mutation(s.groupDelete),
		"ABGroupUpdate":        s.mutation(s.groupUpdate),
		"ABGroupContactAdd":    s.mutation(s.groupContactAdd),
		"ABGroupContactDelete": s.mutation(s.groupContactDelete),
	}, wsdl.AB)
}

// begin authenticates r and checks its abId: the prologue of every
// operation.
func (s *service) begin(r *soap.Request) (*auth.Principal, error) {
	p, err := s.deps.Auth.Authenticate(r)
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
// the same database round trip as the changed rows (store.LoadDelta), and
// so does a full read of a book the answer cache holds nothing for
// (store.LoadFull), so only the ticket's signature is checked before it
// and the account check runs on the row that read returns; a full read of
// a cached book reads the account first, for the revision to look up. A request the caller got wrong is
// answered only after the whole ticket check, so a caller whose ticket
// fails sees AuthFailed first, as with begin (whose abId check findArgs
// makes).
func (s *service) find(r *soap.Request, form findForm, deltasEl, cursorEl *etree.Element) (*soap.Response, error) {
	c, err := s.deps.Auth.CheckTicket(r)
	if err != nil {
		return nil, err
	}
	deltas, since, err := findArgs(r, deltasEl, cursorEl)
	if err == nil && !deltas && !s.cache.Holds(cacheID{c.AccountID, form}) {
		// Nothing cached for this book (the cache is off, or the book is
		// cold, as most are at a sign-in): the account row is read with
		// the stored answer (store.StoredAnswer) or, when none is stored
		// for its revision, with the book, as a delta reads it
		// (store.LoadFull).
		check := func(a *models.Account) error {
			_, err := s.deps.Auth.Accept(r, c, a)
			return err
		}
		if resp, err := s.stored(r, c.AccountID, form, check); resp != nil || err != nil {
			return resp, err
		}
		b, err := s.deps.Store.LoadFull(r.Ctx, c.AccountID, check)
		if err != nil {
			return nil, err
		}
		return soap.OK(s.rendered(b, form)), nil
	}
	if err != nil || !deltas {
		p, aerr := s.deps.Auth.Load(r, c)
		if aerr != nil {
			return nil, aerr
		}
		if err != nil {
			return nil, err
		}
		return s.full(r, p, form)
	}
	b, err := s.deps.Store.LoadDelta(r.Ctx, c.AccountID, since, func(a *models.Account) error {
		_, err := s.deps.Auth.Accept(r, c, a)
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
		return false, 0, badRequest("lastChange %q is not a timestamp", soap.Truncate(raw, 64))
	}
	if never {
		return true, -1, nil
	}
	return true, models.RevisionAt(t), nil
}

// full answers the whole book from the cache, or reads and caches it.
func (s *service) full(r *soap.Request, p *auth.Principal, form findForm) (*soap.Response, error) {
	if body, ok := s.cache.Get(cacheID{p.AccountID, form}, p.Revision); ok {
		return soap.OK(body), nil
	}
	if resp, err := s.stored(r, p.AccountID, form, nil); resp != nil || err != nil {
		return resp, err
	}
	b, err := s.deps.Store.LoadBook(r.Ctx, p.AccountID, false, 0)
	if err != nil {
		return nil, err
	}
	return soap.OK(s.rendered(b, form)), nil
}

// stored serves the full answer stored for the account's current revision
// (nil, nil when stored answers are off or none is stored); check, when
// set, judges the account row read with it (store.AccountCheck).
func (s *service) stored(r *soap.Request, accountID int64, form findForm, check store.AccountCheck) (*soap.Response, error) {
	if !s.deps.StoredAnswers {
		return nil, nil
	}
	return soap.ServeStored(s.deps.CacheBytes == 0, func(dst []byte) ([]byte, *models.Account, error) {
		return s.deps.Store.StoredAnswer(r.Ctx, accountID, storedKind(form), renderFormat, dst, check)
	}, func(rev int64, body []byte) { s.cache.Put(cacheID{accountID, form}, rev, body) })
}

// rendered renders the full book b and keeps the answer for the revision
// it was read at: in the answer cache and, when stored answers are on, in
// the database (written in the background, store.StoreAnswer).
func (s *service) rendered(b *store.Book, form findForm) []byte {
	body := renderBook(b, form)
	s.cache.Put(cacheID{b.Owner.ID, form}, b.Owner.Revision, body)
	if s.deps.StoredAnswers {
		s.deps.Store.StoreAnswer(b.Owner.ID, storedKind(form), renderFormat, b.Owner.Revision, body)
	}
	return body
}

// mutation is the frame of every operation that changes the book:
// authenticate and check the abId (begin), let change decode the request
// and call one store operation (one transaction, committed before it
// returns), then answer with the GUID change returns, if any
// (<op>Result><guid>, or ABAddResult; the adds always return one, the
// deletes and updates never do).
func (s *service) mutation(change func(r *soap.Request, owner int64) (string, error)) soap.Handler {
	return func(r *soap.Request) (*soap.Response, error) {
		p, err := s.begin(r)
		if err != nil {
			return nil, err
		}
		guid, err := change(r, p.AccountID)
		if err != nil {
			return nil, err
		}
		return soap.OK(renderSimple(p.AccountID, r.Operation, guid)), nil
	}
}

// abAdd is ABAdd: books exist from account creation, so it only repairs a
// missing Me contact and answers the zero GUID (idempotent, PROTOCOL.md
// §1.5; clients treat ABAlreadyExists as success too, but a plain answer
// works for all of them).
func (s *service) abAdd(r *soap.Request, owner int64) (string, error) {
	return s.deps.Store.EnsureAddressBook(r.Ctx, owner)
}

// contactAdd is ABContactAdd.
func (s *service) contactAdd(r *soap.Request, owner int64) (string, error) {
	in, err := eachItem(r, "contacts", "Contact", func(c *etree.Element) (models.NewContact, error) {
		ci, err := contactInput(soap.Child(c, "contactInfo"))
		if err != nil {
			return models.NewContact{}, err
		}
		return *ci, nil
	})
	if err != nil {
		return "", err
	}
	allow, err := boolOf(soap.Path(r.Op, "options", "EnableAllowListManagement"), false)
	if err != nil {
		return "", err
	}
	guids, err := s.deps.Store.AddContacts(r.Ctx, owner, in, allow)
	if err != nil {
		return "", err
	}
	return guids[0], nil
}

// contactDelete is ABContactDelete.
func (s *service) contactDelete(r *soap.Request, owner int64) (string, error) {
	ids, err := contactIDList(r)
	if err != nil {
		return "", err
	}
	return "", s.deps.Store.DeleteContacts(r.Ctx, owner, ids)
}

// eachItem decodes every list/item element of the operation with decode;
// none, or more than maxItems, is a BadRequest naming the operation.
func eachItem[T any](r *soap.Request, list, item string, decode func(*etree.Element) (T, error)) ([]T, error) {
	return decodeAll(soap.Children(soap.Child(r.Op, list), item), r.Operation, list+"/"+item, list, decode)
}

// contactIDList reads the contactId of every contacts/Contact.
func contactIDList(r *soap.Request) ([]string, error) {
	return eachItem(r, "contacts", "Contact", func(c *etree.Element) (string, error) {
		return guidOf(soap.Child(c, "contactId"), "contactId")
	})
}

// contactUpdate is ABContactUpdate.
func (s *service) contactUpdate(r *soap.Request, owner int64) (string, error) {
	ups, err := eachItem(r, "contacts", "Contact", contactUpdate)
	if err != nil {
		return "", err
	}
	allow, err := boolOf(soap.Path(r.Op, "options", "EnableAllowListManagement"), false)
	if err != nil {
		return "", err
	}
	return "", s.deps.Store.UpdateContacts(r.Ctx, owner, ups, allow)
}

// groupAdd is ABGroupAdd.
func (s *service) groupAdd(r *soap.Request, owner int64) (string, error) {
	rename, err := boolOf(soap.Path(r.Op, "groupAddOptions", "fRenameOnMsgrConflict"), false)
	if err != nil {
		return "", err
	}
	infos := soap.Children(soap.Child(r.Op, "groupInfo"), "GroupInfo")
	if len(infos) != 1 {
		return "", badRequest("ABGroupAdd needs exactly one groupInfo/GroupInfo")
	}
	nameEl := soap.Child(infos[0], "name")
	if nameEl == nil {
		return "", badRequest("ABGroupAdd: groupInfo/GroupInfo/name missing")
	}
	anns, err := soap.Annotations(soap.Child(infos[0], "annotations"), maxAnnotations)
	if err != nil {
		return "", err
	}
	return s.deps.Store.AddGroup(r.Ctx, owner, models.NewGroup{Name: groupName(nameEl.Text()), Annotations: anns, RenameOnConflict: rename})
}

// propGroupName is the propertiesChanged token of a group rename.
const propGroupName = "groupname"

// groupName trims a group name (purple pads nothing, papyon pads with
// newlines, PROTOCOL.md §0.6) but keeps its inner spacing.
func groupName(s string) string { return strings.TrimSpace(s) }

// groupIDs reads groupFilter/groupIds.
func groupIDs(r *soap.Request) ([]string, error) {
	return guidList(soap.Path(r.Op, "groupFilter", "groupIds"), "groupFilter/groupIds")
}

// groupDelete is ABGroupDelete.
func (s *service) groupDelete(r *soap.Request, owner int64) (string, error) {
	ids, err := groupIDs(r)
	if err != nil {
		return "", err
	}
	return "", s.deps.Store.DeleteGroups(r.Ctx, owner, ids)
}

// groupUpdate is ABGroupUpdate (rename; WLM 2009 favourites).
func (s *service) groupUpdate(r *soap.Request, owner int64) (string, error) {
	ups, err := eachItem(r, "groups", "Group", groupUpdate)
	if err != nil {
		return "", err
	}
	return "", s.deps.Store.UpdateGroups(r.Ctx, owner, ups)
}

// groupUpdate decodes one groups/Group of ABGroupUpdate.
func groupUpdate(g *etree.Element) (models.GroupChange, error) {
	id, err := guidOf(soap.Child(g, "groupId"), "groupId")
	if err != nil {
		return models.GroupChange{}, err
	}
	u := models.GroupChange{GUID: id}
	info := soap.Child(g, "groupInfo")
	if propertiesChanged(soap.Child(g, "propertiesChanged"))[propGroupName] {
		nameEl := soap.Child(info, "name")
		if nameEl == nil {
			return u, badRequest("ABGroupUpdate: GroupName changed but groupInfo/name missing")
		}
		name := groupName(nameEl.Text())
		u.Name = &name
	}
	if fav := soap.Child(info, "IsFavorite"); fav != nil {
		v, present, err := soap.Bool(fav)
		if err != nil {
			return u, err
		}
		if present {
			u.IsFavorite = &v
		}
	}
	if u.Name == nil && u.IsFavorite == nil {
		return u, badRequest("ABGroupUpdate: group %s: nothing to change (propertiesChanged GroupName)", id)
	}
	return u, nil
}

// groupContactAdd is ABGroupContactAdd, by contactId or (pidgin, when it
// does not know the contact's id yet) by contactInfo/passportName, which
// adds the contact to the book first (PROTOCOL.md §2.4 form b).
func (s *service) groupContactAdd(r *soap.Request, owner int64) (string, error) {
	groups, err := groupIDs(r)
	if err != nil {
		return "", err
	}
	items, err := eachItem(r, "contacts", "Contact", func(c *etree.Element) (models.GroupContactItem, error) {
		if id := soap.Child(c, "contactId"); id != nil {
			g, err := guidOf(id, "contactId")
			return models.GroupContactItem{ContactGUID: g}, err
		}
		in, err := contactInput(soap.Child(c, "contactInfo"))
		if err != nil {
			return models.GroupContactItem{}, err
		}
		// pidgin 2.7 puts MessengerMemberInfo next to contacts instead.
		if in.InviterName == "" && in.InviteMessage == "" {
			if err := memberInfo(soap.Child(r.Op, "MessengerMemberInfo"), in); err != nil {
				return models.GroupContactItem{}, err
			}
		}
		return models.GroupContactItem{New: in}, nil
	})
	if err != nil {
		return "", err
	}
	allow, err := boolOf(soap.Path(r.Op, "groupContactAddOptions", "EnableAllowListManagement"), false)
	if err != nil {
		return "", err
	}
	if _, err := boolOf(soap.Path(r.Op, "groupContactAddOptions", "fGenerateMissingQuickName"), false); err != nil {
		return "", err
	}
	return s.deps.Store.AddGroupContacts(r.Ctx, owner, groups, items, allow)
}

// groupContactDelete is ABGroupContactDelete.
func (s *service) groupContactDelete(r *soap.Request, owner int64) (string, error) {
	ids, err := contactIDList(r)
	if err != nil {
		return "", err
	}
	groups, err := groupIDs(r)
	if err != nil {
		return "", err
	}
	return "", s.deps.Store.DeleteGroupContacts(r.Ctx, owner, groups, ids)
}
