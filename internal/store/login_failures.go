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
	hits         INTEGER NOT NULL
);
`})
}

// Failed sign-ins are counted in the database, per key (an account, a
// source address) in fixed windows, so every abch process sharing the
// database refuses the same guesser (auth.Throttle); the window shape is
// ratelimit.go's.

// LoginFailures returns the failures counted for keys in windows that
// started after cutoff (keys without such a window are absent).
func (s *Store) LoginFailures(ctx context.Context, cutoff time.Time, keys ...string) (map[string]int, error) {
	var rows []struct {
		ThrottleKey string
		Hits        int
	}
	err := s.DB.WithContext(ctx).Table("login_failures").Select("throttle_key, hits").
		Where("throttle_key IN ? AND window_start > ?", keys, cutoff.UnixNano()).Scan(&rows).Error
	if err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.ThrottleKey] = r.Hits
	}
	return out, nil
}

// RecordLoginFailure counts one failure for each key at now: in the key's
// current window, or in a new one when its window started at or before
// cutoff (hitWindow, one atomic upsert per key).
func (s *Store) RecordLoginFailure(ctx context.Context, now, cutoff time.Time, keys ...string) error {
	for _, k := range keys {
		if _, err := s.hitWindow(ctx, "login_failures", "throttle_key", k, now, cutoff); err != nil {
			return err
		}
	}
	return nil
}

// ClearLoginFailures forgets key's failures (after a successful sign-in).
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	return translate(s.DB.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE throttle_key = ?`, key).Error)
}
