package store

import (
	"context"
	"fmt"

	"github.com/abch-im/abch/models"
)

// SeedPeers makes sure accounts prefix-0@domain … prefix-(n-1)@domain exist
// (created in bulk, without passwords) and returns them in order. It is a
// loader for benchmarks and load tests (abch bench), not a client path.
func (s *Store) SeedPeers(ctx context.Context, prefix, domain string, n int) ([]models.Account, error) {
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("%s-%d@%s", prefix, i, domain)
	}
	var have []models.Account
	if err := s.DB.WithContext(ctx).Where("email_lower IN ?", emails).Find(&have).Error; err != nil {
		return nil, translate(err)
	}
	byEmail := make(map[string]models.Account, len(have))
	for _, a := range have {
		byEmail[a.EmailLower] = a
	}
	var missing []*models.Account
	now := s.Now()
	for _, e := range emails {
		if _, ok := byEmail[e]; ok {
			continue
		}
		missing = append(missing, &models.Account{
			Email: e, EmailLower: e, PUID: int64(0x0003<<48 | uint64(randomInt64())&0xFFFF_FFFF_FFFF),
			CID: nonZero(randomInt64()), DisplayName: e, BLP: models.BLPAllow, GTC: models.GTCAsk,
			RoamLiveProps: 1, TokenVersion: 1, Revision: models.RevisionAt(now), MeContactGUID: s.NewGUID(),
			CreatedAt: now, UpdatedAt: now,
		})
	}
	if len(missing) > 0 {
		err := s.Write(ctx, func(t *Txn) error {
			if err := t.DB.CreateInBatches(missing, 500).Error; err != nil {
				return err
			}
			var mes []models.Contact
			for _, a := range missing {
				id := a.ID
				mes = append(mes, models.Contact{
					OwnerID: a.ID, GUID: a.MeContactGUID, Key: models.MeKey, ContactAccountID: &id, ContactType: models.ContactTypeMe,
					PassportName: a.EmailLower, Network: models.NetworkPassport, CID: a.CID, DisplayName: a.DisplayName,
					QuickName: a.DisplayName, Annotations: "[]", Rev: a.Revision, CreatedAt: now, UpdatedAt: now,
				})
			}
			return t.DB.CreateInBatches(mes, 500).Error
		})
		if err != nil {
			return nil, err
		}
		for _, a := range missing {
			byEmail[a.EmailLower] = *a
		}
	}
	out := make([]models.Account, n)
	for i, e := range emails {
		out[i] = byEmail[e]
	}
	return out, nil
}

// SeedBook fills ownerID's book in bulk with Forward List contacts for
// peers (skipping those already there) spread over groups named "Group N"
// (created when missing), in one transaction that bumps the owner's
// revision. Cross-account lists are not written: this is a loader for
// benchmarks and load tests, not ABContactAdd.
func (s *Store) SeedBook(ctx context.Context, ownerID int64, peers []models.Account, groups int) error {
	if err := s.seedBook(ctx, ownerID, peers, groups); err != nil {
		return err
	}
	// A bulk load leaves the planner without statistics until autovacuum
	// gets to the tables; refresh them as a running server would have them.
	stmt := "ANALYZE" // SQLite takes one table or none
	if s.Dialect == DialectPostgres {
		stmt = "ANALYZE contacts, contact_groups, ab_groups, accounts"
	}
	return s.DB.WithContext(ctx).Exec(stmt).Error
}

func (s *Store) seedBook(ctx context.Context, ownerID int64, peers []models.Account, groups int) error {
	return s.Write(ctx, func(t *Txn) error {
		if err := t.Bump(ownerID); err != nil {
			return err
		}
		rev := t.Rev(ownerID)
		var gs []models.Group
		if err := t.DB.Where("owner_id = ? AND NOT deleted", ownerID).Order("id").Find(&gs).Error; err != nil {
			return err
		}
		for i := len(gs); i < groups; i++ {
			synID, err := t.nextSynGroupID(ownerID)
			if err != nil {
				return err
			}
			g := models.Group{OwnerID: ownerID, GUID: t.store.NewGUID(), Name: fmt.Sprintf("Group %d", i), NameLower: fmt.Sprintf("group %d", i),
				Annotations: `[{"name":"MSN.IM.Display","value":"1"}]`, Rev: rev, SynID: synID, CreatedAt: t.Now, UpdatedAt: t.Now}
			if err := t.DB.Create(&g).Error; err != nil {
				return err
			}
			gs = append(gs, g)
		}
		var have []string
		if err := t.DB.Model(&models.Contact{}).Where("owner_id = ?", ownerID).Pluck("contact_key", &have).Error; err != nil {
			return err
		}
		seen := make(map[string]bool, len(have))
		for _, k := range have {
			seen[k] = true
		}
		var cs []*models.Contact
		for i := range peers {
			p := &peers[i]
			key := "passport:" + p.EmailLower
			if seen[key] || p.ID == ownerID {
				continue
			}
			id := p.ID
			cs = append(cs, &models.Contact{
				OwnerID: ownerID, GUID: t.store.NewGUID(), Key: key, ContactAccountID: &id, ContactType: models.ContactTypeRegular,
				PassportName: p.EmailLower, Network: models.NetworkPassport, CID: p.CID, DisplayName: p.DisplayName,
				QuickName: p.DisplayName, IsMessengerUser: true, Annotations: "[]", Rev: rev, CreatedAt: t.Now, UpdatedAt: t.Now,
			})
		}
		if len(cs) == 0 {
			return nil
		}
		if err := t.DB.CreateInBatches(cs, 500).Error; err != nil {
			return err
		}
		if len(gs) == 0 {
			return nil
		}
		links := make([]models.ContactGroup, 0, len(cs))
		for i, c := range cs {
			links = append(links, models.ContactGroup{ContactID: c.ID, GroupID: gs[i%len(gs)].ID})
		}
		return t.DB.CreateInBatches(links, 500).Error
	})
}
