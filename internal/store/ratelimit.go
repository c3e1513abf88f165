package store

import (
	"context"
	"time"
)

// The database-counted rate limits (failed sign-ins, login_failures; OIM
// sends, oim_send_windows) share one shape: a row per key holding the start
// of its fixed window (Unix nanoseconds of the Store's clock) and the hits
// counted in it.

// hitWindow counts one hit for key in table (keyed by keyCol) at now: in the
// key's current window, or in a new one when that window started at or
// before cutoff. It returns the hits of the window counted in. It is one
// atomic upsert, whose row lock serialises concurrent hits of one key.
func (s *Store) hitWindow(ctx context.Context, table, keyCol string, key any, now, cutoff time.Time) (int64, error) {
	var hits int64
	err := s.DB.WithContext(ctx).Raw(`INSERT INTO `+table+` (`+keyCol+`, window_start, hits) VALUES (?, ?, 1)
		ON CONFLICT (`+keyCol+`) DO UPDATE SET
			hits = CASE WHEN `+table+`.window_start <= ? THEN 1 ELSE `+table+`.hits + 1 END,
			window_start = CASE WHEN `+table+`.window_start <= ? THEN excluded.window_start ELSE `+table+`.window_start END
		RETURNING hits`, key, now.UnixNano(), cutoff.UnixNano(), cutoff.UnixNano()).Scan(&hits).Error
	if err != nil {
		return 0, translate(err)
	}
	return hits, nil
}

// PruneRateWindows deletes login-failure and OIM send-rate windows that
// ended (started more than their window ago): they can no longer refuse
// anything. Several processes may run it at once.
func (s *Store) PruneRateWindows(ctx context.Context, loginWindow, oimWindow time.Duration) (int64, error) {
	now := s.Now()
	var n int64
	for _, q := range []struct {
		sql    string
		window time.Duration
	}{
		{`DELETE FROM login_failures WHERE window_start <= ?`, loginWindow},
		{`DELETE FROM oim_send_windows WHERE window_start <= ?`, oimWindow},
	} {
		res := s.DB.WithContext(ctx).Exec(q.sql, now.Add(-q.window).UnixNano())
		if res.Error != nil {
			return n, translate(res.Error)
		}
		n += res.RowsAffected
	}
	return n, nil
}
