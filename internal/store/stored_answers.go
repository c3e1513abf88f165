package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pierrec/lz4/v4"
	"gorm.io/gorm"

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
// The body is stored LZ4-compressed (EncodeStoredBody): a 337 KB ABFindAll
// of 300 contacts is 30 KB, so the database reads a tenth of the pages (on
// the embedded database, copying the overflow pages of the uncompressed
// body was a quarter of serving it) and decoding it costs a fraction of
// that. On Postgres the column is stored EXTERNAL: the body is compressed
// already, and pglz would only try again.
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
		args: []any{kind, format + codecTag, ownerID}, direct: true,
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
	out, err := DecodeStoredBody(dst, body)
	if err != nil {
		// Not an answer this code stored: the row path serves the read
		// and the next store replaces it.
		s.Log.Warn("store: undecodable stored answer", "account", ownerID, "kind", kind, "err", err)
		return nil, &a, nil
	}
	return out, &a, nil
}

// The stored form of a body: its length (uvarint), then the body as one
// LZ4 block (pierrec/lz4). LZ4 rather than S2 (what the first stored
// answers used): on a 337 KB ABFindAll it decodes in half the time (15 µs
// against 32, the decode was a tenth of serving a stored answer on
// Postgres) and encodes 2.4× faster, into slightly fewer bytes (29.8 KB
// against 31.1). codecTag is part of the stored format key, so answers
// stored in another form are never read as this one: they are replaced
// on their book's next read.
const codecTag = "+lz4"

// maxStoredBody bounds the length a stored body may claim (a body larger
// than any answer abch renders is not decoded).
const maxStoredBody = 256 << 20

// EncodeStoredBody is the stored form of body, in a slice of its own size:
// answers wait in the writer's queue (up to maxPendingAnswers of them), and
// a slice of the compressor's worst-case buffer would keep all 340 KB of it
// alive for a 30 KB answer.
func EncodeStoredBody(body []byte) []byte {
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	need := binary.MaxVarintLen64 + lz4.CompressBlockBound(len(body))
	if cap(e.buf) < need {
		e.buf = make([]byte, need)
	}
	out := e.buf[:need]
	n := binary.PutUvarint(out, uint64(len(body)))
	m, err := e.c.CompressBlock(body, out[n:])
	if err != nil || m == 0 && len(body) > 0 {
		// Incompressible (CompressBlock gives up): an LZ4 block of
		// literals only. Cannot fail with a buffer of CompressBlockBound.
		m = literalBlock(body, out[n:])
	}
	return bytes.Clone(out[:n+m])
}

