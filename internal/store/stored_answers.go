package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/abch-im/abch/models"
)

// Stored answers (issue 19): the rendered full answer of a book (ABFindAll,
// FindMembership), kept in the database for the revision it was rendered
// at, so a read the in-memory answer cache cannot serve (another process,
// a restart, a book evicted at network scale) is one row instead of the
// book's rows and a rendering.
//
// A stored answer is exactly as valid as an entry of the in-memory cache
// (internal/answercache) and under the same key: the account, the answer's
// kind (the cache's variant), and the account revision of the snapshot it
// was rendered from. It is served only when that revision is the account's
// current one, read in the same statement, so an answer rendered before a
// change can never be served after it (every change bumps the revision,
// DESIGN.md "Revisions and delta sync"). Two things the in-memory cache
// does not outlive and a stored answer would are keyed too: the code that
// rendered it (format: each service's fingerprint of its renderer, see
// services/ab, services/sharing) and the schema (applying any migration
// deletes every stored answer, Migrate). The rows go with their account
// (ON DELETE CASCADE).
//
// The body is stored S2-compressed (klauspost/compress/s2, block format):
// a 337 KB ABFindAll of 300 contacts is 41 KB, so the database reads a
// tenth of the pages (on the embedded database, copying the overflow pages
// of the uncompressed body was a quarter of serving it) and decoding it
// costs a fraction of that. On Postgres the column is stored EXTERNAL: the
// body is compressed already, and pglz would only try again.
func init() {
	register(sqlMigration{ID: "0720_stored_answers", SQL: `
CREATE TABLE stored_answers (
	owner_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind     TEXT NOT NULL,
	format   TEXT NOT NULL,
	rev      BIGINT NOT NULL,
	body     {{blob}} NOT NULL,
	PRIMARY KEY (owner_id, kind)
);
`})
	register(sqlMigration{ID: "0721_stored_answers_external", Dialect: DialectPostgres, SQL: `
ALTER TABLE stored_answers ALTER COLUMN body SET STORAGE EXTERNAL;
`})
}

// StoredAnswer reads the answer of kind rendered by format stored for
// ownerID at the account's current revision, with the account row, in one
// statement (one snapshot). check gets the row first, as in LoadFull (nil:
// no such account); its error is returned as is, and nothing is returned
// unless it passes. The body is nil when no answer is stored for the
// current revision (or there is no such account): the caller reads the
// rows (the row path) and may store what it renders (StoreAnswer). The
// answer is decoded into dst's capacity when it fits (a recycled buffer),
// else into a new buffer.
func (s *Store) StoredAnswer(ctx context.Context, ownerID int64, kind, format string, dst []byte, check AccountCheck) ([]byte, *models.Account, error) {
	acc, err := s.columnsOf(&models.Account{})
	if err != nil {
		return nil, nil, err
	}
	var a models.Account
	var body []byte
	found := false
	err = s.rawRead(ctx, rawQuery{
		cols: acc.list("a") + ", r.body",
		rest: `FROM accounts a LEFT JOIN stored_answers r ON r.owner_id = a.id AND r.kind = $1 AND r.format = $2 AND r.rev = a.revision
			WHERE a.id = $3`,
		args: []any{kind, format, ownerID}, direct: true,
		targets: append(acc.targets(&a), &body), row: func() error { found = true; return nil },
	})
	if err != nil {
		return nil, nil, translate(err)
	}
	if check != nil {
		owner := &a
		if !found {
			owner = nil
		}
		if err := check(owner); err != nil {
			return nil, nil, err
		}
	}
	if !found {
		return nil, nil, nil
	}
	if body == nil {
		return nil, &a, nil
	}
	out, err := s2.Decode(dst[:cap(dst)], body)
	if err != nil {
		// Not an answer this code stored: the row path serves the read
		// and the next store replaces it.
		s.Log.Warn("store: undecodable stored answer", "account", ownerID, "kind", kind, "err", err)
		return nil, &a, nil
	}
	return out, &a, nil
}

