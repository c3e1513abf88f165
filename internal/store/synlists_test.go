package store_test

import (
	"context"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestSynGroupIDsOnEveryCreationPath: groups made by ABGroupAdd, by the NS
// API's ADG and by an import (CreateGroups) all get the next SYN id, and
// ids are not reused after a delete.
func TestSynGroupIDsOnEveryCreationPath(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		alice, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		soapGUID, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "SOAP"})
		if err != nil {
			t.Fatal(err)
		}
		adg, err := st.SynAddGroup(ctx, alice.ID, "ADG")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Write(ctx, func(tx *store.Txn) error {
			return tx.CreateGroups(alice.ID, []models.Group{{Name: "Imported 1"}, {Name: "Imported 2"}}, false)
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteGroups(ctx, alice.ID, []string{soapGUID}); err != nil {
			t.Fatal(err)
		}
		last, err := st.SynAddGroup(ctx, alice.ID, "After delete")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := st.ListRows(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, g := range rows.Groups {
			got[g.Name] = g.SynID
		}
		want := map[string]int{"ADG": 2, "Imported 1": 3, "Imported 2": 4, "After delete": 5}
		if len(got) != len(want) || adg.Group.SynID != 2 || last.Group.SynID != 5 {
			t.Fatalf("SYN ids %v, want %v", got, want)
		}
		for n, id := range want {
			if got[n] != id {
				t.Errorf("%s: SYN id %d, want %d", n, got[n], id)
			}
		}
		// Every change moved the list version by one: 5 writes after creation.
		a, err := st.AccountByID(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.ListVersion != 1+5 {
			t.Errorf("list version %d, want 6", a.ListVersion)
		}
	})
}
