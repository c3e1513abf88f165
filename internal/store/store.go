// Package store is abch's storage: it opens the embedded database (pure-Go
// SQLite) or Postgres through GORM, applies the versioned migrations, and
// holds the transactional operations on the contact model. An exported method
// opens the transaction and calls unexported helpers that take the *Txn;
// change events are outbox rows written in that same transaction.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// Dialects.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Limits are the configurable per-book limits.
type Limits struct {
	MaxContacts      int
	MaxGroups        int
	MaxMembers       int
	TombstoneHorizon time.Duration
}

// Store is the database and the operations on it.
type Store struct {
	DB      *gorm.DB
	Dialect string
	Limits  Limits
	// Now is the clock; NewGUID the GUID source. Both are injectable so
	// golden-file tests are byte-exact.
	Now     func() time.Time
	NewGUID func() string
	Log     *slog.Logger

	mu       sync.Mutex
	onCommit []func()
	columns  sync.Map // reflect.Type → *modelColumns, see columnsOf
	answers  answerWriter
}

// Open opens the configured database. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	gcfg := &gorm.Config{
		TranslateError:         true,
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		db      *gorm.DB
		err     error
		dialect string
	)
	if cfg.IsPostgres() {
		dialect = DialectPostgres
		pcfg, err := pgx.ParseConfig(cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("store: ABCH_DATABASE_URL: %w", err)
		}
		if _, set := pcfg.RuntimeParams["plan_cache_mode"]; !set {
			// Every abch statement is keyed by ids, and pgx prepares each
			// one, so one plan per statement and connection is right for
			// all of them. Under the default (auto) Postgres re-plans on
			// every execution any statement whose range condition makes a
			// custom plan look cheaper: the delta reads (rev > cursor),
			// re-planned each time, cost an empty delta 40% of its
			// throughput (BENCHMARKS.md). An operator's own setting in
			// the URL wins.
			pcfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
		}
		sqlDB := stdlib.OpenDB(*pcfg)
		db, err = gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
		if err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("store: open postgres: %w", err)
		}
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		dialect = DialectSQLite
		keepAllocatorPages()
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data dir: %w", err)
		}
		db, err = gorm.Open(sqlite.Dialector{DriverName: sqliteDriverName, DSN: SQLiteDSN(cfg.SQLitePath())}, gcfg)
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		sqlDB, _ := db.DB()
		// One writer at a time is SQLite's model; WAL lets readers go on.
		// Every connection stays open: database/sql keeps 2 idle by
		// default, so under load the other 6 were closed and reopened
		// all the time, and a new connection sets its pragmas and parses
		// the schema again on its first statement (issue 19).
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	}
	s := &Store{
		DB:      db,
		Dialect: dialect,
		Limits: Limits{
			MaxContacts: cfg.MaxContacts, MaxGroups: cfg.MaxGroups, MaxMembers: cfg.MaxMembers,
			TombstoneHorizon: cfg.TombstoneHorizon,
		},
		Now:     func() time.Time { return time.Now().UTC() },
		NewGUID: func() string { return uuid.NewString() },
		Log:     log,
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// SQLiteDSN is the DSN of the embedded database at path: WAL, a busy timeout,
// foreign keys, and IMMEDIATE write transactions so two writers never
// deadlock upgrading their locks.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=mmap_size(1073741824)&_txlock=immediate"
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(s.DB.WithContext(ctx)); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// Ping checks the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Close writes the stored answers still queued (StoreAnswer) and closes
// the database.
func (s *Store) Close() error {
	s.StopAnswerWriter()
	sqlDB, err := s.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// OnCommit registers f to run after every committed write transaction (the
// event relay uses it to publish promptly).
func (s *Store) OnCommit(f func()) {
	s.mu.Lock()
	s.onCommit = append(s.onCommit, f)
	s.mu.Unlock()
}

// Txn is one write transaction: the GORM handle, its clock, the revisions it
// allocated and the events it wrote.
type Txn struct {
	DB    *gorm.DB
	Now   time.Time
	store *Store
	revs  map[int64]int64
	// locked holds the account rows Bump locked, as it read them.
	locked map[int64]*models.Account
	wrote  bool
}

// Write runs fn in a transaction and commits it; a serialization failure,
// deadlock or busy database is retried a few times. fn must be idempotent up
// to its writes (it runs again on retry).
func (s *Store) Write(ctx context.Context, fn func(t *Txn) error) error {
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		var t *Txn
		err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			t = &Txn{DB: tx, Now: s.Now(), store: s, revs: map[int64]int64{}, locked: map[int64]*models.Account{}}
			return fn(t)
		})
		if err == nil {
			if t != nil && t.wrote {
				s.mu.Lock()
				hooks := append([]func(){}, s.onCommit...)
				s.mu.Unlock()
				for _, h := range hooks {
					h()
				}
			}
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			return translate(err)
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return translate(err)
}

func retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLSTATE 40001") || strings.Contains(msg, "SQLSTATE 40P01") ||
		strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// translate turns driver errors into model errors; *models.Error passes through.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var me *models.Error
	if errors.As(err, &me) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return &models.Error{Code: models.CodeNotFound, Message: "not found", Err: err}
	}
	return &models.Error{Code: models.CodeInternalError, Message: "internal error", Err: err}
}

