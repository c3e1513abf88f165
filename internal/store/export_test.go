package store

// WatchersQuery is the SQL of Watchers, for the tests that EXPLAIN it.
const WatchersQuery = watchersQuery

// PGScanFallbacks is the number of raw-read queries that fell back to
// pgx's Scan (rawread.go).
func PGScanFallbacks() int64 { return pgScanFallbacks.Load() }
