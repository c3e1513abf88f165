package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestStoredAnswers: an answer is served only for the account revision,
// kind and format it was stored under; a change (any revision bump) makes
// it unservable at once; a late writer cannot replace a newer answer; the
// account row comes with it as GORM reads it and goes to the check first;
// the rows go with the account; applying a migration drops them all.
func TestStoredAnswers(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		alice, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com", DisplayName: "Alice"})
		must(err)
		_, err = st.CreateAccount(ctx, store.NewAccount{Email: "bob@example.com"})
		must(err)
		get := func(kind, format string) ([]byte, *models.Account) {
			t.Helper()
			body, a, err := st.StoredAnswer(ctx, alice.ID, kind, format, nil, nil)
			must(err)
			return body, a
		}
		rev := func() int64 {
			t.Helper()
			var a models.Account
			must(st.DB.First(&a, alice.ID).Error)
			return a.Revision
		}
		// Binary-safe and large: every byte value, 300 KB.
		body := bytes.Repeat([]byte("<x>\x00\xff&amp;ü</x>"), 20000)

		t.Run("nothing stored reads the account only", func(t *testing.T) {
			b, a := get("ABFindAll", "f1")
			if b != nil || a == nil || a.ID != alice.ID {
				t.Fatalf("body %d bytes, account %+v", len(b), a)
			}
			var want models.Account
			must(st.DB.First(&want, alice.ID).Error)
			want.CreatedAt, want.UpdatedAt = want.CreatedAt.UTC(), want.UpdatedAt.UTC()
			a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
			if !reflect.DeepEqual(*a, want) {
				t.Fatalf("account row\n got %+v\nwant %+v", *a, want)
			}
		})
		t.Run("served for its revision, kind and format only", func(t *testing.T) {
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", rev(), body))
			if b, _ := get("ABFindAll", "f1"); !bytes.Equal(b, body) {
				t.Fatalf("stored answer not served (%d bytes)", len(b))
			}
			// Decoded into the caller's buffer when it fits, else a new one.
			dst := make([]byte, 0, len(body)+10)
			b, _, err := st.StoredAnswer(ctx, alice.ID, "ABFindAll", "f1", dst, nil)
			must(err)
			if !bytes.Equal(b, body) || &b[0] != &dst[:1][0] {
				t.Fatal("not decoded into the buffer given")
			}
			b, _, err = st.StoredAnswer(ctx, alice.ID, "ABFindAll", "f1", make([]byte, 0, 10), nil)
			must(err)
			if !bytes.Equal(b, body) {
				t.Fatal("a buffer too small gave a wrong answer")
			}
			if b, _ := get("ABFindAll", "f2"); b != nil {
				t.Fatal("an answer of another format was served")
			}
			if b, _ := get("ABFindContactsPaged", "f1"); b != nil {
				t.Fatal("an answer of another kind was served")
			}
		})
		t.Run("a body this code did not store is a miss", func(t *testing.T) {
			must(st.DB.Exec("UPDATE stored_answers SET body = ?", []byte("not s2")).Error)
			if b, a := get("ABFindAll", "f1"); b != nil || a == nil {
				t.Fatalf("undecodable body: %.20q, account %v", b, a)
			}
			must(st.DB.Exec("DELETE FROM stored_answers").Error)
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", rev(), body))
		})
		t.Run("a change makes it unservable", func(t *testing.T) {
			old := rev()
			_, err := st.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "bob@example.com", IsMessengerUser: true}}, false)
			must(err)
			if b, a := get("ABFindAll", "f1"); b != nil || a.Revision == old {
				t.Fatalf("after a change: %d bytes served, revision %d (was %d)", len(b), a.Revision, old)
			}
			// A late writer of the old revision stores nothing servable,
			// and does not replace a newer answer.
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", rev(), []byte("new")))
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", old, body))
			if b, _ := get("ABFindAll", "f1"); string(b) != "new" {
				t.Fatalf("late writer: got %.20q", b)
			}
		})
		t.Run("the check sees the row first", func(t *testing.T) {
			refuse := errors.New("refused")
			var seen *models.Account
			b, a, err := st.StoredAnswer(ctx, alice.ID, "ABFindAll", "f1", nil, func(a *models.Account) error { seen = a; return refuse })
			if err != refuse || b != nil || a != nil || seen == nil || seen.ID != alice.ID {
				t.Fatalf("got %d bytes, %v, %v; check saw %+v", len(b), a, err, seen)
			}
			_, _, err = st.StoredAnswer(ctx, 999999, "ABFindAll", "f1", nil, func(a *models.Account) error {
				if a != nil {
					t.Errorf("check got %+v for no account", a)
				}
				return refuse
			})
			if err != refuse {
				t.Fatalf("no account: %v", err)
			}
			b, a, err = st.StoredAnswer(ctx, 999999, "ABFindAll", "f1", nil, nil)
			if b != nil || a != nil || err != nil {
				t.Fatalf("no account, no check: %d bytes, %v, %v", len(b), a, err)
			}
		})
		t.Run("the background writer stores the newest", func(t *testing.T) {
			r := rev()
			st.StoreAnswer(alice.ID, "FindMembership", "f1", r-1, []byte("older"))
			st.StoreAnswer(alice.ID, "FindMembership", "f1", r, []byte("newest"))
			st.StoreAnswer(alice.ID, "FindMembership", "f1", r-2, []byte("oldest"))
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			must(st.FlushAnswers(fctx))
			if b, _ := get("FindMembership", "f1"); string(b) != "newest" {
				t.Fatalf("got %.20q", b)
			}
		})
		t.Run("the background writer stores batches, skipping gone accounts", func(t *testing.T) {
			r := rev()
			for i := 0; i < 70; i++ { // three batches
				st.StoreAnswer(alice.ID, fmt.Sprintf("kind%d", i), "f1", r, []byte(fmt.Sprintf("answer %d", i)))
				st.StoreAnswer(999999, fmt.Sprintf("kind%d", i), "f1", r, []byte("nobody's"))
			}
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			must(st.FlushAnswers(fctx))
			for i := 0; i < 70; i++ {
				if b, _ := get(fmt.Sprintf("kind%d", i), "f1"); string(b) != fmt.Sprintf("answer %d", i) {
					t.Fatalf("kind%d: got %.20q", i, b)
				}
			}
			var n int64
			must(st.DB.Table("stored_answers").Where("owner_id = ?", 999999).Count(&n).Error)
			if n != 0 {
				t.Fatalf("%d answers stored for no account", n)
			}
		})
		t.Run("a migration drops every stored answer", func(t *testing.T) {
			var n int64
			must(st.DB.Table("stored_answers").Count(&n).Error)
			if n == 0 {
				t.Fatal("nothing stored")
			}
			undo := store.RegisterMigrationForTest("9999_test_noop", "SELECT 1")
			defer undo()
			must(st.Migrate(ctx))
			must(st.DB.Table("stored_answers").Count(&n).Error)
			if n != 0 {
				t.Fatalf("%d stored answers after a migration", n)
			}
		})
		t.Run("rows go with their account", func(t *testing.T) {
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", rev(), body))
			_, err := st.DeleteAccount(ctx, alice.Email)
			must(err)
			var n int64
			must(st.DB.Table("stored_answers").Where("owner_id = ?", alice.ID).Count(&n).Error)
			if n != 0 {
				t.Fatalf("%d stored answers of a deleted account", n)
			}
			must(st.PutStoredAnswer(ctx, alice.ID, "ABFindAll", "f1", 1, body)) // a late writer: nothing
			must(st.DB.Table("stored_answers").Where("owner_id = ?", alice.ID).Count(&n).Error)
			if n != 0 {
				t.Fatal("an answer was stored for a deleted account")
			}
		})
	})
}

