package store

import (
	"context"
	"time"

	"github.com/abch-im/abch/models"
)

func init() {
	register(sqlMigration{ID: "0401_oim_send_windows", SQL: `
CREATE TABLE oim_send_windows (
	sender_id    BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	window_start BIGINT NOT NULL,
	hits         INTEGER NOT NULL
);
`})
}

// CountOIMSend counts one offline-message send by senderID against a fixed
// window: at most limit sends per window, counted in the database so every
// abch process sharing it enforces one limit. Past the limit it fails with
// CodeSenderThrottleLimitExceeded (q0:SenderThrottleLimitExceeded; MSNPSharp waits 11 s and
// retries, the others show the failure). Every attempt that reaches it
// counts, refused ones included, so a flood is held back whether or not its
// messages would be stored; the window starts with the first send after
// the previous one ended. limit <= 0 turns the check off.
//
// It is one upsert (hitWindow) in its own transaction, before the
// message's: the row lock the upsert takes serialises concurrent sends of
// one sender, so no burst can overshoot.
func (s *Store) CountOIMSend(ctx context.Context, senderID int64, limit int, window time.Duration) error {
	if limit <= 0 {
		return nil
	}
	now := s.Now()
	sent, err := s.hitWindow(ctx, "oim_send_windows", "sender_id", senderID, now, now.Add(-window))
	if err != nil {
		return err
	}
	if sent > int64(limit) {
		return models.Errorf(models.CodeSenderThrottleLimitExceeded, "more than %d offline messages in %s; wait and send again", limit, window)
	}
	return nil
}
