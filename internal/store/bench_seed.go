package store

import (
	"context"
	"fmt"

	"github.com/abch-im/abch/models"
)

// NetworkBookSize is the number of contacts SeedNetwork gives the i-th of n
// accounts for an average of avg: between avg/2 and 3·avg/2, spread evenly
// (never more than n-1).
func NetworkBookSize(i, n, avg int) int {
	size := avg/2 + (i*7919)%(avg+1)
	if size > n-1 {
		size = n - 1
	}
	return size
}

// SeedNetwork makes a network of n accounts prefix-0@domain …
// prefix-(n-1)@domain (SeedPeers) whose books hold on average avg contacts:
// account i has the NetworkBookSize(i) accounts after it (in a ring) on its
// Forward List, spread over groups "Group 0" … "Group <groups-1>", on its
// Allow list, and every account whose book holds i on its Reverse list, as
// a network of mutual friends would. Books already seeded are kept, so an
// interrupted load resumes. It is a loader for load tests (abch bench --mode
// signin), written in bulk without events or cross-account rules; progress,
// when set, is called after each batch with the number of books done.
func (s *Store) SeedNetwork(ctx context.Context, prefix, domain string, n, avg, groups int, progress func(done int)) ([]models.Account, error) {
	accts, err := s.SeedPeers(ctx, prefix, domain, n)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, n)
	for i := range accts {
		ids[i] = accts[i].ID
	}
	// A seeded book has more than its Me contact.
	var done []int64
	for lo := 0; lo < n; lo += 1000 {
		hi := min(lo+1000, n)
		var part []int64
		err := s.DB.WithContext(ctx).Model(&models.Contact{}).Select("owner_id").Where("owner_id IN ?", ids[lo:hi]).
			Group("owner_id").Having("count(*) > 1").Pluck("owner_id", &part).Error
		if err != nil {
			return nil, translate(err)
		}
		done = append(done, part...)
	}
	seeded := make(map[int64]bool, len(done))
	for _, id := range done {
		seeded[id] = true
	}
	maxSize := 0
	for i := 0; i < n; i++ {
		maxSize = max(maxSize, NetworkBookSize(i, n, avg))
	}
	const perTxn = 10
	count := len(seeded)
	for lo := 0; lo < n; lo += perTxn {
		var todo []int
		for i := lo; i < min(lo+perTxn, n); i++ {
			if !seeded[accts[i].ID] {
				todo = append(todo, i)
			}
		}
		if len(todo) == 0 {
			continue
		}
		err := s.Write(ctx, func(t *Txn) error {
			for _, i := range todo {
				if err := t.seedNetworkBook(accts, i, avg, maxSize, groups); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		count += len(todo)
		if progress != nil {
			progress(count)
		}
	}
	stmt := "ANALYZE"
	if s.Dialect == DialectPostgres {
		stmt = "ANALYZE contacts, contact_groups, ab_groups, accounts, memberships"
	}
	if err := s.DB.WithContext(ctx).Exec(stmt).Error; err != nil {
		return nil, translate(err)
	}
	return accts, nil
}

// seedNetworkBook writes the book and lists of accts[i] (SeedNetwork).
func (t *Txn) seedNetworkBook(accts []models.Account, i, avg, maxSize, groups int) error {
	n := len(accts)
	owner := &accts[i]
	if err := t.Bump(owner.ID); err != nil {
		return err
	}
	rev := t.Rev(owner.ID)
	gs := make([]models.Group, 0, groups)
	for g := 0; g < groups; g++ {
		gs = append(gs, models.Group{OwnerID: owner.ID, GUID: t.store.NewGUID(), Name: fmt.Sprintf("Group %d", g), NameLower: fmt.Sprintf("group %d", g),
			Annotations: "[]", Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now})
	}
	// The embedded database's driver binds parameters in time quadratic
	// in their number: keep its statements small.
	batch := 500
	if t.store.Dialect != DialectPostgres {
		batch = 30
	}
	if len(gs) > 0 {
		if err := t.DB.CreateInBatches(gs, batch).Error; err != nil {
			return err
		}
	}
	size := NetworkBookSize(i, n, avg)
	cs := make([]models.Contact, 0, size)
	members := make([]NewMember, 0, 2*size)
	for k := 1; k <= size; k++ {
		p := &accts[(i+k)%n]
		id := p.ID
		cs = append(cs, models.Contact{
			OwnerID: owner.ID, GUID: t.store.NewGUID(), Key: "passport:" + p.EmailLower, ContactAccountID: &id, ContactType: models.ContactTypeRegular,
			PassportName: p.EmailLower, Network: models.NetworkPassport, CID: p.CID, DisplayName: p.DisplayName,
			QuickName: p.DisplayName, IsMessengerUser: true, Annotations: "[]", Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now,
		})
		members = append(members, NewMember{Role: models.RoleAllow, Ref: PassportRef(p)})
	}
	// Account j holds i when i is within j's book size after it.
	for d := 1; d <= maxSize && d < n; d++ {
		j := (i - d + n) % n
		if NetworkBookSize(j, n, avg) >= d {
			p := &accts[j]
			members = append(members, NewMember{Role: models.RoleReverse, Ref: PassportRef(p), DisplayName: p.DisplayName})
		}
	}
	if len(cs) > 0 {
		if err := t.DB.CreateInBatches(cs, batch).Error; err != nil {
			return err
		}
		if len(gs) > 0 {
			links := make([]models.ContactGroup, 0, len(cs))
			for k := range cs {
				links = append(links, models.ContactGroup{ContactID: cs[k].ID, GroupID: gs[k%len(gs)].ID})
			}
			if err := t.DB.CreateInBatches(links, 10*batch).Error; err != nil {
				return err
			}
		}
	}
	// As PutMembers writes a fresh book's lists, in smaller statements.
	rows := make([]models.Membership, 0, len(members))
	for _, m := range members {
		rows = append(rows, models.Membership{
			OwnerID: owner.ID, Role: m.Role, MemberType: m.Ref.Type, MemberName: m.Ref.Name, MemberAccountID: m.Ref.AccountID,
			CID: m.Ref.CID, DisplayName: m.DisplayName, Annotations: "[]", State: "Accepted", JoinedAt: t.Now,
			Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now,
		})
	}
	if len(rows) == 0 {
		return nil
	}
	return t.DB.CreateInBatches(rows, batch).Error
}
