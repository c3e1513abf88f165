package nsclient_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

func TestClientAndSubscriber(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		ctx := context.Background()
		st := s.Store
		alice, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com", DisplayName: "Alice"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := st.CreateAccount(ctx, store.NewAccount{Email: "bob@example.com", DisplayName: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		c := nsclient.New("http://"+s.NSAddr, cfg.NSKey)

		t.Run("API calls decode into the client types", func(t *testing.T) {
			p, err := c.Profile(ctx, "bob@example.com")
			if err != nil || p.CID != bob.CID || p.MSPAuth == "" || p.MemberIDLow != uint32(bob.PUIDUnsigned()) {
				t.Fatalf("profile %+v: %v", p, err)
			}
			p, err = c.SetDisplayName(ctx, "bob@example.com", "Bobby B")
			if err != nil || p.DisplayName != "Bobby B" {
				t.Fatalf("set name %+v: %v", p, err)
			}
			pr, err := c.SetPrivacy(ctx, "bob@example.com", nsclient.Privacy{BLP: "BL"})
			if err != nil || pr.BLP != "BL" || pr.GTC != "A" {
				t.Fatalf("set privacy %+v: %v", pr, err)
			}
			if pr, err = c.Privacy(ctx, "bob@example.com"); err != nil || pr.BLP != "BL" {
				t.Fatalf("privacy %+v: %v", pr, err)
			}
			l, err := c.Lists(ctx, "bob@example.com")
			if err != nil || len(l.Contacts) != 0 || l.Groups == nil {
				t.Fatalf("lists %+v: %v", l, err)
			}
			w, err := c.Watchers(ctx, "bob@example.com")
			if err != nil || w.BLP != "BL" || len(w.Watchers) != 0 {
				t.Fatalf("watchers %+v: %v", w, err)
			}
		})

		t.Run("errors carry the HTTP status and JSON code", func(t *testing.T) {
			var ae *nsclient.APIError
			if _, err := c.Profile(ctx, "nobody@example.com"); !errors.As(err, &ae) || ae.Status != 404 || ae.Code != "not_found" {
				t.Errorf("unknown user: %v", err)
			}
			if _, err := c.SetPrivacy(ctx, "bob@example.com", nsclient.Privacy{BLP: "maybe"}); !errors.As(err, &ae) || ae.Status != 400 {
				t.Errorf("bad blp: %v", err)
			}
			bad := nsclient.New("http://"+s.NSAddr, "wrong")
			if _, err := bad.Lists(ctx, "bob@example.com"); !errors.As(err, &ae) || ae.Status != 401 {
				t.Errorf("wrong key: %v", err)
			}
		})

		// Subscribers start with new events: let the relay publish the
		// earlier ones first.
		drained := func(t *testing.T) {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for {
				rows, err := st.UnpublishedEvents(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatal("outbox not drained")
				}
				time.Sleep(10 * time.Millisecond)
			}
		}

		nc, err := nats.Connect(s.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()

		t.Run("subscriber delivers a recipient's events in order and redelivers on handler error", func(t *testing.T) {
			var mu sync.Mutex
			var seen []nsclient.Event
			failOnce := true
			drained(t)
			got := make(chan struct{}, 16)
			sub, err := nsclient.Subscribe(ctx, nc, nsclient.SubscribeOptions{CIDs: []int64{bob.CID}, AckWait: time.Second}, func(_ context.Context, ev nsclient.Event) error {
				mu.Lock()
				defer mu.Unlock()
				seen = append(seen, ev)
				got <- struct{}{}
				if failOnce {
					failOnce = false
					return errors.New("socket busy")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Stop()
			// Alice adds Bob, then removes him; Alice's own change is not Bob's.
			err = st.Write(ctx, func(tx *store.Txn) error {
				if err := tx.Bump(alice.ID, bob.ID); err != nil {
					return err
				}
				if err := tx.Emit(alice.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(alice), nil)); err != nil {
					return err
				}
				return tx.Emit(bob.ID, events.ReverseAdded(store.Party(bob), store.Party(alice), models.NetworkPassport, true, ""))
			})
			if err != nil {
				t.Fatal(err)
			}
			err = st.Write(ctx, func(tx *store.Txn) error {
				if err := tx.Bump(alice.ID, bob.ID); err != nil {
					return err
				}
				return tx.Emit(bob.ID, events.ReverseRemoved(store.Party(bob), store.Party(alice), models.NetworkPassport))
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				select {
				case <-got:
				case <-time.After(15 * time.Second):
					t.Fatalf("handler called %d times, want 3", i)
				}
			}
			select {
			case <-got:
				t.Errorf("more deliveries than expected")
			case <-time.After(300 * time.Millisecond):
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[0].Type != events.TypeReverseAdded || seen[1].ID != seen[0].ID || seen[2].Type != events.TypeReverseRemoved {
				t.Errorf("deliveries: %s/%s, %s/%s, %s", seen[0].Type, seen[0].ID, seen[1].Type, seen[1].ID, seen[2].Type)
			}
			if w := string(nsclient.Wire(seen[2].NS[0])); !strings.HasPrefix(w, "RML 0 ") || !strings.Contains(w, "\r\n<ml><d n=\"example.com\"><c n=\"alice\" t=\"1\" l=\"8\" /></d></ml>") {
				t.Errorf("RML wire form: %q", w)
			}
			not := seen[2].NS[1]
			if w := string(nsclient.Wire(not)); !strings.HasPrefix(w, "NOT "+strconv.Itoa(len(not.Payload))+"\r\n<NOTIFICATION ") {
				t.Errorf("NOT wire form: %.60q", w)
			}
		})

		t.Run("an all-accounts subscriber sees every recipient", func(t *testing.T) {
			recipients := make(chan string, 8)
			drained(t)
			sub, err := nsclient.Subscribe(ctx, nc, nsclient.SubscribeOptions{}, func(_ context.Context, ev nsclient.Event) error {
				recipients <- ev.Recipient.Email
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Stop()
			for _, a := range []*models.Account{alice, bob} {
				a := a
				if err := st.Write(ctx, func(tx *store.Txn) error {
					if err := tx.Bump(a.ID); err != nil {
						return err
					}
					return tx.Emit(a.ID, events.SelfChanged(events.TypeMembershipChanged, store.Party(a), nil))
				}); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for len(got) < 2 {
				select {
				case r := <-recipients:
					got = append(got, r)
				case <-time.After(15 * time.Second):
					t.Fatalf("got %v", got)
				}
			}
			if got[0] != "alice@example.com" || got[1] != "bob@example.com" {
				t.Errorf("recipients %v", got)
			}
		})
	})
}
