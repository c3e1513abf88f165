package store

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/abch-im/abch/models"
)

// The hot reads (the full book, the memberships, AccountByID) skip GORM:
// its reflection per row and database/sql's conversions per column cost
// more than the database itself (issue 19; the profiles are in
// BENCHMARKS.md). They use GORM's column names (columnsOf) and scan into
// the same model structs, on pgx directly (Postgres: one pipelined batch)
// or on the embedded database's own driver connection (SQLite).
// rawread_test.go checks that both readers return what GORM returns.

// rawQuery is one statement of a raw read, SELECT cols rest: the column
// list, the rest of the statement with $n placeholders, its arguments, and
// the function that takes its rows, called once per row with the row's
// values already stored in targets (one per column).
type rawQuery struct {
	cols    string
	rest    string
	args    []any
	targets []any
	row     func() error
	// direct reads the columns one by one on the embedded database
	// instead of packing them into json_array (which cannot hold a blob):
	// for a query of one row, where the per-column locking costs little.
	direct bool
}

// rawRead runs queries in order in one read-only snapshot (REPEATABLE READ
// on Postgres, a read transaction on SQLite; a single statement is its own
// snapshot and runs alone) and hands every row to its query's row function.
// A query without columns (countFirst on SQLite) is left out.
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
	live := queries[:0:0]
	for _, q := range queries {
		if q.cols != "" {
			live = append(live, q)
		}
	}
	queries = live
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

