package importer

import (
	"context"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestImportedContactsCarryCIDs: accounts made first (abch user add), then
// their lists imported with --merge=union, the migration path of
// REALCLIENT_FINDINGS F3: each side's lists name the other with its CID,
// the key the NS tracks presence by.
func TestImportedContactsCarryCIDs(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openStore(t, cfg)
		a, err := st.CreateAccount(ctx, store.NewAccount{Email: "ma@example.com", DisplayName: "MA"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.CreateAccount(ctx, store.NewAccount{Email: "mb@example.com", DisplayName: "MB"})
		if err != nil {
			t.Fatal(err)
		}
		mustImport(t, st, `{"v":1,"email":"ma@example.com","display_name":"MA","blp":"AL","gtc":"A","groups":[],"contacts":[{"email":"mb@example.com","lists":11,"display_name":"MB"}]}
{"v":1,"email":"mb@example.com","display_name":"MB","blp":"AL","gtc":"A","groups":[],"contacts":[{"email":"ma@example.com","lists":11,"display_name":"MA"}]}
`, Options{Merge: MergeUnion})
		// The rows themselves are linked at import time (the lists read
		// would find the CID by address anyway).
		var unlinked int64
		if err := st.DB.Model(&models.Contact{}).Where("contact_key <> ? AND cid = 0", models.MeKey).Count(&unlinked).Error; err != nil {
			t.Fatal(err)
		}
		var unlinkedM int64
		if err := st.DB.Model(&models.Membership{}).Where("cid = 0").Count(&unlinkedM).Error; err != nil {
			t.Fatal(err)
		}
		if unlinked != 0 || unlinkedM != 0 {
			t.Errorf("imported rows without CID: %d contacts, %d memberships", unlinked, unlinkedM)
		}
		for _, p := range []struct {
			owner, other int64
			cid          int64
		}{{a.ID, b.ID, b.CID}, {b.ID, a.ID, a.CID}} {
			rows, err := st.ListRows(ctx, p.owner)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows.Contacts) != 1 || rows.Contacts[0].CID != p.cid || rows.Contacts[0].ContactAccountID == nil || *rows.Contacts[0].ContactAccountID != p.other {
				t.Errorf("account %d contacts: %+v", p.owner, rows.Contacts)
			}
			if len(rows.Members) != 2 {
				t.Errorf("account %d members: %+v", p.owner, rows.Members)
			}
			for _, m := range rows.Members {
				if m.CID != p.cid {
					t.Errorf("account %d %s member CID %d, want %d", p.owner, m.Role, m.CID, p.cid)
				}
			}
		}
	})
}
