package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/abch-im/abch/models"
)

// Book is one read of an address book: the owner's account row (whose
// Revision is the ab/lastChange cursor) and the groups and contacts to
// render. A full read holds every live row; a delta read holds the rows
// changed after the cursor, tombstones included (PROTOCOL.md §1.4).
type Book struct {
	Owner    models.Account
	Delta    bool
	Groups   []models.Group
	Contacts []BookContact
}

// BookContact is a contact with the GUIDs of the live groups it is in.
type BookContact struct {
	models.Contact
	GroupGUIDs []string
}

// LoadBook reads ownerID's address book. With delta false it returns every
// live group and contact (the Me contact first). With delta true it returns
// the rows whose rev is greater than since, tombstones included; a cursor
// this book cannot serve (newer than its revision, older than its pruned
// horizon or than the configured tombstone horizon, or from before it was
// created) is CodeFullSyncRequired.
//
// A full read runs in one read-only snapshot (REPEATABLE READ on Postgres,
// a read transaction on SQLite), so the returned Owner.Revision describes
// exactly the returned rows and the response cache may key on it.
//
// A delta read skips the transaction (two round trips of its few): the
// account row is read first and the rows after it, so every row changed
// up to Owner.Revision is included and a row changed meanwhile at most
// comes twice (the next delta repeats it; clients merge by id). Contacts
// are read before groups, so a group a contact newly points to is in the
// same answer. Pruning cannot race it: tombstones are only pruned past the
// configured horizon (PruneTombstones never uses a shorter one), and a
// cursor that old is refused above unless the book has not changed since.
func (s *Store) LoadBook(ctx context.Context, ownerID int64, delta bool, since int64) (*Book, error) {
	return s.LoadBookOf(ctx, ownerID, nil, delta, since)
}

// LoadBookOf is LoadBook with the owner's account row already read (by the
// ticket check, in the same request): a delta then costs only the row
// queries. The row must have been read before the book rows, so a change
// committed in between is at worst sent again by the next delta, never
// missed. A full read always re-reads the owner inside its snapshot.
func (s *Store) LoadBookOf(ctx context.Context, ownerID int64, owner *models.Account, delta bool, since int64) (*Book, error) {
	if !delta {
		return s.loadFull(ctx, ownerID, nil)
	}
	b := &Book{Delta: true}
	db := s.DB.WithContext(ctx)
	if owner != nil && owner.ID == ownerID {
		b.Owner = *owner
	} else {
		res := db.Where("id = ?", ownerID).Limit(1).Find(&b.Owner)
		if res.Error != nil {
			return nil, translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return nil, models.Errorf(models.CodeABDoesNotExist, "address book of account %d does not exist", ownerID)
		}
	}
	if err := checkCursor(&b.Owner, since, s.horizonRev()); err != nil {
		return nil, err
	}
	if err := loadDeltaRows(db, b, ownerID, since); err != nil {
		return nil, translate(err)
	}
	return b, nil
}

// horizonRev is the oldest cursor a delta may use whatever the account's
// pruned_revision says: the tombstone horizon less a margin for clock skew
// between abch processes (0 when no horizon is configured).
func (s *Store) horizonRev() int64 {
	h := s.Limits.TombstoneHorizon
	if h <= 0 {
		return 0
	}
	margin := time.Hour
	if h < 2*margin {
		margin = h / 2
	}
	return models.RevisionAt(s.Now().Add(-h + margin))
}

// checkCursor decides whether a delta after since can be served.
func checkCursor(owner *models.Account, since, horizon int64) error {
	created := models.RevisionAt(owner.CreatedAt)
	switch {
	case since < horizon && since < owner.Revision:
		// Something changed since a cursor older than the horizon, and its
		// tombstones may be pruned. (An idle book's cursor stays valid.)
		return &models.Error{Code: models.CodeFullSyncRequired, Message: "cursor older than the tombstone horizon", Err: fmt.Errorf("cursor %d < horizon %d", since, horizon)}
	case since > owner.Revision:
		return &models.Error{Code: models.CodeFullSyncRequired, Message: "cursor is not from this address book", Err: fmt.Errorf("cursor %d > revision %d", since, owner.Revision)}
	case since < owner.PrunedRevision:
		return &models.Error{Code: models.CodeFullSyncRequired, Message: "cursor older than the tombstone horizon", Err: fmt.Errorf("cursor %d < pruned %d", since, owner.PrunedRevision)}
	case since < created:
		return &models.Error{Code: models.CodeFullSyncRequired, Message: "cursor from before the address book existed", Err: fmt.Errorf("cursor %d < created %d", since, created)}
	}
	return nil
}