// pgRead sends BEGIN, the queries and COMMIT (a single query alone) as one
// pipelined batch: one round trip for the whole snapshot.
func pgRead(ctx context.Context, c *pgx.Conn, queries []rawQuery) (err error) {
	tx := len(queries) > 1
	batch := &pgx.Batch{}
	if tx {
		batch.Queue("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
	}
	for _, q := range queries {
		batch.Queue("SELECT "+q.cols+" "+q.rest, q.args...)
	}
	if tx {
		batch.Queue("COMMIT")
	}
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
	if tx {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	var text arena
	for _, q := range queries {
		rows, _ := br.Query()
		if err := pgRows(rows, q, &text); err != nil {
			return err
		}
	}
	if tx {
		_, err = br.Exec()
	}
	return err
}

// pgRows hands every row of rows to q. Values in the binary forms of the
// column types the models use are decoded here, text into one arena per
// read (a string per column per row was most of the read's allocations);
// anything else takes pgx's own Scan.
func pgRows(rows pgx.Rows, q rawQuery, text *arena) error {
	defer rows.Close()
	var fast bool
	for rows.Next() {
		if fds := rows.FieldDescriptions(); !fast {
			if len(fds) != len(q.targets) {
				return fmt.Errorf("store: %d columns for %d targets", len(fds), len(q.targets))
			}
			fast = true
			for i := range fds {
				fast = fast && canDecode(&fds[i], q.targets[i])
			}
			if !fast {
				pgScanFallbacks.Add(1)
				// Decide once per query, not per row.
				for {
					if err := rows.Scan(q.targets...); err != nil {
						return err
					}
					if err := q.row(); err != nil {
						return err
					}
					if !rows.Next() {
						return rows.Err()
					}
				}
			}
		}
		for i, v := range rows.RawValues() {
			if err := decodePG(v, q.targets[i], text); err != nil {
				return fmt.Errorf("store: column %s: %w", rows.FieldDescriptions()[i].Name, err)
			}
		}
		if err := q.row(); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pgScanFallbacks counts queries whose rows took pgx's Scan (tests check
// that the hot reads never do).
var pgScanFallbacks atomic.Int64

// Postgres type OIDs decodePG reads.
const (
	oidBool        = 16
	oidBytea       = 17
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidVarchar     = 1043
	oidTimestamp   = 1114
	oidTimestamptz = 1184
)

// canDecode reports whether decodePG reads column fd into target.
func canDecode(fd *pgconn.FieldDescription, target any) bool {
	binary := fd.Format == pgx.BinaryFormatCode
	switch target.(type) {
	case *string:
		return fd.DataTypeOID == oidText || fd.DataTypeOID == oidVarchar
	case *int64, *int, **int64:
		return binary && (fd.DataTypeOID == oidInt8 || fd.DataTypeOID == oidInt4 || fd.DataTypeOID == oidInt2)
	case *bool:
		return binary && fd.DataTypeOID == oidBool
	case *time.Time:
		return binary && (fd.DataTypeOID == oidTimestamptz || fd.DataTypeOID == oidTimestamp)
	case *[]byte:
		return binary && fd.DataTypeOID == oidBytea
	}
	return false
}

// pgEpoch is where Postgres timestamps count from, in Unix microseconds.
const pgEpoch = 946_684_800_000_000

// decodePG stores v, a value of a column canDecode accepted (nil for
// NULL), in target.
func decodePG(v []byte, target any, text *arena) error {
	if v == nil {
		switch d := target.(type) {
		case *string:
			*d = ""
		case **int64:
			*d = nil
		case *[]byte:
			*d = nil
		default:
			return fmt.Errorf("NULL into %T", target)
		}
		return nil
	}
	switch d := target.(type) {
	case *string:
		*d = text.str(v)
	case *[]byte:
		*d = append(make([]byte, 0, len(v)), v...) // v is pgx's read buffer
	case *int64:
		n, err := pgInt(v)
		*d = n
		return err
	case *int:
		n, err := pgInt(v)
		*d = int(n)
		return err
	case **int64:
		n, err := pgInt(v)
		*d = &n
		return err
	case *bool:
		if len(v) != 1 {
			return fmt.Errorf("bool of %d bytes", len(v))
		}
		*d = v[0] != 0
	case *time.Time:
		if len(v) != 8 {
			return fmt.Errorf("timestamp of %d bytes", len(v))
		}
		us := int64(binary.BigEndian.Uint64(v))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return errors.New("infinite timestamp")
		}
		*d = time.UnixMicro(us + pgEpoch)
	}
	return nil
}

func pgInt(v []byte) (int64, error) {
	switch len(v) {
	case 8:
		return int64(binary.BigEndian.Uint64(v)), nil
	case 4:
		return int64(int32(binary.BigEndian.Uint32(v))), nil
	case 2:
		return int64(int16(binary.BigEndian.Uint16(v))), nil
	}
	return 0, fmt.Errorf("integer of %d bytes", len(v))
}

// arena hands out strings carved from large blocks: the text of a read
// costs a few allocations instead of one per value. A block is never
// written again once a string points into it.
type arena struct{ block []byte }

func (a *arena) str(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	if len(v) > 1024 {
		return string(v)
	}
	if cap(a.block)-len(a.block) < len(v) {
		a.block = make([]byte, 0, 32<<10)
	}
	start := len(a.block)
	a.block = append(a.block, v...)
	return unsafe.String(&a.block[start], len(v))
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
	if len(queries) == 1 {
		return sqliteQuery(ctx, qc, queries[0])
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

// sqliteQuery runs q with its columns packed into one JSON array per row
// (json_array): the embedded database takes the connection's mutex for
// every column of every row read (two locks of a process-wide mutex table
// in the pure-Go SQLite), which cost more than the query itself; one value
// per row is a few calls, and the array is split here (splitJSONRow) into
// the values the driver would have returned. A direct query (one row)
// reads its columns one by one. On abch's own connections
// (sqlite_driver.go) the statement stays prepared between calls.
func sqliteQuery(ctx context.Context, qc driver.QueryerContext, q rawQuery) error {
	var text string
	var take func(vals []driver.Value) error
	if q.direct {
		text = sqlitePlaceholders("SELECT " + q.cols + " " + q.rest)
		take = func(vals []driver.Value) error { return assignRow(q, vals) }
	} else {
		text = sqlitePlaceholders("SELECT json_array(" + q.cols + ") " + q.rest)
		vals := make([]driver.Value, 0, len(q.targets))
		take = func(row []driver.Value) error {
			s, ok := row[0].(string)
			if !ok {
				return fmt.Errorf("store: json_array gave %T", row[0])
			}
			var err error
			if vals, err = splitJSONRow(vals[:0], s); err != nil {
				return err
			}
			return assignRow(q, vals)
		}
	}
	if sc, ok := qc.(*sqliteConn); ok {
		if ran, err := sc.cachedQuery(ctx, text, q.args, take); ran {
			return err
		}
	}
	args := make([]driver.NamedValue, len(q.args))
	for i, a := range q.args {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	rows, err := qc.QueryContext(ctx, text, args)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]driver.Value, len(rows.Columns()))
	for {
		if err := rows.Next(vals); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := take(vals); err != nil {
			return err
		}
	}
}

// assignRow stores a row's values, one per target, in q's targets and
// hands the row to q.
func assignRow(q rawQuery, vals []driver.Value) error {
	if len(vals) != len(q.targets) {
		return fmt.Errorf("store: %d values for %d targets", len(vals), len(q.targets))
	}
	for i, v := range vals {
		if err := assignValue(q.targets[i], v); err != nil {
			return fmt.Errorf("store: value %d of %s: %w", i, q.cols, err)
		}
	}
	return q.row()
}

// splitJSONRow appends the values of SQLite's json_array text s: integers
// as int64, other numbers as float64, strings as string (a substring of s
// when nothing in it is escaped), null as nil.
func splitJSONRow(out []driver.Value, s string) ([]driver.Value, error) {
	bad := func() ([]driver.Value, error) { return out, fmt.Errorf("store: bad json_array row %.80q", s) }
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return bad()
	}
	i := 1
	if s[i] == ']' {
		return out, nil
	}
	for {
		switch c := s[i]; {
		case c == '"':
			str, n, ok := jsonString(s[i:])
			if !ok {
				return bad()
			}
			out = append(out, str)
			i += n
		case c == 'n':
			if !strings.HasPrefix(s[i:], "null") {
				return bad()
			}
			out = append(out, nil)
			i += 4
		default:
			j := i
			for j < len(s) && s[j] != ',' && s[j] != ']' {
				j++
			}
			num := s[i:j]
			if n, err := strconv.ParseInt(num, 10, 64); err == nil {
				out = append(out, n)
			} else if f, err := strconv.ParseFloat(num, 64); err == nil {
				out = append(out, f)
			} else {
				return bad()
			}
			i = j
		}
		if i >= len(s) {
			return bad()
		}
		switch s[i] {
		case ',':
			i++
		case ']':
			if i != len(s)-1 {
				return bad()
			}
			return out, nil
		default:
			return bad()
		}
	}
}

// jsonString decodes the JSON string at the start of s and returns it and
// the bytes it took. Bytes that are not valid UTF-8 pass through as
// SQLite wrote them, as the driver would have returned the column.
func jsonString(s string) (string, int, bool) {
	i := 1
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i >= len(s) {
		return "", 0, false
	}
	if s[i] == '"' {
		return s[1:i], i + 1, true
	}
	b := []byte(s[1:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return string(b), i + 1, true
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", 0, false
		}
		i++
		switch s[i] {
		case '"', '\\', '/':
			b = append(b, s[i])
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n, ok := jsonRune(s[i-1:])
			if !ok {
				return "", 0, false
			}
			b = utf8.AppendRune(b, r)
			i += n - 2
		default:
			return "", 0, false
		}
		i++
	}
	return "", 0, false
}

// jsonRune decodes \uXXXX (with its low surrogate when it is a high one)
// at the start of s: the rune and the bytes it took.
func jsonRune(s string) (rune, int, bool) {
	hex := func(s string) (rune, bool) {
		if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:6], 16, 16)
		return rune(n), err == nil
	}
	r, ok := hex(s)
	if !ok {
		return 0, 0, false
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := hex(s[6:]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, 12, true
			}
		}
		return utf8.RuneError, 6, true
	}
	return r, 6, true
}

