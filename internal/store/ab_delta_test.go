package store_test

import (
	"context"
	"net/url"
	"reflect"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestLoadDeltaMatchesLoadBook: LoadDelta (pipelined through pgx on
// Postgres) returns exactly what the GORM delta read returns, for every
// kind of row: contacts in several groups, an e-mail-only contact (no
// account), a contact tombstone, a group tombstone, the Me contact, and
// every cursor between the book's creation and its revision.
func TestLoadDeltaMatchesLoadBook(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		mk := func(email string) *models.Account {
			a, err := st.CreateAccount(ctx, store.NewAccount{Email: email, DisplayName: email})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		alice, _, _ := mk("alice@example.com"), mk("bob@example.com"), mk("carol@example.com")
		var cursors []int64
		mark := func() {
			a, err := st.AccountByID(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			cursors = append(cursors, a.Revision)
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		mark()
		ids, err := st.AddContacts(ctx, alice.ID, []models.NewContact{
			{PassportName: "bob@example.com", IsMessengerUser: true, DisplayName: "Bob <b>", Annotations: []models.Annotation{{Name: "AB.NickName", Value: "bobby"}}},
			{PassportName: "carol@example.com", IsMessengerUser: true},
			{Email: "friend@mail.example"},
		}, true)
		must(err)
		mark()
		friends, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Friends"})
		must(err)
		work, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Work"})
		must(err)
		mark()
		_, err = st.AddGroupContacts(ctx, alice.ID, []string{friends, work}, []models.GroupContactItem{{ContactGUID: ids[0]}, {ContactGUID: ids[2]}}, true)
		must(err)
		mark()
		must(st.DeleteContacts(ctx, alice.ID, []string{ids[1]}))
		must(st.DeleteGroups(ctx, alice.ID, []string{work}))
		mark()

		owner, err := st.AccountByID(ctx, alice.ID)
		must(err)
		pass := func(a *models.Account) error {
			if a == nil || a.ID != alice.ID {
				t.Fatalf("check got %+v", a)
			}
			return nil
		}
		for i, since := range cursors {
			want, err := st.LoadBookOf(ctx, alice.ID, owner, true, since)
			must(err)
			got, err := st.LoadDelta(ctx, alice.ID, since, pass)
			must(err)
			if i < len(cursors)-1 && len(got.Contacts)+len(got.Groups) == 0 {
				t.Fatalf("cursor %d: an empty delta proves nothing", i)
			}
			norm := func(b *store.Book) {
				// Times come back in the connection's zone either way;
				// compare instants.
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
			norm(want)
			norm(got)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("cursor %d: LoadDelta\n%+v\nLoadBookOf\n%+v", i, got, want)
			}
		}

		t.Run("refused account and bad cursors", func(t *testing.T) {
			refuse := &models.Error{Code: models.CodePassportAuthFail, Message: "no"}
			if _, err := st.LoadDelta(ctx, alice.ID, cursors[0], func(*models.Account) error { return refuse }); err != refuse {
				t.Fatalf("check's error not returned: %v", err)
			}
			var sawNil bool
			if _, err := st.LoadDelta(ctx, alice.ID+1000, 0, func(a *models.Account) error { sawNil = a == nil; return refuse }); err != refuse || !sawNil {
				t.Fatalf("missing account: check saw nil %v, err %v", sawNil, err)
			}
			for _, since := range []int64{owner.Revision + 1, -1, 1, models.RevisionAt(owner.CreatedAt) - 10} {
				if _, err := st.LoadDelta(ctx, alice.ID, since, pass); models.ErrorCode(err) != models.CodeFullSyncRequired {
					t.Fatalf("cursor %d: want FullSyncRequired, got %v", since, err)
				}
			}
		})
	})
}

// TestPostgresGenericPlans: abch's Postgres sessions plan each prepared
// statement once (plan_cache_mode=force_generic_plan, see store.Open),
// unless the operator's URL sets plan_cache_mode itself.
func TestPostgresGenericPlans(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		if db.Name != store.DialectPostgres {
			continue // the setting is Postgres's
		}
		ctx := context.Background()
		cfg := testenv.Config(t, db)
		own, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		q := own.Query()
		q.Set("plan_cache_mode", "auto")
		own.RawQuery = q.Encode()
		for _, c := range []struct{ url, want string }{
			{cfg.DatabaseURL, "force_generic_plan"},
			{own.String(), "auto"},
		} {
			cfg.DatabaseURL = c.url
			st, err := store.Open(ctx, cfg, testenv.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			var got string
			err = st.DB.Raw("SHOW plan_cache_mode").Scan(&got).Error
			st.Close()
			if err != nil || got != c.want {
				t.Fatalf("%s: plan_cache_mode %q (%v), want %q", c.url, got, err, c.want)
			}
		}
	}
}
