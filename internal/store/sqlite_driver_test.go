package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
)

// sqliteTestStore opens the embedded database in a temporary directory.
func sqliteTestStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, config.Config{DataDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// onConn runs f on one driver connection of st's pool.
func onConn(t *testing.T, st *Store, f func(c *sqliteConn)) {
	t.Helper()
	sqlDB, err := st.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*sqliteConn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not abch's", dc)
		}
		f(c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteCachedStatements: the embedded database is opened through
// abch's wrapper of the driver, the driver's connection has the layout the
// wrapper reads (a driver upgrade that changes it fails here instead of
// silently losing the prepared statements), the hot reads keep their
// statements prepared, and values and arguments of every type come back
// as the driver returns them.
func TestSQLiteCachedStatements(t *testing.T) {
	st := sqliteTestStore(t)
	ctx := context.Background()
	if !sqliteLayoutOK() {
		t.Fatal("the driver's connection does not start with (db uintptr, tls *libc.TLS): cachedQuery cannot run")
	}
	// One connection, so the reads below are sure to share it.
	sqlDB, _ := st.DB.DB()
	sqlDB.SetMaxOpenConns(1)
	acc, err := st.CreateAccount(ctx, NewAccount{Email: "cached@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		got, err := st.accountByID(ctx, acc.ID)
		if err != nil || got.Email != "cached@example.com" || got.ID != acc.ID {
			t.Fatalf("accountByID: %+v, %v", got, err)
		}
		if _, err := st.LoadFull(ctx, acc.ID, nil); err != nil {
			t.Fatalf("LoadFull: %v", err)
		}
	}
	onConn(t, st, func(c *sqliteConn) {
		if len(c.stmts) == 0 {
			t.Fatal("no statement kept prepared after the hot reads")
		}
		n := len(c.stmts)
		var vals [][]driver.Value
		collect := func(row []driver.Value) error {
			vals = append(vals, append([]driver.Value(nil), row...))
			return nil
		}
		// Column values of every storage class.
		ran, err := c.cachedQuery(ctx, `SELECT 7, 1.5, 'ünï<&>', x'00ff', NULL, '', x''`, nil, collect)
		want := []driver.Value{int64(7), 1.5, "ünï<&>", []byte{0, 0xff}, nil, "", []byte(nil)} // an empty blob: nil bytes, as the driver gives it
		if !ran || err != nil || len(vals) != 1 || !reflect.DeepEqual(vals[0], want) {
			t.Fatalf("values: ran %v, %v, %#v; want %#v", ran, err, vals, want)
		}
		// Arguments of every type the hot reads bind, twice on the same
		// prepared statement (the second binding replaces the first).
		q := `SELECT ?1, ?2, ?3, ?4, ?5, ?6, typeof(?4)`
		for _, args := range [][]any{
			{int64(-3), "a\x00b", []byte("blob"), nil, true, 2.25},
			{int(9), "", []byte{}, int64(1), false, 0.0},
		} {
			vals = nil
			ran, err := c.cachedQuery(ctx, q, args, collect)
			if !ran || err != nil || len(vals) != 1 {
				t.Fatalf("args %v: ran %v, %v, %v", args, ran, err, vals)
			}
			got := vals[0]
			if got[0] != toInt(args[0]) || got[1] != args[1].(string) {
				t.Errorf("args %v: got %#v", args, got)
			}
			if b := args[2].([]byte); len(b) > 0 && !reflect.DeepEqual(got[2], b) || len(b) == 0 && !reflect.DeepEqual(got[2], []byte(nil)) {
				t.Errorf("blob %q: got %#v", b, got[2])
			}
			if args[3] == nil && (got[3] != nil || got[6] != "null") || args[3] != nil && got[3] != int64(1) {
				t.Errorf("null/int %v: got %#v, %#v", args[3], got[3], got[6])
			}
			if wantB := map[bool]int64{true: 1, false: 0}[args[4].(bool)]; got[4] != wantB || got[5] != args[5] {
				t.Errorf("bool/float: got %#v %#v", got[4], got[5])
			}
		}
		// An argument it does not bind: not run, the caller uses the driver.
		if ran, err := c.cachedQuery(ctx, q, []any{struct{}{}}, collect); ran || err != nil {
			t.Errorf("unsupported argument: ran %v, %v", ran, err)
		}
		// A bad statement is an error, a failing one too, and the
		// connection goes on.
		if _, err := c.cachedQuery(ctx, `SELEC 1`, nil, collect); err == nil || !strings.Contains(err.Error(), "syntax") {
			t.Errorf("bad statement: %v", err)
		}
		if _, err := c.cachedQuery(ctx, `SELECT nosuch FROM accounts`, nil, collect); err == nil {
			t.Error("unknown column: no error")
		}
		if _, err := c.cachedQuery(ctx, `SELECT abs(-9223372036854775807 - 1)`, nil, collect); err == nil || !strings.Contains(err.Error(), "overflow") {
			t.Errorf("failing step: %v", err)
		}
		rowErr := fmt.Errorf("stop")
		if _, err := c.cachedQuery(ctx, `SELECT 1 UNION ALL SELECT 2`, nil, func([]driver.Value) error { return rowErr }); err != rowErr {
			t.Errorf("row error: %v", err)
		}
		vals = nil
		if ran, err := c.cachedQuery(ctx, `SELECT 1 UNION ALL SELECT 2`, nil, collect); !ran || err != nil || len(vals) != 2 {
			t.Errorf("after errors: %v %v %v", ran, err, vals)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.cachedQuery(cctx, `SELECT 1`, nil, collect); err != context.Canceled {
			t.Errorf("cancelled: %v", err)
		}
		// Texts that vary never hold more than the bound.
		for i := 0; i < 3*maxCachedStatements; i++ {
			if _, err := c.cachedQuery(ctx, fmt.Sprintf("SELECT %d", i), nil, func([]driver.Value) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if len(c.stmts) > maxCachedStatements || n == 0 {
			t.Errorf("%d statements kept, bound %d", len(c.stmts), maxCachedStatements)
		}
	})
	// The reads still answer after the cache was emptied by the bound.
	if got, err := st.accountByID(ctx, acc.ID); err != nil || got.ID != acc.ID {
		t.Fatalf("accountByID after: %+v, %v", got, err)
	}
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	return -1
}

// TestSQLiteCachedStatementsConcurrent: readers on every connection of the
// pool at once, each statement prepared per connection, get each their own
// account's rows (a statement shared between connections, or bindings left
// from another read, would show here; run with -race too).
func TestSQLiteCachedStatementsConcurrent(t *testing.T) {
	st := sqliteTestStore(t)
	ctx := context.Background()
	const accounts = 12
	ids := make([]int64, accounts)
	for i := range ids {
		a, err := st.CreateAccount(ctx, NewAccount{Email: fmt.Sprintf("reader%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = a.ID
	}
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func() {
			for i := 0; i < 60; i++ {
				k := (g + i) % accounts
				a, err := st.accountByID(ctx, ids[k])
				if err == nil && (a.ID != ids[k] || a.Email != fmt.Sprintf("reader%d@example.com", k)) {
					err = fmt.Errorf("asked for %d, got %d %s", ids[k], a.ID, a.Email)
				}
				if err == nil {
					var b *Book
					if b, err = st.LoadFull(ctx, ids[k], nil); err == nil && (b.Owner.ID != ids[k] || len(b.Contacts) != 1) {
						err = fmt.Errorf("book of %d: owner %d, %d contacts", ids[k], b.Owner.ID, len(b.Contacts))
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 16; g++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
