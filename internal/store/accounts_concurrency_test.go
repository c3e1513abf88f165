package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestCreateAccountConcurrentSameAddress: 50 concurrent creations of one
// address, in mixed letter case, make exactly one account; every other
// caller gets AccountExists, nothing else.
func TestCreateAccountConcurrentSameAddress(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st, err := store.Open(ctx, cfg, testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 50
		var wg sync.WaitGroup
		errs := make([]error, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				email := "Race.Case@Example.com"
				switch i % 3 {
				case 1:
					email = strings.ToLower(email)
				case 2:
					email = strings.ToUpper(email)
				}
				<-start
				_, errs[i] = st.CreateAccount(ctx, store.NewAccount{Email: email, PasswordHash: "h"})
			}(i)
		}
		close(start)
		wg.Wait()
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case models.ErrorCode(err) != models.CodeAccountExists:
				t.Errorf("caller %d: %v", i, err)
			}
		}
		if created != 1 {
			t.Fatalf("%d callers created the account, want 1", created)
		}
		list, err := st.ListAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].EmailLower != "race.case@example.com" {
			t.Fatalf("accounts: %v", fmt.Sprint(len(list)))
		}
		var contacts int64
		if err := st.DB.Model(&models.Contact{}).Where("owner_id = ?", list[0].ID).Count(&contacts).Error; err != nil {
			t.Fatal(err)
		}
		if contacts != 1 {
			t.Errorf("%d contacts for the one account, want its Me contact only", contacts)
		}
	})
}
