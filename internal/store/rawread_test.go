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
			{PassportName: "bob@example.com", IsMessengerUser: true, DisplayName: "Bob <b> & \"co\" \\ \t ünïcødé 😀", Annotations: []models.Annotation{{Name: "AB.NickName", Value: "bobby"}}},
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

		fallbacks := store.PGScanFallbacks()
		got, err := st.LoadBook(ctx, alice.ID, false, 0)
		must(err)
		if n := store.PGScanFallbacks() - fallbacks; n != 0 {
			t.Fatalf("%d queries of the full read were not decoded by the raw reader", n)
		}
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

		t.Run("AccountByID reads the row GORM reads", func(t *testing.T) {
			must(st.SetPassword(ctx, alice.ID, "argon2id$hash", false))
			got, err := st.AccountByID(ctx, alice.ID)
			must(err)
			var want models.Account
			must(st.DB.First(&want, alice.ID).Error)
			got.CreatedAt, got.UpdatedAt = got.CreatedAt.UTC(), got.UpdatedAt.UTC()
			want.CreatedAt, want.UpdatedAt = want.CreatedAt.UTC(), want.UpdatedAt.UTC()
			if *got != want || got.PasswordHash != "argon2id$hash" {
				t.Fatalf("raw\n%+v\nGORM\n%+v", *got, want)
			}
			if _, err := st.AccountByID(ctx, alice.ID+1000); models.ErrorCode(err) != models.CodeNotFound {
				t.Fatalf("a missing account: %v", err)
			}
		})
		t.Run("LoadFull hands the snapshot's account row to the check", func(t *testing.T) {
			var saw *models.Account
			b, err := st.LoadFull(ctx, alice.ID, func(a *models.Account) error { saw = a; return nil })
			must(err)
			if saw == nil || saw.ID != alice.ID || saw.Revision != b.Owner.Revision || len(b.Contacts) != 4 {
				t.Fatalf("check saw %+v; book of %d contacts at %d", saw, len(b.Contacts), b.Owner.Revision)
			}
			refuse := &models.Error{Code: models.CodePassportAuthFail, Message: "no"}
			if b, err := st.LoadFull(ctx, alice.ID, func(*models.Account) error { return refuse }); err != refuse || b != nil {
				t.Fatalf("check's error not returned as is: %v, %v", b, err)
			}
			var sawNil bool
			if _, err := st.LoadFull(ctx, alice.ID+1000, func(a *models.Account) error { sawNil = a == nil; return refuse }); err != refuse || !sawNil {
				t.Fatalf("missing account: check saw nil %v, err %v", sawNil, err)
			}
		})
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

// gormMemberships is the membership read as GORM did it before the raw
// readers (rows in id order, then the inviter's name for a Reverse or
// Pending row stored without one), sorted by role as Memberships sorts.
func gormMemberships(t *testing.T, st *store.Store, ownerID, since int64) []models.Membership {
	t.Helper()
	q := st.DB.Where("owner_id = ? AND role IN ?", ownerID, models.MembershipRoles)
	if since == 0 {
		q = q.Where("NOT deleted")
	} else {
		q = q.Where("rev > ?", since)
	}
	var list []models.Membership
	if err := q.Order("id").Find(&list).Error; err != nil {
		t.Fatal(err)
	}
	byRole := map[string][]models.Membership{}
	for _, m := range list {
		if m.DisplayName == "" && m.MemberAccountID != nil && (m.Role == models.RoleReverse || m.Role == models.RolePending) {
			var a models.Account
			if err := st.DB.First(&a, *m.MemberAccountID).Error; err != nil {
				t.Fatal(err)
			}
			m.DisplayName = a.DisplayName
		}
		byRole[m.Role] = append(byRole[m.Role], m)
	}
	var out []models.Membership
	for _, r := range models.MembershipRoles {
		out = append(out, byRole[r]...)
	}
	return out
}

