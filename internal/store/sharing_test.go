package store_test

import (
	"context"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

func openSharingStore(t *testing.T, cfg config.Config) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, cfg, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestMembershipStore exercises the store side the NS pairing and the
// import reuse: AddMembers/DeleteMembers rules, ListBits and Memberships
// deltas, without the SOAP layer.
func TestMembershipStore(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openSharingStore(t, cfg)
		alice, err := st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := st.CreateAccount(ctx, store.NewAccount{Email: "Bob@Example.com", DisplayName: "Bob"})
		if err != nil {
			t.Fatal(err)
		}
		start := alice.Revision
		spec := func(role, name string) models.MemberSpec {
			return models.MemberSpec{Role: role, Type: models.MemberPassport, Name: name}
		}
		res, err := st.AddMembers(ctx, alice.ID, []models.MemberSpec{spec(models.RoleAllow, "bob@example.com"), spec(models.RoleBlock, "x@example.org")})
		if err != nil || len(res.Changes) != 2 || res.Revision <= start {
			t.Fatalf("add: %+v %v", res, err)
		}
		if res.Changes[0].Ref.AccountID == nil || *res.Changes[0].Ref.AccountID != bob.ID {
			t.Errorf("bob resolved to %+v", res.Changes[0].Ref)
		}
		if _, err := st.AddMembers(ctx, alice.ID, []models.MemberSpec{spec(models.RoleBlock, "bob@example.com")}); err != nil {
			t.Fatal(err)
		}
		bits, err := st.ListBits(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if bits["Passport:bob@example.com"] != listbits.BL || bits["Passport:x@example.org"] != listbits.BL || len(bits) != 2 {
			t.Errorf("bits: %v", bits)
		}
		// Pending of a member not pending: success without a write.
		res, err = st.DeleteMembers(ctx, alice.ID, []models.MemberSpec{spec(models.RolePending, "bob@example.com")})
		if err != nil || len(res.Changes) != 0 || res.Revision != 0 {
			t.Errorf("delete pending: %+v %v", res, err)
		}
		if _, err := st.DeleteMembers(ctx, alice.ID, []models.MemberSpec{spec(models.RoleAllow, "bob@example.com")}); models.ErrorCode(err) != models.CodeMemberDoesNotExist {
			t.Errorf("delete non-member: %v", err)
		}
		full, err := st.Memberships(ctx, alice.ID, 0)
		if err != nil || len(full.Members) != 2 {
			t.Fatalf("full: %+v %v", full, err)
		}
		delta, err := st.Memberships(ctx, alice.ID, start)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range delta.Members {
			s := m.Role + ":" + m.MemberName
			if m.Deleted {
				s += ":deleted"
			}
			got = append(got, s)
		}
		if len(got) != 3 || got[0] != "Allow:bob@example.com:deleted" || got[1] != "Block:x@example.org" || got[2] != "Block:bob@example.com" {
			t.Errorf("delta: %v", got)
		}
		// Another owner's MembershipId resolves to nothing.
		if _, err := st.DeleteMembers(ctx, bob.ID, []models.MemberSpec{{Role: models.RoleBlock, MembershipID: full.Members[0].ID}}); models.ErrorCode(err) != models.CodeMemberDoesNotExist {
			t.Errorf("foreign id: %v", err)
		}
		if _, err := st.Memberships(ctx, alice.ID, full.Revision+1); models.ErrorCode(err) != models.CodeFullSyncRequired {
			t.Errorf("future cursor: %v", err)
		}
	})
}