// encoder is a compressor (its hash table is 64 KB) and its output buffer,
// reused across encodings.
type encoder struct {
	c   lz4.Compressor
	buf []byte
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// literalBlock writes src as one LZ4 sequence of literals into dst.
func literalBlock(src, dst []byte) int {
	l := len(src)
	i := 0
	if l < 15 {
		dst[0] = byte(l << 4)
		i = 1
	} else {
		dst[0] = 0xF0
		i = 1
		for r := l - 15; ; r -= 255 {
			if r < 255 {
				dst[i] = byte(r)
				i++
				break
			}
			dst[i] = 255
			i++
		}
	}
	return i + copy(dst[i:], src)
}

// DecodeStoredBody decodes a stored form into dst's capacity when it fits
// (a recycled buffer), else into a new buffer.
func DecodeStoredBody(dst, enc []byte) ([]byte, error) {
	size, n := binary.Uvarint(enc)
	if n <= 0 || size > maxStoredBody {
		return nil, errors.New("store: stored answer: bad length")
	}
	if uint64(cap(dst)) < size {
		dst = make([]byte, size)
	}
	dst = dst[:size]
	if size == 0 {
		if len(enc) != n && !(len(enc) == n+1 && enc[n] == 0) {
			return nil, errors.New("store: stored answer: data after an empty body")
		}
		return dst, nil
	}
	m, err := lz4.UncompressBlock(enc[n:], dst)
	if err != nil {
		return nil, fmt.Errorf("store: stored answer: %w", err)
	}
	if uint64(m) != size {
		return nil, fmt.Errorf("store: stored answer: %d bytes, %d expected", m, size)
	}
	return dst, nil
}

// PutStoredAnswer stores body, the answer of kind rendered by format from
// a snapshot of ownerID's book at revision rev, unless an answer of a
// newer revision by the same format is stored already (a late writer). An
// account deleted meanwhile stores nothing.
func (s *Store) PutStoredAnswer(ctx context.Context, ownerID int64, kind, format string, rev int64, body []byte) error {
	return s.putStoredAnswers(s.DB.WithContext(ctx), []storedItem{{answerKey{ownerID, kind}, pendingAnswer{format, rev, EncodeStoredBody(body)}}})
}

// storedItem is one encoded answer to store.
type storedItem struct {
	k answerKey
	p pendingAnswer
}

// putStoredAnswers upserts encoded answers (distinct keys) in one
// statement: the writer's batch is one statement, not one per answer (one
// per answer kept up with only ~200 answers/s on Postgres under load).
func (s *Store) putStoredAnswers(db *gorm.DB, items []storedItem) error {
	// "( ?", not "(?": GORM expands a slice argument right after a
	// parenthesis into a list, and the body is a []byte.
	value := `(CAST( ? AS BIGINT), ?, ?, CAST( ? AS BIGINT), CAST( ? AS BLOB))`
	if s.Dialect == DialectPostgres {
		value = `(CAST( ? AS BIGINT), CAST( ? AS TEXT), CAST( ? AS TEXT), CAST( ? AS BIGINT), CAST( ? AS BYTEA))`
	}
	var sb strings.Builder
	args := make([]any, 0, 5*len(items))
	sb.WriteString(`INSERT INTO stored_answers (owner_id, kind, format, rev, body) SELECT v.* FROM (VALUES `)
	for i, it := range items {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(value)
		args = append(args, it.k.owner, it.k.kind, it.p.format+codecTag, it.p.rev, it.p.encoded)
	}
	// Accounts deleted meanwhile store nothing. (The WHERE also keeps
	// SQLite's parser from reading ON CONFLICT as a join constraint.)
	sb.WriteString(`) AS v WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = v.column1)
		ON CONFLICT (owner_id, kind) DO UPDATE SET format = excluded.format, rev = excluded.rev, body = excluded.body
		WHERE stored_answers.rev < excluded.rev OR stored_answers.format <> excluded.format`)
	if err := db.Exec(sb.String(), args...).Error; err != nil {
		return fmt.Errorf("store: storing %d answers: %w", len(items), translate(err))
	}
	return nil
}

// StoreAnswer encodes body and queues it for a background writer, which
// stores it as PutStoredAnswer does: the read that rendered the answer does
// not wait for the write (on the embedded database it would queue behind
// every other writer). The writer stores what is waiting in batches, up to
// answerBatch answers per transaction (one commit each, not one per
// answer). Answers of the same account and kind waiting together are
// written once, the newest; past maxPendingAnswers waiting answers new ones
// are dropped (the next read renders again). Stop the writer with
// StopAnswerWriter.
func (s *Store) StoreAnswer(ownerID int64, kind, format string, rev int64, body []byte) {
	w := &s.answers
	w.mu.Lock()
	stopped := w.stopped
	w.mu.Unlock()
	if stopped {
		return
	}
	enc := EncodeStoredBody(body) // in the caller: every core encodes, the writer only writes
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	k := answerKey{ownerID, kind}
	if p, ok := w.pending[k]; ok {
		if p.rev < rev || p.format != format {
			w.pending[k] = pendingAnswer{format, rev, enc}
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
	w.pending[k] = pendingAnswer{format, rev, enc}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// maxPendingAnswers bounds the answers waiting to be stored (encoded:
// about 31 KB each for a 300-contact book, so at most ~16 MB).
const maxPendingAnswers = 512

// answerBatch is how many waiting answers one transaction stores.
const answerBatch = 32

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
	format  string
	rev     int64
	encoded []byte // S2
}

// writeAnswers writes the queued answers one at a time until the writer
// is stopped and nothing is left.
func (s *Store) writeAnswers() {
	w := &s.answers
	batch := make([]storedItem, 0, answerBatch)
	for {
		w.mu.Lock()
		batch = batch[:0]
		for k, p := range w.pending {
			batch = append(batch, storedItem{k, p})
			delete(w.pending, k)
			if len(batch) == answerBatch {
				break
			}
		}
		w.busy = len(batch) > 0
		stopped := w.stopped
		w.mu.Unlock()
		if len(batch) == 0 {
			if stopped {
				close(w.done)
				return
			}
			<-w.wake
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.putStoredAnswers(s.DB.WithContext(ctx), batch)
		cancel()
		if err != nil {
			// One failure (an account deleted meanwhile is not one) loses
			// the batch: those books are rendered again on their next read.
			s.Log.Warn("store: storing rendered answers", "answers", len(batch), "err", err)
		}
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
	if w.dropped > 0 {
		s.Log.Info("store: stored answers dropped while the writer was behind", "dropped", w.dropped)
	}
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
