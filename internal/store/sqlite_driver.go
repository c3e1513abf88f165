package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
	"sync"
	"unsafe"

	_ "github.com/glebarez/go-sqlite"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The embedded database's driver (glebarez/go-sqlite over the pure-Go
// SQLite) compiles every statement afresh on every call: it keeps no
// prepared statements. For the hot reads (rawRead: a stored answer, a
// book's rows, an account by id) compiling was the largest single cost
// after the data itself: 14 % of serving a stored answer (issue 19,
// BENCHMARKS.md). abch therefore opens the embedded database through a thin
// wrapper of that driver (sqliteDriverName): every database/sql call goes
// to the driver unchanged, and the connection adds one thing, cachedQuery,
// which runs a statement through SQLite's own API with the statement kept
// prepared on that connection (sqlite3_prepare_v3 with
// SQLITE_PREPARE_PERSISTENT, then step/reset per call). The prepared
// statements are finalized when database/sql closes the connection.
//
// cachedQuery reaches the driver connection's SQLite handle, which the
// driver does not export: it is read from the connection's first two fields
// (db, tls), whose names, types and offsets are checked once against this
// layout (sqliteLayoutOK); with any other layout (a driver upgrade that
// changed it) cachedQuery reports it cannot run and the callers use the
// driver's own path, as before. Values come back as SQLite stores them
// (INTEGER int64, REAL float64, TEXT string, BLOB []byte, NULL nil), which
// is what assignValue takes from the json_array path too.

// sqliteDriverName is the name the wrapper is registered under.
const sqliteDriverName = "abch-sqlite"

func init() {
	sql.Register(sqliteDriverName, &sqliteDriver{inner: gleDriver()})
}

// gleDriver is the driver glebarez/go-sqlite registers (its zero value is
// not the same: the registered one carries its user-defined functions).
func gleDriver() driver.Driver {
	db, err := sql.Open("sqlite", "") // the name glebarez/go-sqlite registers
	if err != nil {
		panic(err)
	}
	defer db.Close()
	return db.Driver()
}

type sqliteDriver struct{ inner driver.Driver }

func (d *sqliteDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &sqliteConn{inner: c}, nil
}

// gleConn mirrors the first two fields of the driver's connection.
type gleConn struct {
	db  uintptr
	tls *libc.TLS
}

// sqliteLayoutOK says whether the driver's connection starts with the
// fields gleConn mirrors.
var sqliteLayoutOK = sync.OnceValue(func() bool {
	c, err := gleDriver().Open(":memory:")
	if err != nil {
		return false
	}
	defer c.Close()
	t := reflect.TypeOf(c)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return false
	}
	s := t.Elem()
	if s.PkgPath() != "github.com/glebarez/go-sqlite" || s.Name() != "conn" || s.NumField() < 2 {
		return false
	}
	db, tls := s.Field(0), s.Field(1)
	return db.Name == "db" && db.Type.Kind() == reflect.Uintptr && db.Offset == unsafe.Offsetof(gleConn{}.db) &&
		tls.Name == "tls" && tls.Type == reflect.TypeOf((*libc.TLS)(nil)) && tls.Offset == unsafe.Offsetof(gleConn{}.tls)
})

// sqliteConn is a driver connection with prepared statements kept.
type sqliteConn struct {
	inner driver.Conn
	stmts map[string]uintptr // sqlite3_stmt* by statement text
}

// maxCachedStatements bounds a connection's prepared statements: the hot
// reads are a handful of fixed texts, so reaching it means texts that vary;
// the cache is emptied then.
const maxCachedStatements = 64

// handle is the driver connection's SQLite handle, or zero values when the
// layout is not the expected one or the connection is closed.
func (c *sqliteConn) handle() (uintptr, *libc.TLS) {
	if !sqliteLayoutOK() {
		return 0, nil
	}
	h := (*gleConn)(reflect.ValueOf(c.inner).UnsafePointer())
	return h.db, h.tls
}

