package store

// WatchersQuery is the SQL of Watchers, for the tests that EXPLAIN it.
const WatchersQuery = watchersQuery