// TestMembershipsMatchGORM: Memberships read without GORM returns the rows
// GORM reads, full and as a delta: every role, a Passport and an e-mail
// member, annotations, an invitation, a Reverse row stored without a
// display name (which gets the inviter's name), a deleted row (left out of
// the full set, a tombstone in the delta), in role order.
func TestMembershipsMatchGORM(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		mk := func(email, name string) *models.Account {
			a, err := st.CreateAccount(ctx, store.NewAccount{Email: email, DisplayName: name})
			must(err)
			return a
		}
		alice := mk("alice@example.com", "Alice")
		bob := mk("bob@example.com", "Bob <the builder> & ünï")
		carol := mk("carol@example.com", "Carol")
		start, err := st.AccountByID(ctx, alice.ID)
		must(err)
		must(st.Write(ctx, func(tx *store.Txn) error {
			if err := tx.Bump(alice.ID); err != nil {
				return err
			}
			puts := []struct {
				role  string
				ref   store.MemberRef
				name  string
				invit string
				anns  []models.Annotation
			}{
				{models.RoleAllow, store.PassportRef(bob), "", "", nil},
				{models.RoleBlock, store.PassportRef(carol), "", "", []models.Annotation{{Name: "MSN.IM.BuddyType", Value: "03:"}}},
				{models.RoleReverse, store.PassportRef(bob), "", "", nil},
				{models.RolePending, store.PassportRef(carol), "Carol's own name", "hi \"there\" <you>", nil},
				{models.RoleAllow, store.MemberRef{Type: models.MemberEmail, Name: "friend@mail.example"}, "", "", nil},
				{models.RoleAllow, store.MemberRef{Type: models.MemberPassport, Name: "gone@example.com", CID: 7}, "", "", nil},
			}
			for _, p := range puts {
				if _, _, err := tx.PutMember(alice.ID, p.role, p.ref, p.name, p.invit, p.anns); err != nil {
					return err
				}
			}
			return nil
		}))
		_, err = st.DeleteMembers(ctx, alice.ID, []models.MemberSpec{{Role: models.RoleAllow, Type: models.MemberPassport, Name: "gone@example.com"}})
		must(err)

		for _, since := range []int64{0, start.Revision} {
			fallbacks := store.PGScanFallbacks()
			set, err := st.Memberships(ctx, alice.ID, since)
			must(err)
			if n := store.PGScanFallbacks() - fallbacks; n != 0 {
				t.Fatalf("%d queries of the membership read were not decoded by the raw reader", n)
			}
			want := gormMemberships(t, st, alice.ID, since)
			norm := func(list []models.Membership) {
				for i := range list {
					m := &list[i]
					m.JoinedAt, m.CreatedAt, m.UpdatedAt = m.JoinedAt.UTC(), m.CreatedAt.UTC(), m.UpdatedAt.UTC()
				}
			}
			norm(set.Members)
			norm(want)
			if len(want) < 5 {
				t.Fatalf("since %d: only %d rows to compare", since, len(want))
			}
			if !reflect.DeepEqual(set.Members, want) {
				t.Fatalf("since %d: raw read\n%+v\nGORM\n%+v", since, set.Members, want)
			}
			a, err := st.AccountByID(ctx, alice.ID)
			must(err)
			if set.Revision != a.Revision || set.Account.ID != alice.ID || set.Since != since {
				t.Fatalf("since %d: set header %d/%d/%d", since, set.Revision, set.Account.ID, set.Since)
			}
		}
		var sawInviter bool
		set, err := st.Memberships(ctx, alice.ID, 0)
		must(err)
		for _, m := range set.Members {
			if m.Role == models.RoleReverse && m.DisplayName == bob.DisplayName {
				sawInviter = true
			}
		}
		if !sawInviter {
			t.Fatal("the Reverse row stored without a name did not get the inviter's")
		}
		if _, err := st.Memberships(ctx, alice.ID+1000, 0); models.ErrorCode(err) != models.CodeNotFound {
			t.Fatalf("no account: %v", err)
		}
		t.Run("MembershipsChecked hands the snapshot's account row to the check", func(t *testing.T) {
			var saw *models.Account
			got, err := st.MembershipsChecked(ctx, alice.ID, 0, func(a *models.Account) error { saw = a; return nil })
			must(err)
			if saw == nil || saw.ID != alice.ID || saw.Revision != got.Revision || len(got.Members) != len(set.Members) {
				t.Fatalf("check saw %+v; %d members at %d", saw, len(got.Members), got.Revision)
			}
			refuse := &models.Error{Code: models.CodePassportAuthFail, Message: "no"}
			if got, err := st.MembershipsChecked(ctx, alice.ID, 0, func(*models.Account) error { return refuse }); err != refuse || got != nil {
				t.Fatalf("check's error not returned as is: %v, %v", got, err)
			}
			var sawNil bool
			if _, err := st.MembershipsChecked(ctx, alice.ID+1000, 0, func(a *models.Account) error { sawNil = a == nil; return refuse }); err != refuse || !sawNil {
				t.Fatalf("missing account: check saw nil %v, err %v", sawNil, err)
			}
		})
	})
}
