// Package sharing is the Sharing service (/abservice/SharingService.asmx):
// the Allow, Block, Reverse and Pending lists (PROTOCOL.md §3). It answers
// FindMembership (full and delta), AddMember and DeleteMember; the rules
// it follows are in docs/sharing.md.
package sharing

import (
	"context"

	"github.com/abch-im/abch/internal/answercache"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// Store is the storage the Sharing service uses (*store.Store).
type Store interface {
	Memberships(ctx context.Context, ownerID, sinceRev int64) (*store.MembershipSet, error)
	MembershipsChecked(ctx context.Context, ownerID, sinceRev int64, check store.AccountCheck) (*store.MembershipSet, error)
	StoredAnswer(ctx context.Context, ownerID int64, kind, format string, dst []byte, check store.AccountCheck) ([]byte, *models.Account, error)
	StoreAnswer(ownerID int64, kind, format string, rev int64, body []byte)
	AddMembers(ctx context.Context, ownerID int64, specs []models.MemberSpec) (*store.MemberResult, error)
	DeleteMembers(ctx context.Context, ownerID int64, specs []models.MemberSpec) (*store.MemberResult, error)
}

// Deps are the Sharing service's dependencies.
type Deps = soap.ABDeps[Store]

// service is the Sharing service: its dependencies and its answer cache.
type service struct {
	deps  Deps
	cache *answercache.Cache[cacheKey]
}

// New returns the Sharing service.
func New(deps Deps) *soap.Service {
	s := &service{deps: deps, cache: answercache.New[cacheKey](deps.CacheBytes)}
	return deps.Service("sharing", "/abservice/SharingService.asmx", map[string]soap.Handler{
		"FindMembership": s.findMembership,
		"AddMember":      s.addMember,
		"DeleteMember":   s.deleteMember,
	}, wsdl.Sharing)
}

// findMembership answers FindMembership. A full answer is a pure function
// of (account, revision, whether Messenger was asked for), so it is cached
// under the revision the ticket check loaded; any change bumps the
// revision and the stale entry is never hit again.
//
// A full answer the cache holds nothing for (the cache is off, or the
// account is cold, as most are at a sign-in) reads the account row with
// the lists (store.MembershipsChecked): the ticket's signature is checked
// first and the account check runs on the row that read returns. A request
// the caller got wrong is answered only after the whole ticket check.
func (s *service) findMembership(r *soap.Request) (*soap.Response, error) {
	c, err := s.deps.Auth.CheckTicket(r)
	if err != nil {
		return nil, err
	}
	req, err := decodeFindMembership(r.Op)
	if err == nil && req.Since == 0 && !s.cache.Holds(cacheKey{account: c.AccountID, messenger: req.Messenger}) {
		check := func(a *models.Account) error {
			_, err := s.deps.Auth.Accept(r, c, a)
			return err
		}
		if resp, err := s.stored(r, c.AccountID, req.Messenger, check); resp != nil || err != nil {
			return resp, err
		}
		set, err := s.deps.Store.MembershipsChecked(r.Ctx, c.AccountID, 0, check)
		if err != nil {
			return nil, err
		}
		return soap.OK(s.rendered(set, req.Messenger)), nil
	}
	p, aerr := s.deps.Auth.Load(r, c)
	if aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	if req.Since == 0 {
		key := cacheKey{account: p.AccountID, messenger: req.Messenger}
		if body, ok := s.cache.Get(key, p.Revision); ok {
			return soap.OK(body), nil
		}
		if resp, err := s.stored(r, p.AccountID, req.Messenger, nil); resp != nil || err != nil {
			return resp, err
		}
		set, err := s.deps.Store.Memberships(r.Ctx, p.AccountID, 0)
		if err != nil {
			return nil, err
		}
		return soap.OK(s.rendered(set, req.Messenger)), nil
	}
	set, err := s.deps.Store.Memberships(r.Ctx, p.AccountID, req.Since)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderFindMembership(set, req.Messenger)), nil
}

// stored serves the full answer stored for the account's current revision
// (nil, nil when stored answers are off or none is stored); check, when
// set, judges the account row read with it (store.AccountCheck).
func (s *service) stored(r *soap.Request, accountID int64, messenger bool, check store.AccountCheck) (*soap.Response, error) {
	if !s.deps.StoredAnswers {
		return nil, nil
	}
	return soap.ServeStored(s.deps.CacheBytes == 0, func(dst []byte) ([]byte, *models.Account, error) {
		return s.deps.Store.StoredAnswer(r.Ctx, accountID, storedKind(messenger), renderFormat, dst, check)
	}, func(rev int64, body []byte) {
		s.cache.Put(cacheKey{account: accountID, messenger: messenger}, rev, body)
	})
}

// rendered renders the full set and keeps the answer for the revision it
// was read at: in the answer cache and, when stored answers are on, in the
// database (written in the background, store.StoreAnswer).
func (s *service) rendered(set *store.MembershipSet, messenger bool) []byte {
	body := renderFindMembership(set, messenger)
	s.cache.Put(cacheKey{account: set.Account.ID, messenger: messenger}, set.Revision, body)
	if s.deps.StoredAnswers {
		s.deps.Store.StoreAnswer(set.Account.ID, storedKind(messenger), renderFormat, set.Revision, body)
	}
	return body
}

func (s *service) addMember(r *soap.Request) (*soap.Response, error) {
	return s.change(r, true)
}

func (s *service) deleteMember(r *soap.Request) (*soap.Response, error) {
	return s.change(r, false)
}

// change runs AddMember/DeleteMember: decode every member first (a bad one
// fails the request before anything is written), then one transaction.
func (s *service) change(r *soap.Request, add bool) (*soap.Response, error) {
	p, err := s.deps.Auth.Authenticate(r)
	if err != nil {
		return nil, err
	}
	req, err := decodeMemberRequest(r.Op)
	if err != nil {
		return nil, err
	}
	if req.Messenger {
		var fn func(ctx context.Context, id int64, specs []models.MemberSpec) (*store.MemberResult, error)
		if add {
			fn = s.deps.Store.AddMembers
		} else {
			fn = s.deps.Store.DeleteMembers
		}
		if _, err := fn(r.Ctx, p.AccountID, req.Members); err != nil {
			return nil, err
		}
	}
	name := "DeleteMemberResponse"
	if add {
		name = "AddMemberResponse"
	}
	return soap.OK(emptyResponse(p.AccountID, name)), nil
}

// errBad is a CodeBadRequest error with a formatted message.
func errBad(format string, args ...any) error {
	return models.Errorf(models.CodeBadRequest, format, args...)
}