// loadDeltaRows reads the rows of b's book changed after since (the
// embedded database's delta; Postgres pipelines the same reads, ab_delta.go).
func loadDeltaRows(tx *gorm.DB, b *Book, ownerID int64, since int64) error {
	if since == b.Owner.Revision {
		return nil // nothing is newer than the book's own revision
	}
	// One query for the changed contacts and their groups: the cost of a
	// delta follows the number of changes, not the size of the book.
	var rows []struct {
		models.Contact
		GroupGUID *string `gorm:"column:group_guid"`
	}
	err := tx.Raw(`SELECT c.*, g.guid AS group_guid FROM contacts c
		LEFT JOIN contact_groups cg ON cg.contact_id = c.id
		LEFT JOIN ab_groups g ON g.id = cg.group_id AND NOT g.deleted
		WHERE c.owner_id = ? AND c.rev > ? ORDER BY c.id, g.id`, ownerID, since).Scan(&rows).Error
	if err != nil {
		return err
	}
	for i := range rows {
		c := rows[i].Contact
		if n := len(b.Contacts); n == 0 || b.Contacts[n-1].ID != c.ID {
			b.Contacts = append(b.Contacts, BookContact{Contact: c})
		}
		if rows[i].GroupGUID != nil {
			last := &b.Contacts[len(b.Contacts)-1]
			last.GroupGUIDs = append(last.GroupGUIDs, *rows[i].GroupGUID)
		}
	}
	// Groups after contacts: every group a returned link points to is
	// returned too (or its tombstone), even without a snapshot.
	if err := tx.Where("owner_id = ? AND rev > ?", ownerID, since).Order("id").Find(&b.Groups).Error; err != nil {
		return err
	}
	sortMeFirst(b.Contacts)
	return nil
}

// sortMeFirst puts the Me contact first: clients read the owner's own entry
// before the buddies (and emesene splits the raw text on it).
func sortMeFirst(contacts []BookContact) {
	sort.SliceStable(contacts, func(i, j int) bool {
		return contacts[i].Key == models.MeKey && contacts[j].Key != models.MeKey
	})
}

// LoadFull is a full read of ownerID's book (LoadBook) that also hands the
// owner's account row, read in the same snapshot, to check, for a caller
// whose ticket signature is verified but whose account state is not (as
// LoadDelta): check's error is returned as is (a nil account: there is no
// such row), and nothing read is returned unless check passes. On Postgres
// the ticket check and the book are then one round trip.
func (s *Store) LoadFull(ctx context.Context, ownerID int64, check AccountCheck) (*Book, error) {
	return s.loadFull(ctx, ownerID, check)
}

// loadFull is the full read of LoadBook without GORM (rawread.go): the
// owner, the live contacts, the GUIDs of their live groups and the live
// groups, in one snapshot; on Postgres one round trip. With check, the
// owner's row goes to it before anything is returned (LoadFull).
func (s *Store) loadFull(ctx context.Context, ownerID int64, check AccountCheck) (*Book, error) {
	acc, err := s.columnsOf(&models.Account{})
	if err != nil {
		return nil, err
	}
	con, err := s.columnsOf(&models.Contact{})
	if err != nil {
		return nil, err
	}
	grp, err := s.columnsOf(&models.Group{})
	if err != nil {
		return nil, err
	}
	b := &Book{}
	found := false
	var ct models.Contact
	var g models.Group
	var count, linkContact int64
	var linkGUID string
	next := 0
	queries := []rawQuery{
		{
			cols: acc.list(""), rest: `FROM accounts WHERE id = $1`, args: []any{ownerID},
			targets: acc.targets(&b.Owner), row: func() error { found = true; return nil },
		},
		s.countFirst(`FROM contacts WHERE owner_id = $1 AND NOT deleted`, []any{ownerID}, &count, func() { b.Contacts = make([]BookContact, 0, count) }),
		{
			cols: con.list(""), rest: `FROM contacts WHERE owner_id = $1 AND NOT deleted ORDER BY id`, args: []any{ownerID},
			targets: con.targets(&ct),
			row:     func() error { b.Contacts = append(b.Contacts, BookContact{Contact: ct}); return nil },
		},
		{
			// The group links from the owner's live groups (a few index
			// ranges; joining them to each contact probed two indexes per
			// contact), merged into the contacts by id: both come in
			// contact id order.
			cols: "cg.contact_id, g.guid", rest: `FROM ab_groups g JOIN contact_groups cg ON cg.group_id = g.id
				WHERE g.owner_id = $1 AND NOT g.deleted ORDER BY cg.contact_id, g.id`, args: []any{ownerID},
			targets: []any{&linkContact, &linkGUID},
			row: func() error {
				for next < len(b.Contacts) && b.Contacts[next].ID < linkContact {
					next++
				}
				if next < len(b.Contacts) && b.Contacts[next].ID == linkContact {
					c := &b.Contacts[next]
					c.GroupGUIDs = append(c.GroupGUIDs, linkGUID)
				}
				return nil
			},
		},
		{
			cols: grp.list(""), rest: `FROM ab_groups WHERE owner_id = $1 AND NOT deleted ORDER BY id`, args: []any{ownerID},
			targets: grp.targets(&g), row: func() error { b.Groups = append(b.Groups, g); return nil },
		},
	}
	err = s.rawRead(ctx, queries...)
	if err != nil {
		return nil, translate(err)
	}
	if check != nil {
		owner := &b.Owner
		if !found {
			owner = nil
		}
		if err := check(owner); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, models.Errorf(models.CodeABDoesNotExist, "address book of account %d does not exist", ownerID)
	}
	sortMeFirst(b.Contacts)
	return b, nil
}