// PutStoredAnswer stores body, the answer of kind rendered by format from
// a snapshot of ownerID's book at revision rev, unless an answer of a
// newer revision by the same format is stored already (a late writer). An
// account deleted meanwhile stores nothing.
func (s *Store) PutStoredAnswer(ctx context.Context, ownerID int64, kind, format string, rev int64, body []byte) error {
	err := s.DB.WithContext(ctx).Exec(`INSERT INTO stored_answers (owner_id, kind, format, rev, body)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)
		ON CONFLICT (owner_id, kind) DO UPDATE SET format = excluded.format, rev = excluded.rev, body = excluded.body
		WHERE stored_answers.rev < excluded.rev OR stored_answers.format <> excluded.format`,
		ownerID, kind, format, rev, s2.EncodeBetter(nil, body), ownerID).Error
	if err != nil {
		return fmt.Errorf("store: storing answer %s of account %d: %w", kind, ownerID, translate(err))
	}
	return nil
}

// StoreAnswer queues PutStoredAnswer for a background writer and returns
// at once: the read that rendered the answer does not wait for the write
// (on the embedded database it would queue behind every other writer).
// Answers of the same account and kind waiting together are written once,
// the newest; past maxPendingAnswers waiting answers new ones are dropped
// (the next read renders again). Stop the writer with StopAnswerWriter.
func (s *Store) StoreAnswer(ownerID int64, kind, format string, rev int64, body []byte) {
	w := &s.answers
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	k := answerKey{ownerID, kind}
	if p, ok := w.pending[k]; ok {
		if p.rev < rev || p.format != format {
			w.pending[k] = pendingAnswer{format, rev, body}
		}
		return
	}
	if len(w.pending) >= maxPendingAnswers {
		w.dropped++
		return
	}
	if w.pending == nil {
		w.pending = map[answerKey]pendingAnswer{}
		w.wake = make(chan struct{}, 1)
		w.done = make(chan struct{})
		go s.writeAnswers()
	}
	w.pending[k] = pendingAnswer{format, rev, body}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// maxPendingAnswers bounds the answers waiting to be stored (about 300 KB
// each for a 300-contact book).
const maxPendingAnswers = 64

// answerWriter is the background writer of StoreAnswer.
type answerWriter struct {
	mu      sync.Mutex
	pending map[answerKey]pendingAnswer
	wake    chan struct{}
	done    chan struct{}
	stopped bool
	busy    bool
	dropped int64
}

type answerKey struct {
	owner int64
	kind  string
}

type pendingAnswer struct {
	format string
	rev    int64
	body   []byte
}

// writeAnswers writes the queued answers one at a time until the writer
// is stopped and nothing is left.
func (s *Store) writeAnswers() {
	w := &s.answers
	for {
		w.mu.Lock()
		var k answerKey
		var p pendingAnswer
		found := false
		for k, p = range w.pending {
			found = true
			delete(w.pending, k)
			break
		}
		w.busy = found
		stopped := w.stopped
		w.mu.Unlock()
		if !found {
			if stopped {
				close(w.done)
				return
			}
			<-w.wake
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.PutStoredAnswer(ctx, k.owner, k.kind, p.format, p.rev, p.body); err != nil {
			s.Log.Warn("store: storing a rendered answer", "account", k.owner, "kind", k.kind, "err", err)
		}
		cancel()
	}
}

// FlushAnswers waits until every answer queued by StoreAnswer so far is
// written (tests; a bounded wait).
func (s *Store) FlushAnswers(ctx context.Context) error {
	w := &s.answers
	for {
		w.mu.Lock()
		idle := len(w.pending) == 0 && !w.busy
		w.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// StopAnswerWriter writes what is queued and stops the background writer;
// later StoreAnswer calls store nothing. Close calls it.
func (s *Store) StopAnswerWriter() {
	w := &s.answers
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	started := w.pending != nil
	if started {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	w.mu.Unlock()
	if started {
		<-w.done
	}
}