// BenchmarkPutStoredAnswer is what storing one answer costs the background
// writer (store.StoreAnswer): S2-encoding a 337 KB ABFindAll of 300
// contacts (the golden answer's contact, repeated) and the upsert, on both
// databases, one writer as in abch.
func BenchmarkPutStoredAnswer(b *testing.B) {
	dbs := []string{store.DialectSQLite}
	if os.Getenv("ABCH_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, store.DialectPostgres)
	}
	for _, db := range dbs {
		b.Run(db, func(b *testing.B) { benchPutStoredAnswer(b, testenv.Config(b, testenv.DB{Name: db})) })
	}
}

func benchPutStoredAnswer(b *testing.B, cfg config.Config) {
	ctx := context.Background()
	st, err := store.Open(ctx, cfg, testenv.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	a, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	var body []byte
	for i := 0; len(body) < 337_000; i++ {
		body = fmt.Appendf(body, `<Contact><contactId>00000000-0000-4000-8000-%012d</contactId><contactInfo><annotations><Annotation><Name>AB.NickName</Name><Value>n%d</Value></Annotation></annotations>`+
			`<contactType>Regular</contactType><quickName>Peer %d</quickName><passportName>peer%d@bench.example</passportName><IsPassportNameHidden>false</IsPassportNameHidden>`+
			`<displayName>Peer %d</displayName><puid>0</puid><CID>%d</CID><IsNotMobileVisible>false</IsNotMobileVisible><isMobileIMEnabled>false</isMobileIMEnabled>`+
			`<isMessengerUser>true</isMessengerUser><isFavorite>false</isFavorite><isSmtp>false</isSmtp><hasSpace>false</hasSpace><spotWatchState>NoDevice</spotWatchState>`+
			`<birthdate>0001-01-01T00:00:00</birthdate><primaryEmailType>ContactEmailPersonal</primaryEmailType><PrimaryLocation>ContactLocationPersonal</PrimaryLocation>`+
			`<PrimaryPhone>ContactPhonePersonal</PrimaryPhone><IsPrivate>false</IsPrivate><Gender>Unspecified</Gender><TimeZone>None</TimeZone></contactInfo>`+
			`<propertiesChanged /><fDeleted>false</fDeleted><lastChange>2026-12-06T10:11:12.1234567Z</lastChange></Contact>`, i, i, i, i, i, 1000000+i*7919)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.PutStoredAnswer(ctx, a.ID, "ABFindAll", "f1", int64(i+1), body); err != nil {
			b.Fatal(err)
		}
	}
}