// countFirst is a query counting the rows rest selects, so alloc can size
// the slice they go into once (growing a slice of wide rows cost a tenth of
// a Postgres read). On the embedded database, which prepares every
// statement afresh, a statement costs more than the growth: there it is
// the empty query, which rawRead leaves out.
func (s *Store) countFirst(rest string, args []any, count *int64, alloc func()) rawQuery {
	if s.Dialect != DialectPostgres {
		return rawQuery{}
	}
	return rawQuery{cols: "count(*)", rest: rest, args: args, targets: []any{count}, row: func() error { alloc(); return nil }}
}

// accountByID reads one account row (AccountByID) with the raw reader:
// every authenticated request reads its account first.
func (s *Store) accountByID(ctx context.Context, id int64) (*models.Account, error) {
	acc, err := s.columnsOf(&models.Account{})
	if err != nil {
		return nil, err
	}
	var a models.Account
	found := false
	err = s.rawRead(ctx, rawQuery{
		cols: acc.list(""), rest: `FROM accounts WHERE id = $1`, args: []any{id},
		targets: acc.targets(&a), row: func() error { found = true; return nil },
	})
	if err != nil {
		return nil, translate(err)
	}
	if !found {
		return nil, models.Errorf(models.CodeNotFound, "no account %d", id)
	}
	return &a, nil
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
	case *[]byte:
		switch x := v.(type) {
		case []byte:
			*d = x // the driver's own copy
		case string:
			*d = []byte(x)
		case nil:
			*d = nil
		default:
			return fmt.Errorf("%T into []byte", v)
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
		case string:
			t, err := parseSQLiteTime(x)
			*d = t
			return err
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

// sqliteTimeFormats are the forms the embedded database's driver reads a
// DATETIME column in (it writes the first); json_array hands the column's
// text over as is.
var sqliteTimeFormats = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

func parseSQLiteTime(s string) (time.Time, error) {
	if t, ok := parseWrittenTime(s); ok {
		return t, nil
	}
	ts := strings.TrimSuffix(s, "Z")
	for _, f := range sqliteTimeFormats {
		if t, err := time.ParseInLocation(f, ts, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q", s)
}

// parseWrittenTime reads the form the driver writes,
// 2006-01-02 15:04:05.999999999-07:00, without time.Parse (a third of
// reading a membership row went there); the instant is returned in UTC.
func parseWrittenTime(s string) (time.Time, bool) {
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, len(s) > 0
	}
	if len(s) < 25 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest, nsec := s[19:], 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		frac := rest[1:i]
		if len(frac) == 0 || len(frac) > 9 {
			return time.Time{}, false
		}
		n, _ := num(frac)
		for k := len(frac); k < 9; k++ {
			n *= 10
		}
		rest, nsec = rest[i:], n
	}
	if len(rest) != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':' {
		return time.Time{}, false
	}
	oh, ok1 := num(rest[1:3])
	om, ok2 := num(rest[4:6])
	if !ok1 || !ok2 {
		return time.Time{}, false
	}
	offset := time.Duration(oh)*time.Hour + time.Duration(om)*time.Minute
	if rest[0] == '-' {
		offset = -offset
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, false // 31 February: leave it to time.Parse
	}
	return t.Add(-offset), true
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
