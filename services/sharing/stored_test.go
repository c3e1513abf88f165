package sharing_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/sharing"
)

// TestStoredAnswersNeverStale: with the answers stored in the database
// (ABCH_STORED_ANSWERS=on), a full FindMembership the memory cache cannot
// serve gets the stored answer of the account's current revision and never
// an older one: after the owner's AddMember/DeleteMember and after another
// account's change to the owner's Reverse and Pending lists, the answer is
// byte for byte the one the rows render, with and without the Messenger
// service, with the answer cache off and on; a refused ticket gets no
// stored answer.
func TestStoredAnswersNeverStale(t *testing.T) {
	for _, cacheBytes := range []int{0, 32 << 20} {
		name := "answer cache off"
		if cacheBytes > 0 {
			name = "answer cache on"
		}
		t.Run(name, func(t *testing.T) {
			testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
				cfg.SharingCacheBytes = cacheBytes
				cfg.StoredAnswers = "on"
				testStoredNeverStale(t, newEnv(t, cfg), cacheBytes)
			})
		})
	}
}

func testStoredNeverStale(t *testing.T, e *env, cacheBytes int) {
	ctx := context.Background()
	alice := e.account("alice@example.com", "Alice")
	bob := e.account("bob@example.com", "Bob")
	e.account("carol@example.com", "Carol")
	kinds := map[string]bool{"FindMembership": true, "FindMembership/NoMessenger": false}
	read := func(messenger bool) reply {
		t.Helper()
		body := findBody("")
		if !messenger {
			body = strings.Replace(body, "<ServiceType>Messenger</ServiceType>", "<ServiceType>Profile</ServiceType>", 1)
		}
		r := e.post(bob, body)
		mustOK(t, r)
		return r
	}
	flush := func() {
		t.Helper()
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := e.Store.FlushAnswers(fctx); err != nil {
			t.Fatal(err)
		}
	}
	revision := func() int64 {
		t.Helper()
		a, err := e.Store.AccountByID(ctx, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Revision
	}
	fresh := func(messenger bool) string {
		t.Helper()
		set, err := e.Store.Memberships(ctx, bob.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		return string(sharing.RenderFull(set, messenger))
	}
	stored := func(kind string) string {
		t.Helper()
		var body []byte
		if err := e.Store.DB.Raw("SELECT body FROM stored_answers WHERE owner_id = ? AND kind = ? AND rev = ?", bob.ID, kind, revision()).Row().Scan(&body); err != nil {
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
		for kind, messenger := range kinds {
			r := read(messenger)
			flush()
			if got := stored(kind); got != r.Body || got != fresh(messenger) {
				t.Fatalf("%s: %s: the stored answer is not the answer served", step, kind)
			}
			if err := e.Store.DB.Exec("UPDATE stored_answers SET body = ?", store.EncodeStoredBody([]byte("STORED"))).Error; err != nil {
				t.Fatal(err)
			}
			if cacheBytes == 0 {
				if r := e.post(bob, strings.Replace(findBody(""), "Messenger</ServiceType>", map[bool]string{true: "Messenger", false: "Profile"}[messenger]+"</ServiceType>", 1)); r.Body != "STORED" {
					t.Fatalf("%s: %s: the stored answer was not served: %.300s", step, kind, r.Body)
				}
			}
			change()
			r = read(messenger)
			if want := fresh(messenger); r.Body != want {
				t.Fatalf("%s: %s: served\n%.2000s\nthe rows render\n%.2000s", step, kind, r.Body, want)
			}
			flush()
			if stored(kind) != r.Body {
				t.Fatalf("%s: %s: the new answer was not stored", step, kind)
			}
			if r2 := read(messenger); r2.Body != r.Body {
				t.Fatalf("%s: %s: the second read differs", step, kind)
			}
		}
	}
	n := 0
	block := true
	check("AddMember/DeleteMember", func() {
		op := "AddMember"
		if !block {
			op = "DeleteMember"
		}
		block = !block
		mustOK(t, e.post(bob, memberBody(op, passportMembership(models.RoleBlock, "carol@example.com"))))
	})
	check("another account's change", func() {
		n++
		if n%2 == 1 {
			e.aliceAddsBob(alice, bob, "hi")
		} else {
			e.aliceDeletesBob(alice, bob)
		}
	})
	t.Run("a stored answer is refused to a refused ticket", func(t *testing.T) {
		read(true)
		flush()
		ticket := e.ticket(bob)
		if err := e.Store.SetPassword(ctx, bob.ID, "x", true); err != nil {
			t.Fatal(err)
		}
		if n := e.Count("stored_answers", "owner_id = ? AND kind = ? AND rev = ?", bob.ID, "FindMembership", revision()); n != 1 {
			t.Fatalf("%d current stored answers", n)
		}
		body := strings.Replace(findBody(""), "<TicketToken>x</TicketToken>", "<TicketToken>"+strings.ReplaceAll(ticket, "&", "&amp;")+"</TicketToken>", 1)
		r := e.Post("/abservice/SharingService.asmx", body, nil)
		mustFault(t, r, models.CodePassportAuthFail)
	})
}
