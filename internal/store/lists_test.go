package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestListRowsCIDOfUnlinkedRows: contact and membership rows that were
// written before their address had an account (or by an import that did
// not link them) still carry the CID of the account with that address, the
// key the NS tracks presence by (REALCLIENT_FINDINGS F3).
func TestListRowsCIDOfUnlinkedRows(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		alice, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		// Before bob, carol and dave have accounts: bob is added as an
		// address-book entry (not yet a Messenger user), dave is blocked.
		if _, err := st.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "bob@example.com"}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddMembers(ctx, alice.ID, []models.MemberSpec{
			{Role: models.RoleBlock, Type: models.MemberPassport, Name: "dave@example.com"}}); err != nil {
			t.Fatal(err)
		}
		bob, err := st.CreateAccount(ctx, store.NewAccount{Email: "Bob@Example.com"})
		if err != nil {
			t.Fatal(err)
		}
		carol, err := st.CreateAccount(ctx, store.NewAccount{Email: "carol@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		dave, err := st.CreateAccount(ctx, store.NewAccount{Email: "dave@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		// Now bob joins alice's Forward List (the EL entry is upgraded), and
		// carol is added and allowed the ordinary way.
		if _, err := st.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "bob@example.com", IsMessengerUser: true}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "carol@example.com", IsMessengerUser: true}}, true); err != nil {
			t.Fatal(err)
		}
		var bobRow models.Contact
		if err := st.DB.Where("owner_id = ? AND contact_key = ?", alice.ID, "passport:bob@example.com").Take(&bobRow).Error; err != nil {
			t.Fatal(err)
		}
		if bobRow.ContactAccountID == nil || *bobRow.ContactAccountID != bob.ID || bobRow.CID != bob.CID {
			t.Errorf("upgraded entry not linked to bob's account: %v %d", bobRow.ContactAccountID, bobRow.CID)
		}
		// A row as an import that did not link it leaves it: no account, no
		// CID, the address in another letter case.
		if err := st.DB.Model(&models.Contact{}).Where("owner_id = ? AND contact_key = ?", alice.ID, "passport:carol@example.com").
			Updates(map[string]any{"cid": 0, "contact_account_id": nil, "passport_name": "Carol@Example.COM"}).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.DB.Model(&models.Membership{}).Where("owner_id = ? AND member_name = ?", alice.ID, "carol@example.com").
			Updates(map[string]any{"cid": 0, "member_account_id": nil}).Error; err != nil {
			t.Fatal(err)
		}

		rows, err := st.ListRows(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"bob@example.com": bob.CID, "carol@example.com": carol.CID}
		if len(rows.Contacts) != 2 {
			t.Fatalf("contacts: %+v", rows.Contacts)
		}
		for _, c := range rows.Contacts {
			if w := want[strings.ToLower(c.PassportName)]; c.CID != w || w == 0 {
				t.Errorf("contact %s: CID %d, want %d", c.PassportName, c.CID, w)
			}
		}
		want["dave@example.com"] = dave.CID
		if len(rows.Members) != 2 {
			t.Fatalf("members: %+v", rows.Members)
		}
		for _, m := range rows.Members {
			if w := want[m.MemberName]; m.CID != w || w == 0 {
				t.Errorf("%s member %s: CID %d, want %d", m.Role, m.MemberName, m.CID, w)
			}
		}
	})
}
