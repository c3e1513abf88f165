package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/abch-im/abch/internal/events"
)

// The outbox side of the event relay (internal/events.Relay): committed rows
// in id order, marking them published, pruning, and the relay leader lock.

// UnpublishedEvents returns up to limit committed, unpublished outbox rows in
// id order. Rows of transactions still open are invisible, so nothing is
// published for a change that may roll back.
func (s *Store) UnpublishedEvents(ctx context.Context, limit int) ([]events.OutboxRow, error) {
	var rows []events.OutboxRow
	err := s.DB.WithContext(ctx).Raw(
		`SELECT id, event_id, subject, payload FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?`, limit).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: outbox: %w", err)
	}
	return rows, nil
}

// MarkPublished records that the rows ids were acknowledged by the broker.
func (s *Store) MarkPublished(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.DB.WithContext(ctx).Exec(`UPDATE outbox SET published_at = ? WHERE id IN ?`, at.UTC(), ids).Error; err != nil {
		return fmt.Errorf("store: outbox mark: %w", err)
	}
	return nil
}

// PrunePublished deletes rows published before before and returns how many.
// Unpublished rows are never pruned, however old.
func (s *Store) PrunePublished(ctx context.Context, before time.Time) (int64, error) {
	res := s.DB.WithContext(ctx).Exec(`DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?`, before.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("store: outbox prune: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// relayLockKey is the Postgres advisory lock the relay leader holds.
const relayLockKey = 7_251_300

// TryRelayLock makes this process the relay leader if no other holds the
// role, and returns nil (no error) when another does. On Postgres it is a
// session advisory lock (pg_try_advisory_lock) on a dedicated connection: two
// abch instances on one database never publish concurrently, which would
// interleave their events and break per-recipient order; if the leader dies
// its session ends and the lock is free for another. The embedded database
// belongs to one process, so it needs no lock.
func (s *Store) TryRelayLock(ctx context.Context) (events.Leadership, error) {
	if s.Dialect != DialectPostgres {
		return noLock{}, nil
	}
	sqlDB, err := s.DB.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: relay lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, relayLockKey).Scan(&ok); err != nil {
		discardConn(conn)
		return nil, fmt.Errorf("store: relay lock: %w", err)
	}
	if !ok {
		_ = conn.Close()
		return nil, nil
	}
	// The leader listens for commits of other instances (NotifyOutbox).
	if _, err := conn.ExecContext(ctx, `LISTEN `+outboxChannel); err != nil {
		discardConn(conn)
		return nil, fmt.Errorf("store: relay listen: %w", err)
	}
	return &pgLock{conn: conn}, nil
}

// outboxChannel is the Postgres NOTIFY channel of committed outbox rows.
const outboxChannel = "abch_outbox"

// NotifyOutbox tells the relay leader, whichever instance holds it, that
// rows were committed (Postgres NOTIFY; the leader LISTENs on its lock
// connection). Without it the leader still finds them on its next poll. On
// the embedded database there is only one process: nothing to do.
func (s *Store) NotifyOutbox(ctx context.Context) error {
	if s.Dialect != DialectPostgres {
		return nil
	}
	return s.DB.WithContext(ctx).Exec(`SELECT pg_notify(?, '')`, outboxChannel).Error
}

type noLock struct{}

func (noLock) Alive(context.Context) error { return nil }
func (noLock) Release()                    {}

type pgLock struct {
	conn *sql.Conn
	once sync.Once
}

// Alive checks the lock's session still exists: if its connection broke, the
// server released the lock and another instance may lead now.
func (l *pgLock) Alive(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var one int
	return l.conn.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// WaitNotify blocks until another instance calls NotifyOutbox or ctx ends.
// An interrupted wait leaves the connection usable (pgx interrupts reads
// with a deadline, which does not close the connection).
func (l *pgLock) WaitNotify(ctx context.Context) error {
	return l.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: relay lock connection is %T, not pgx", dc)
		}
		_, err := c.Conn().WaitForNotification(ctx)
		return err
	})
}

// Release ends the session that holds the lock (the connection is discarded,
// never returned to the pool still holding it).
func (l *pgLock) Release() { l.once.Do(func() { discardConn(l.conn) }) }

// discardConn closes the physical connection behind c, ending its session
// and any session-level advisory lock with it.
func discardConn(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}
