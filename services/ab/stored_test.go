package ab_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ab"
)

// TestStoredAnswersNeverStale: with the answers stored in the database
// (ABCH_STORED_ANSWERS=on), a full read the memory cache cannot serve gets
// the stored answer of the book's current revision and never an older one:
// after a change through SOAP, through the importer's bulk writes or to the
// owner's profile, the answer is byte for byte the one the rows render
// (the same server with stored answers off), on both find forms, with the
// answer cache off and on; a stored answer is refused to a ticket the
// account row refuses.
func TestStoredAnswersNeverStale(t *testing.T) {
	for _, cacheBytes := range []int{0, 64 << 20} {
		name := "answer cache off"
		if cacheBytes > 0 {
			name = "answer cache on"
		}
		t.Run(name, func(t *testing.T) { testStoredNeverStale(t, cacheBytes) })
	}
}

func testStoredNeverStale(t *testing.T, cacheBytes int) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.ABCacheBytes = cacheBytes
		cfg.StoredAnswers = "on"
		e := newEnv(t, cfg)
		ctx := context.Background()
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		e.account("carol@example.com", "Carol")
		wantOK(t, e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts>`)), "ABContactAdd")
		paged := op("ABFindContactsPaged", `<abView>MessengerClient8</abView><extendedContent>AB AllGroups CircleResult</extendedContent><filterOptions><DeltasOnly>false</DeltasOnly><ContactFilter><IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter></filterOptions>`)
		forms := map[string]func() reply{
			"ABFindAll":           func() reply { return e.findAll(alice) },
			"ABFindContactsPaged": func() reply { return e.call(alice, paged) },
		}
		flush := func() {
			t.Helper()
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := e.Store.FlushAnswers(fctx); err != nil {
				t.Fatal(err)
			}
		}
		// fresh is what the rows render now.
		fresh := func(kind string) string {
			t.Helper()
			b, err := e.Store.LoadBook(ctx, alice.ID, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			return string(ab.RenderFull(b, kind == "ABFindContactsPaged"))
		}
		stored := func(kind string) string {
			t.Helper()
			var body []byte
			if err := e.Store.DB.Raw("SELECT body FROM stored_answers WHERE owner_id = ? AND kind = ? AND rev = ?", alice.ID, kind, e.revision(alice)).Row().Scan(&body); err != nil {
				t.Fatalf("%s: no answer stored for the current revision: %v", kind, err)
			}
			out, err := store.DecodeStoredBody(nil, body)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		check := func(step string, change func()) {
			t.Helper()
			for kind, read := range forms {
				r := read()
				wantOK(t, r, kind)
				flush()
				if got := stored(kind); got != r.Body || got != fresh(kind) {
					t.Fatalf("%s: %s: the stored answer is not the answer served", step, kind)
				}
				// Mark the stored answer, so a read that serves it shows.
				if err := e.Store.DB.Exec("UPDATE stored_answers SET body = ?", store.EncodeStoredBody([]byte("STORED"))).Error; err != nil {
					t.Fatal(err)
				}
				if cacheBytes == 0 {
					if r := read(); r.Body != "STORED" {
						t.Fatalf("%s: %s: the stored answer was not served:\n%.300s", step, kind, r.Body)
					}
				}
				change()
				r = read()
				wantOK(t, r, kind)
				if want := fresh(kind); r.Body != want {
					t.Fatalf("%s: %s: served\n%.2000s\nthe rows render\n%.2000s", step, kind, r.Body, want)
				}
				flush()
				if stored(kind) != r.Body {
					t.Fatalf("%s: %s: the new answer was not stored", step, kind)
				}
				if r2 := read(); r2.Body != r.Body {
					t.Fatalf("%s: %s: the second read differs", step, kind)
				}
			}
		}
		n := 0
		check("ABContactUpdate", func() {
			n++
			b, err := e.Store.LoadBook(ctx, alice.ID, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			guid := b.Contacts[1].GUID
			wantOK(t, e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactId>`+guid+`</contactId><contactInfo><displayName>Bobby `+
				string(rune('0'+n))+`</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts>`)), "ABContactUpdate")
		})
		check("ABContactAdd", func() {
			n++
			wantOK(t, e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>c`+string(rune('0'+n))+
				`@example.com</passportName><isMessengerUser>false</isMessengerUser></contactInfo></Contact></contacts>`)), "ABContactAdd")
		})
		check("importer bulk write", func() {
			n++
			rows, err := e.Store.BookRows(ctx, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows.Contacts {
				c := rows.Contacts[i]
				if c.PassportName == "bob@example.com" {
					c.DisplayName = "Imported " + string(rune('0'+n))
					if err := e.Store.Write(ctx, func(tx *store.Txn) error { return tx.ReviseContact(alice.ID, &c) }); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
		check("owner profile", func() {
			n++
			wantOK(t, e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Alice `+
				string(rune('0'+n))+`</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts>`)), "ABContactUpdate")
		})
		t.Run("concurrent reads of different books each get their own", func(t *testing.T) {
			// With the cache off, stored answers are decoded into
			// recycled buffers (soap.OKPooled).
			owners := []*models.Account{e.account("dave@example.com", "Dave"), e.account("erin@example.com", "Erin")}
			for i, o := range owners {
				for j := 0; j <= i; j++ {
					wantOK(t, e.call(o, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>x`+string(rune('a'+j))+
						`@example.com</passportName><isMessengerUser>false</isMessengerUser></contactInfo></Contact></contacts>`)), "ABContactAdd")
				}
				wantOK(t, e.findAll(o), "ABFindAll")
			}
			flush()
			want := make([]string, len(owners))
			for i, o := range owners {
				b, err := e.Store.LoadBook(ctx, o.ID, false, 0)
				if err != nil {
					t.Fatal(err)
				}
				want[i] = string(ab.RenderFull(b, false))
			}
			errs := make(chan error, 64)
			for g := 0; g < 8; g++ {
				go func() {
					for k := 0; k < 20; k++ {
						i := (g + k) % len(owners)
						if r := e.findAll(owners[i]); r.Body != want[i] {
							errs <- fmt.Errorf("book %d: got another answer (%d bytes, want %d)", i, len(r.Body), len(want[i]))
							return
						}
					}
					errs <- nil
				}()
			}
			for g := 0; g < 8; g++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Run("a stored answer is refused to a refused ticket", func(t *testing.T) {
			wantOK(t, e.findAll(alice), "ABFindAll")
			flush()
			ticket := e.ticket(alice)
			// A password change moves no revision: the stored answer
			// stays current, and the ticket from before is refused.
			if err := e.Store.SetPassword(ctx, alice.ID, "x", true); err != nil {
				t.Fatal(err)
			}
			if n := e.Count("stored_answers", "owner_id = ? AND kind = ? AND rev = ?", alice.ID, "ABFindAll", e.revision(alice)); n != 1 {
				t.Fatalf("%d current stored answers", n)
			}
			r := e.post(envelope(ticket, op("ABFindAll", `<abView>Full</abView><deltasOnly>false</deltasOnly>`)), "")
			wantFault(t, r, models.CodePassportAuthFail)
		})
	})
}
