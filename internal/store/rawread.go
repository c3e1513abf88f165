package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The hot reads (the full book, the memberships) skip GORM: its reflection
// per row and database/sql's conversions per column cost more than the
// database itself (issue 19; the profiles are in BENCHMARKS.md). They use
// GORM's column names (columnsOf) and scan into the same model structs, on
// pgx directly (Postgres: one pipelined batch) or on the embedded
// database's own driver connection (SQLite). rawread_test.go checks that
// both readers return what GORM returns.

// rawQuery is one statement of a raw read: its SQL with $n placeholders,
// its arguments, and the function that takes its rows. scan is called once
// per row with the row's values already stored in targets.
type rawQuery struct {
	sql     string
	args    []any
	targets []any
	row     func() error
}

// rawRead runs queries in order in one read-only snapshot (REPEATABLE READ
// on Postgres, a read transaction on SQLite) and hands every row to its
// query's row function.
func (s *Store) rawRead(ctx context.Context, queries ...rawQuery) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		if s.Dialect == DialectPostgres {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("store: connection is %T, not pgx", dc)
			}
			return pgRead(ctx, c.Conn(), queries)
		}
		return sqliteRead(ctx, dc, queries)
	})
}

// pgRead sends BEGIN, the queries and COMMIT as one pipelined batch: one
// round trip for the whole snapshot.
func pgRead(ctx context.Context, c *pgx.Conn, queries []rawQuery) (err error) {
	batch := &pgx.Batch{}
	batch.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
	for _, q := range queries {
		batch.Queue(q.sql, q.args...)
	}
	batch.Queue("COMMIT")
	br := c.SendBatch(ctx, batch)
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil && c.PgConn().TxStatus() != 'I' && !c.IsClosed() {
			// A failed statement skips the rest of the pipeline, COMMIT
			// included: end the transaction before the connection goes
			// back to the pool (which would otherwise drop it).
			_, _ = c.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := br.Exec(); err != nil {
		return err
	}
	for _, q := range queries {
		rows, _ := br.Query()
		if _, err := pgx.ForEachRow(rows, q.targets, q.row); err != nil {
			return err
		}
	}
	_, err = br.Exec()
	return err
}

// sqliteRead runs the queries one after another in a read transaction on
// the driver connection (a deferred BEGIN: readers never take the write
// lock), converting the driver's values without database/sql.
func sqliteRead(ctx context.Context, dc any, queries []rawQuery) (err error) {
	bt, ok1 := dc.(driver.ConnBeginTx)
	qc, ok2 := dc.(driver.QueryerContext)
	if !ok1 || !ok2 {
		return fmt.Errorf("store: connection %T cannot run a raw read", dc)
	}
	tx, err := bt.BeginTx(ctx, driver.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, q := range queries {
		if err := sqliteQuery(ctx, qc, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func sqliteQuery(ctx context.Context, qc driver.QueryerContext, q rawQuery) error {
	args := make([]driver.NamedValue, len(q.args))
	for i, a := range q.args {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := qc.QueryContext(ctx, sqlitePlaceholders(q.sql), args)
	if err != nil {
		return err
	}
	defer rows.Close()
	if n := len(rows.Columns()); n != len(q.targets) {
		return fmt.Errorf("store: %d columns for %d targets", n, len(q.targets))
	}
	vals := make([]driver.Value, len(q.targets))
	for {
		if err := rows.Next(vals); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		for i, v := range vals {
			if err := assignValue(q.targets[i], v); err != nil {
				return fmt.Errorf("store: column %s: %w", rows.Columns()[i], err)
			}
		}
		if err := q.row(); err != nil {
			return err
		}
	}
}

// sqlitePlaceholders turns $1, $2 … into ? (the queries number their
// arguments in order of appearance).
func sqlitePlaceholders(q string) string {
	if !strings.Contains(q, "$") {
		return q
	}
	var sb strings.Builder
	sb.Grow(len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			sb.WriteByte('?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++
			}
			continue
		}
		sb.WriteByte(q[i])
	}
	return sb.String()
}

// assignValue stores a value of the embedded database's driver (int64,
// float64, string, []byte, time.Time or nil) in one of the field types the
// models use.
func assignValue(dst any, v driver.Value) error {
	switch d := dst.(type) {
	case *string:
		switch x := v.(type) {
		case string:
			*d = x
		case []byte:
			*d = string(x)
		case nil:
			*d = ""
		default:
			return fmt.Errorf("%T into string", v)
		}
	case **string:
		switch x := v.(type) {
		case nil:
			*d = nil
		case string:
			*d = &x
		case []byte:
			s := string(x)
			*d = &s
		default:
			return fmt.Errorf("%T into *string", v)
		}
	case *int64:
		n, err := intValue(v)
		*d = n
		return err
	case *int:
		n, err := intValue(v)
		*d = int(n)
		return err
	case **int64:
		if v == nil {
			*d = nil
			return nil
		}
		n, err := intValue(v)
		*d = &n
		return err
	case *bool:
		n, err := intValue(v)
		*d = n != 0
		return err
	case *time.Time:
		switch x := v.(type) {
		case time.Time:
			*d = x
		case nil:
			*d = time.Time{}
		default:
			return fmt.Errorf("%T into time", v)
		}
	default:
		return fmt.Errorf("no conversion into %T", dst)
	}
	return nil
}

func intValue(v driver.Value) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case nil:
		return 0, nil
	}
	return 0, fmt.Errorf("%T into an integer", v)
}
