package store_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// gormFullBook is the full read as GORM did it before the raw readers: the
// reference the raw full read must match field for field.
func gormFullBook(t *testing.T, st *store.Store, ownerID int64) *store.Book {
	t.Helper()
	db := st.DB
	b := &store.Book{}
	if err := db.Where("id = ?", ownerID).First(&b.Owner).Error; err != nil {
		t.Fatal(err)
	}
	var contacts []models.Contact
	if err := db.Where("owner_id = ? AND NOT deleted", ownerID).Order("id").Find(&contacts).Error; err != nil {
		t.Fatal(err)
	}
	var links []struct {
		ContactID int64
		GUID      string `gorm:"column:guid"`
	}
	err := db.Table("contact_groups AS cg").Select("cg.contact_id AS contact_id, g.guid AS guid").
		Joins("JOIN ab_groups g ON g.id = cg.group_id").Where("g.owner_id = ? AND NOT g.deleted", ownerID).
		Order("cg.contact_id, g.id").Scan(&links).Error
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Where("owner_id = ? AND NOT deleted", ownerID).Order("id").Find(&b.Groups).Error; err != nil {
		t.Fatal(err)
	}
	by := map[int64][]string{}
	for _, l := range links {
		by[l.ContactID] = append(by[l.ContactID], l.GUID)
	}
	var me []store.BookContact
	for _, c := range contacts {
		bc := store.BookContact{Contact: c, GroupGUIDs: by[c.ID]}
		if c.Key == models.MeKey {
			me = append(me, bc)
		} else {
			b.Contacts = append(b.Contacts, bc)
		}
	}
	b.Contacts = append(me, b.Contacts...)
	return b
}

// normBook makes times comparable (each reader returns them in its own
// zone; the instants are what matter).
func normBook(b *store.Book) {
	b.Owner.CreatedAt, b.Owner.UpdatedAt = b.Owner.CreatedAt.UTC(), b.Owner.UpdatedAt.UTC()
	for j := range b.Contacts {
		c := &b.Contacts[j]
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	}
	for j := range b.Groups {
		g := &b.Groups[j]
		g.CreatedAt, g.UpdatedAt = g.CreatedAt.UTC(), g.UpdatedAt.UTC()
	}
}

// TestLoadBookFullMatchesGORM: the full read without GORM (pgx batch on
// Postgres, the driver connection on SQLite) returns exactly the rows GORM
// reads, for every kind of row: contacts in several groups and in a deleted
// group, an e-mail-only contact, non-ASCII and markup characters,
// annotations, a deleted contact and a deleted group left out, the Me
// contact first.
func TestLoadBookFullMatchesGORM(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		mk := func(email string) *models.Account {
			a, err := st.CreateAccount(ctx, store.NewAccount{Email: email, DisplayName: email})
			must(err)
			return a
		}
		alice := mk("alice@example.com")
		mk("bob@example.com")
		mk("carol@example.com")
		mk("dave@example.com")
		ids, err := st.AddContacts(ctx, alice.ID, []models.NewContact{
			{PassportName: "bob@example.com", IsMessengerUser: true, DisplayName: "Bob <b> & \"co\" ünïcødé 😀", Annotations: []models.Annotation{{Name: "AB.NickName", Value: "bobby"}}},
			{PassportName: "carol@example.com", IsMessengerUser: true},
			{PassportName: "dave@example.com", IsMessengerUser: false, DisplayName: "Dave"},
			{Email: "friend@mail.example"},
		}, true)
		must(err)
		friends, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Friends & <family>"})
		must(err)
		work, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Work"})
		must(err)
		old, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Old"})
		must(err)
		_, err = st.AddGroupContacts(ctx, alice.ID, []string{friends, work, old}, []models.GroupContactItem{{ContactGUID: ids[0]}, {ContactGUID: ids[3]}}, true)
		must(err)
		_, err = st.AddGroupContacts(ctx, alice.ID, []string{old}, []models.GroupContactItem{{ContactGUID: ids[2]}}, true)
		must(err)
		must(st.DeleteContacts(ctx, alice.ID, []string{ids[1]}))
		must(st.DeleteGroups(ctx, alice.ID, []string{old}))

		got, err := st.LoadBook(ctx, alice.ID, false, 0)
		must(err)
		want := gormFullBook(t, st, alice.ID)
		normBook(got)
		normBook(want)
		if len(got.Contacts) != 4 || len(got.Groups) != 2 || got.Contacts[0].Key != models.MeKey {
			t.Fatalf("want the Me contact first, 3 live contacts and 2 live groups, got %d contacts and %d groups", len(got.Contacts), len(got.Groups))
		}
		if len(got.Contacts[1].GroupGUIDs) != 2 || len(got.Contacts[2].GroupGUIDs) != 0 {
			t.Fatalf("group links: %v, %v", got.Contacts[1].GroupGUIDs, got.Contacts[2].GroupGUIDs)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("raw full read\n%+v\nGORM\n%+v", got, want)
		}

		t.Run("an account without a book is ABDoesNotExist", func(t *testing.T) {
			if _, err := st.LoadBook(ctx, alice.ID+1000, false, 0); models.ErrorCode(err) != models.CodeABDoesNotExist {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("a cancelled read fails and leaves the pool usable", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := st.LoadBook(cctx, alice.ID, false, 0); err == nil {
				t.Fatal("a cancelled read succeeded")
			}
			for i := 0; i < 3; i++ {
				if _, err := st.LoadBook(ctx, alice.ID, false, 0); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}
