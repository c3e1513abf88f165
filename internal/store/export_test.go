package store

// WatchersQuery is the SQL of Watchers, for the tests that EXPLAIN it.
const WatchersQuery = watchersQuery

// PGScanFallbacks is the number of raw-read queries that fell back to
// pgx's Scan (rawread.go).
func PGScanFallbacks() int64 { return pgScanFallbacks.Load() }

// RegisterMigrationForTest adds a migration until the returned undo runs
// (a test of what applying a migration does).
func RegisterMigrationForTest(id, sql string) (undo func()) {
	saved := migrations
	migrations = append(append([]sqlMigration(nil), migrations...), sqlMigration{ID: id, SQL: sql})
	return func() { migrations = saved }
}