// Bump allocates the next revision of each account's book, locking the
// account rows until the transaction ends, and keeps the rows it locked:
// what the transaction reads of those accounts it reads here, once
// (t.account). Accounts are locked in ascending id order so two
// transactions touching the same pair never deadlock: call Bump once, with
// every account the transaction will change, before other writes. Calling
// it again for an account already bumped is a no-op.
func (t *Txn) Bump(ids ...int64) error {
	ids = append([]int64(nil), ids...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	now := models.RevisionAt(t.Now)
	for _, id := range ids {
		if _, ok := t.revs[id]; ok {
			continue
		}
		var a models.Account
		// CASE keeps revisions strictly increasing even if the clock steps back.
		res := t.DB.Raw(`UPDATE accounts SET revision = CASE WHEN revision + 1 > ? THEN revision + 1 ELSE ? END, list_version = list_version + 1, updated_at = ? WHERE id = ? RETURNING *`,
			now, now, t.Now, id).Scan(&a)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &models.Error{Code: models.CodeNotFound, Message: fmt.Sprintf("account %d not found", id)}
		}
		t.revs[id] = a.Revision
		t.locked[id] = &a
		t.wrote = true
	}
	return nil
}

// Rev returns the revision allocated for account id by Bump (0 if none).
func (t *Txn) Rev(id int64) int64 { return t.revs[id] }

// Emit writes ev to the outbox in this transaction, filling in its id, time
// and revision (the recipient's revision allocated in this transaction);
// events.Event.Seal decides which events carry the NOT hint.
func (t *Txn) Emit(recipientID int64, ev events.Event) error {
	ev.ID = t.store.NewGUID()
	ev.Time = t.Now
	if ev.Revision == "" {
		if rev := t.revs[recipientID]; rev != 0 {
			ev.Revision = models.FormatRevision(rev)
		}
	}
	if a := t.locked[recipientID]; a != nil && ev.ListVersion == 0 {
		ev.ListVersion = a.ListVersion
	}
	ev.Seal()
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	row := models.OutboxEvent{
		EventID: ev.ID, RecipientID: recipientID, Subject: events.Subject(ev.Recipient.CID),
		Payload: string(payload), CreatedAt: t.Now,
	}
	t.wrote = true
	return t.DB.Create(&row).Error
}

// Party returns the event party for an account.
func Party(a *models.Account) events.Party {
	return events.Party{Email: a.Email, CID: a.CID, PUID: a.PUIDUnsigned(), DisplayName: a.DisplayName}
}

// randomInt64 returns a uniformly random int64.
func randomInt64() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var v uint64
	for _, x := range b {
		v = v<<8 | uint64(x)
	}
	return int64(v)
}

// Setting returns a server setting, "" when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var st models.Setting
	err := s.DB.WithContext(ctx).Where("key = ?", key).Limit(1).Find(&st).Error
	return st.Value, err
}

// EnsureSetting stores value under key unless a value exists, and returns the
// stored value (so concurrent first starts agree on one secret).
func (s *Store) EnsureSetting(ctx context.Context, key, value string) (string, error) {
	err := s.DB.WithContext(ctx).Exec(`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value).Error
	if err != nil {
		return "", err
	}
	return s.Setting(ctx, key)
}