// cachedQuery runs query (with ?n placeholders) on a statement prepared
// once per connection, calling row with each row's values (valid until
// row returns). ok is false, and nothing has run, when it cannot: the
// driver's layout is unknown, or an argument is of a type it does not
// bind; the caller then uses the driver's own path.
func (c *sqliteConn) cachedQuery(ctx context.Context, query string, args []any, row func(vals []driver.Value) error) (ok bool, err error) {
	db, tls := c.handle()
	if db == 0 || tls == nil {
		return false, nil
	}
	scratch := 0
	for _, a := range args {
		switch v := a.(type) {
		case int64, int, bool, float64, nil:
		case string:
			scratch += len(v) + 1
		case []byte:
			scratch += len(v) + 1
		default:
			return false, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	stmt, err := c.prepared(db, tls, query)
	if err != nil {
		return true, err
	}
	// Text and blob arguments are copied into the connection's C stack
	// and bound as SQLITE_STATIC: they stay put until the bindings are
	// cleared below.
	var buf uintptr
	if scratch > 0 {
		buf = tls.Alloc(scratch)
		defer tls.Free(scratch)
	}
	defer func() {
		sqlite3.Xsqlite3_reset(tls, stmt)
		sqlite3.Xsqlite3_clear_bindings(tls, stmt)
	}()
	for i, a := range args {
		n := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case int64:
			rc = sqlite3.Xsqlite3_bind_int64(tls, stmt, n, v)
		case int:
			rc = sqlite3.Xsqlite3_bind_int64(tls, stmt, n, int64(v))
		case bool:
			var b int64
			if v {
				b = 1
			}
			rc = sqlite3.Xsqlite3_bind_int64(tls, stmt, n, b)
		case float64:
			rc = sqlite3.Xsqlite3_bind_double(tls, stmt, n, v)
		case nil:
			rc = sqlite3.Xsqlite3_bind_null(tls, stmt, n)
		case string:
			copy(unsafe.Slice((*byte)(cptr(buf)), len(v)), v)
			rc = sqlite3.Xsqlite3_bind_text(tls, stmt, n, buf, int32(len(v)), 0)
			buf += uintptr(len(v) + 1)
		case []byte:
			copy(unsafe.Slice((*byte)(cptr(buf)), len(v)), v)
			rc = sqlite3.Xsqlite3_bind_blob(tls, stmt, n, buf, int32(len(v)), 0)
			buf += uintptr(len(v) + 1)
		}
		if rc != sqlite3.SQLITE_OK {
			return true, sqliteErr(tls, db, rc, "binding")
		}
	}
	cols := int(sqlite3.Xsqlite3_column_count(tls, stmt))
	vals := make([]driver.Value, cols)
	for {
		switch rc := sqlite3.Xsqlite3_step(tls, stmt); rc {
		case sqlite3.SQLITE_DONE:
			return true, nil
		case sqlite3.SQLITE_ROW:
		default:
			return true, sqliteErr(tls, db, rc, "running")
		}
		for i := range vals {
			n := int32(i)
			switch sqlite3.Xsqlite3_column_type(tls, stmt, n) {
			case sqlite3.SQLITE_INTEGER:
				vals[i] = sqlite3.Xsqlite3_column_int64(tls, stmt, n)
			case sqlite3.SQLITE_FLOAT:
				vals[i] = sqlite3.Xsqlite3_column_double(tls, stmt, n)
			case sqlite3.SQLITE_TEXT:
				p := sqlite3.Xsqlite3_column_text(tls, stmt, n)
				vals[i] = string(unsafe.Slice((*byte)(cptr(p)), sqlite3.Xsqlite3_column_bytes(tls, stmt, n)))
			case sqlite3.SQLITE_BLOB:
				p := sqlite3.Xsqlite3_column_blob(tls, stmt, n)
				vals[i] = append([]byte(nil), unsafe.Slice((*byte)(cptr(p)), sqlite3.Xsqlite3_column_bytes(tls, stmt, n))...)
			default:
				vals[i] = nil
			}
		}
		if err := row(vals); err != nil {
			return true, err
		}
		if err := ctx.Err(); err != nil {
			return true, err
		}
	}
}

// prepared returns the connection's prepared statement of query, preparing
// it on first use.
func (c *sqliteConn) prepared(db uintptr, tls *libc.TLS, query string) (uintptr, error) {
	if stmt, ok := c.stmts[query]; ok {
		return stmt, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		c.finalizeAll(tls)
	}
	z, err := libc.CString(query)
	if err != nil {
		return 0, err
	}
	defer libc.Xfree(tls, z)
	out := tls.Alloc(8)
	defer tls.Free(8)
	*(*uintptr)(cptr(out)) = 0
	if rc := sqlite3.Xsqlite3_prepare_v3(tls, db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, out, 0); rc != sqlite3.SQLITE_OK {
		return 0, sqliteErr(tls, db, rc, "preparing")
	}
	stmt := *(*uintptr)(cptr(out))
	if stmt == 0 {
		return 0, fmt.Errorf("store: sqlite: no statement in %.80q", query)
	}
	if c.stmts == nil {
		c.stmts = map[string]uintptr{}
	}
	c.stmts[query] = stmt
	return stmt, nil
}

func (c *sqliteConn) finalizeAll(tls *libc.TLS) {
	for q, stmt := range c.stmts {
		sqlite3.Xsqlite3_finalize(tls, stmt)
		delete(c.stmts, q)
	}
}

// cptr is the C memory at p: the SQLite allocator's or the connection's C
// stack, which Go's collector neither moves nor frees. (Read through a
// pointer so vet's uintptr check, meant for Go memory, is not misled.)
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

func sqliteErr(tls *libc.TLS, db uintptr, rc int32, doing string) error {
	return fmt.Errorf("store: sqlite %s: %s (%d)", doing, libc.GoString(sqlite3.Xsqlite3_errmsg(tls, db)), rc)
}

// Close finalizes the prepared statements, then closes the connection (a
// connection closed with statements alive would stay open until they are).
func (c *sqliteConn) Close() error {
	if db, tls := c.handle(); db != 0 && tls != nil {
		c.finalizeAll(tls)
	}
	return c.inner.Close()
}

// The rest is the driver's own.

func (c *sqliteConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

// Begin is part of driver.Conn; database/sql calls BeginTx.
//
//lint:ignore SA1019 driver.Conn requires it
func (c *sqliteConn) Begin() (driver.Tx, error) { return c.inner.Begin() }

func (c *sqliteConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.inner.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.inner.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *sqliteConn) Ping(ctx context.Context) error {
	return c.inner.(driver.Pinger).Ping(ctx)
}

var (
	_ driver.ConnPrepareContext = (*sqliteConn)(nil)
	_ driver.ConnBeginTx        = (*sqliteConn)(nil)
	_ driver.ExecerContext      = (*sqliteConn)(nil)
	_ driver.QueryerContext     = (*sqliteConn)(nil)
	_ driver.Pinger             = (*sqliteConn)(nil)
	_ io.Closer                 = (*sqliteConn)(nil)
)
