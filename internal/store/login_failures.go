package store

import (
	"context"
	"time"
)

func init() {
	register(sqlMigration{ID: "0002_login_failures", SQL: `
CREATE TABLE login_failures (
	throttle_key TEXT PRIMARY KEY,
	window_start BIGINT NOT NULL,
	fails        INTEGER NOT NULL
);
`})
}

// Failed sign-ins are counted in the database, per key (an account, a
// source address) in fixed windows, so every abch process sharing the
// database refuses the same guesser (auth.Throttle). Window starts are Unix
// nanoseconds of the Store's clock.

// LoginFailures returns the failures counted for keys in windows that
// started after cutoff (keys without such a window are absent).
func (s *Store) LoginFailures(ctx context.Context, cutoff time.Time, keys ...string) (map[string]int, error) {
	var rows []struct {
		ThrottleKey string
		Fails       int
	}
	err := s.DB.WithContext(ctx).Table("login_failures").Select("throttle_key, fails").
		Where("throttle_key IN ? AND window_start > ?", keys, cutoff.UnixNano()).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ThrottleKey] = r.Fails
	}
	return out, nil
}

// RecordLoginFailure counts one failure for each key at now: in the key's
// current window, or in a new one when its window started at or before
// cutoff. Each key is one atomic upsert of its own.
func (s *Store) RecordLoginFailure(ctx context.Context, now, cutoff time.Time, keys ...string) error {
	for _, k := range keys {
		err := s.DB.WithContext(ctx).Exec(`INSERT INTO login_failures (throttle_key, window_start, fails) VALUES (?, ?, 1)
			ON CONFLICT (throttle_key) DO UPDATE SET
				fails = CASE WHEN login_failures.window_start <= ? THEN 1 ELSE login_failures.fails + 1 END,
				window_start = CASE WHEN login_failures.window_start <= ? THEN excluded.window_start ELSE login_failures.window_start END`,
			k, now.UnixNano(), cutoff.UnixNano(), cutoff.UnixNano()).Error
		if err != nil {
			return translate(err)
		}
	}
	return nil
}

// ClearLoginFailures forgets key's failures (after a successful sign-in).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return translate(s.DB.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE throttle_key = ?`, key).Error)
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
