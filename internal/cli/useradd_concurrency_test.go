package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

// TestUserAddConcurrentSameAddress runs 50 `abch user add` of one address
// in mixed letter case at once: exactly one succeeds, the others fail with
// a non-zero exit and a clear message, and one account exists.
func TestUserAddConcurrentSameAddress(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		t.Setenv("ABCH_DATA_DIR", cfg.DataDir)
		t.Setenv("ABCH_DATABASE_URL", cfg.DatabaseURL)
		t.Setenv("ABCH_ARGON2_MEMORY_KIB", "1024")
		t.Setenv("ABCH_ARGON2_TIME", "1")
		t.Setenv("ABCH_LOG_LEVEL", "error")
		// Migrate once first, as an operator's `abch migrate` would.
		if code := cli.Run([]string{"migrate"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
			t.Fatalf("migrate: exit %d", code)
		}
		const n = 50
		codes := make([]int, n)
		errs := make([]string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				email := "Same.Person@Example.com"
				if i%2 == 1 {
					email = strings.ToLower(email)
				}
				var out, errOut bytes.Buffer
				codes[i] = cli.Run([]string{"user", "add", email, "--password", fmt.Sprint("pw", i)}, &out, &errOut)
				errs[i] = errOut.String()
			}(i)
		}
		wg.Wait()
		ok := 0
		for i, c := range codes {
			if c == 0 {
				ok++
			} else if !strings.Contains(errs[i], "already exists") {
				t.Errorf("run %d: exit %d: %s", i, c, errs[i])
			}
		}
		if ok != 1 {
			t.Fatalf("%d runs created the account, want 1", ok)
		}
		st, err := store.Open(context.Background(), cfg, testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		list, err := st.ListAccounts(context.Background())
		if err != nil || len(list) != 1 {
			t.Fatalf("%d accounts, %v", len(list), err)
		}
	})
}
