package store

import (
	"fmt"
	"sort"
	"strings"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Migrations are plain SQL written once for both databases. The few words
// that differ between Postgres and SQLite are placeholders expanded by
// dialectSQL, so a migration has the same effect on both:
//
//	{{id}}    an auto-incrementing 64-bit primary key
//	{{ts}}    a timestamp with time zone
//	{{bool}}  a boolean
//
// Migration IDs are ordered strings. Each area owns a range so parallel work
// never collides: 0001-0099 foundation, 0100 address book, 0200 sharing,
// 0300 events, 0400 OIM, 0500 migration/import, 0600 storage, 0700 SYN-era
// lists. An area adds its migrations
// from its own file with func init() { register(sqlMigration{...}) }; they
// run in ID order.
var migrations []sqlMigration

func register(m sqlMigration) { migrations = append(migrations, m) }

func sortedMigrations() []sqlMigration {
	out := append([]sqlMigration(nil), migrations...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func init() { register(foundation) }

var foundation = sqlMigration{ID: "0001_foundation", SQL: `
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE accounts (
	id                   {{id}},
	email                TEXT NOT NULL,
	email_lower          TEXT NOT NULL,
	password_hash        TEXT NOT NULL DEFAULT '',
	puid                 BIGINT NOT NULL,
	cid                  BIGINT NOT NULL,
	display_name         TEXT NOT NULL,
	blp                  TEXT NOT NULL DEFAULT 'AL',
	gtc                  TEXT NOT NULL DEFAULT 'A',
	mbea                 INTEGER NOT NULL DEFAULT 0,
	roam_live_properties INTEGER NOT NULL DEFAULT 1,
	token_version        INTEGER NOT NULL DEFAULT 1,
	disabled             {{bool}} NOT NULL DEFAULT FALSE,
	revision             BIGINT NOT NULL,
	pruned_revision      BIGINT NOT NULL DEFAULT 0,
	me_contact_guid      TEXT NOT NULL,
	created_at           {{ts}} NOT NULL,
	updated_at           {{ts}} NOT NULL
);
CREATE UNIQUE INDEX accounts_email_lower ON accounts (email_lower);
CREATE UNIQUE INDEX accounts_puid ON accounts (puid);
CREATE UNIQUE INDEX accounts_cid ON accounts (cid);

CREATE TABLE contacts (
	id                   {{id}},
	owner_id             BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	guid                 TEXT NOT NULL,
	contact_key          TEXT NOT NULL,
	contact_account_id   BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	contact_type         TEXT NOT NULL,
	passport_name        TEXT NOT NULL DEFAULT '',
	email                TEXT NOT NULL DEFAULT '',
	network              INTEGER NOT NULL DEFAULT 1,
	cid                  BIGINT NOT NULL DEFAULT 0,
	display_name         TEXT NOT NULL DEFAULT '',
	quick_name           TEXT NOT NULL DEFAULT '',
	first_name           TEXT NOT NULL DEFAULT '',
	middle_name          TEXT NOT NULL DEFAULT '',
	last_name            TEXT NOT NULL DEFAULT '',
	comment              TEXT NOT NULL DEFAULT '',
	birthdate            TEXT NOT NULL DEFAULT '',
	is_messenger_user    {{bool}} NOT NULL DEFAULT FALSE,
	is_mobile_im_enabled {{bool}} NOT NULL DEFAULT FALSE,
	has_space            {{bool}} NOT NULL DEFAULT FALSE,
	is_favorite          {{bool}} NOT NULL DEFAULT FALSE,
	is_smtp              {{bool}} NOT NULL DEFAULT FALSE,
	annotations          TEXT NOT NULL DEFAULT '[]',
	deleted              {{bool}} NOT NULL DEFAULT FALSE,
	rev                  BIGINT NOT NULL,
	created_at           {{ts}} NOT NULL,
	updated_at           {{ts}} NOT NULL
);
CREATE UNIQUE INDEX contacts_owner_guid ON contacts (owner_id, guid);
CREATE UNIQUE INDEX contacts_owner_key ON contacts (owner_id, contact_key);
CREATE INDEX contacts_owner_rev ON contacts (owner_id, rev);
CREATE INDEX contacts_contact_account ON contacts (contact_account_id);

CREATE TABLE ab_groups (
	id          {{id}},
	owner_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	guid        TEXT NOT NULL,
	name        TEXT NOT NULL,
	name_lower  TEXT NOT NULL,
	annotations TEXT NOT NULL DEFAULT '[]',
	is_favorite {{bool}} NOT NULL DEFAULT FALSE,
	deleted     {{bool}} NOT NULL DEFAULT FALSE,
	rev         BIGINT NOT NULL,
	created_at  {{ts}} NOT NULL,
	updated_at  {{ts}} NOT NULL
);
CREATE UNIQUE INDEX ab_groups_owner_guid ON ab_groups (owner_id, guid);
CREATE UNIQUE INDEX ab_groups_owner_name ON ab_groups (owner_id, name_lower) WHERE NOT deleted;
CREATE INDEX ab_groups_owner_rev ON ab_groups (owner_id, rev);

CREATE TABLE contact_groups (
	contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
	group_id   BIGINT NOT NULL REFERENCES ab_groups (id) ON DELETE CASCADE,
	PRIMARY KEY (contact_id, group_id)
);
CREATE INDEX contact_groups_group ON contact_groups (group_id);

CREATE TABLE memberships (
	id                {{id}},
	owner_id          BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	role              TEXT NOT NULL,
	member_type       TEXT NOT NULL,
	member_name       TEXT NOT NULL,
	member_account_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	cid               BIGINT NOT NULL DEFAULT 0,
	display_name      TEXT NOT NULL DEFAULT '',
	invite_message    TEXT NOT NULL DEFAULT '',
	annotations       TEXT NOT NULL DEFAULT '[]',
	state             TEXT NOT NULL DEFAULT 'Accepted',
	deleted           {{bool}} NOT NULL DEFAULT FALSE,
	joined_at         {{ts}} NOT NULL,
	rev               BIGINT NOT NULL,
	created_at        {{ts}} NOT NULL,
	updated_at        {{ts}} NOT NULL
);
CREATE UNIQUE INDEX memberships_owner_member ON memberships (owner_id, role, member_type, member_name);
CREATE INDEX memberships_owner_rev ON memberships (owner_id, rev);
CREATE INDEX memberships_member_account ON memberships (member_account_id);

CREATE TABLE outbox (
	id           {{id}},
	event_id     TEXT NOT NULL,
	recipient_id BIGINT NOT NULL,
	subject      TEXT NOT NULL,
	payload      TEXT NOT NULL,
	created_at   {{ts}} NOT NULL,
	published_at {{ts}}
);
CREATE UNIQUE INDEX outbox_event_id ON outbox (event_id);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE offline_messages (
	id              {{id}},
	guid            TEXT NOT NULL,
	recipient_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	sender_id       BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
	sender_email    TEXT NOT NULL,
	sender_friendly TEXT NOT NULL DEFAULT '',
	run_id          TEXT NOT NULL DEFAULT '',
	sequence_num    INTEGER NOT NULL DEFAULT 1,
	content_type    TEXT NOT NULL DEFAULT '',
	body            TEXT NOT NULL,
	sender_ip       TEXT NOT NULL DEFAULT '',
	proxy           TEXT NOT NULL DEFAULT '',
	size            INTEGER NOT NULL DEFAULT 0,
	read            {{bool}} NOT NULL DEFAULT FALSE,
	received_at     {{ts}} NOT NULL,
	created_at      {{ts}} NOT NULL
);
CREATE UNIQUE INDEX offline_messages_guid ON offline_messages (guid);
CREATE INDEX offline_messages_recipient ON offline_messages (recipient_id, received_at);
`}

type sqlMigration struct {
	ID  string
	SQL string
	// Dialect, when set, is the only database the SQL runs on (a storage
	// setting one of them has); elsewhere the migration is recorded as
	// applied and does nothing.
	Dialect string
}

// dialectSQL expands the placeholders of a migration for one database.
func dialectSQL(dialect, sql string) string {
	var r *strings.Replacer
	if dialect == DialectPostgres {
		r = strings.NewReplacer("{{id}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "{{ts}}", "TIMESTAMPTZ", "{{bool}}", "BOOLEAN", "{{blob}}", "BYTEA")
	} else {
		r = strings.NewReplacer("{{id}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{ts}}", "DATETIME", "{{bool}}", "BOOLEAN", "{{blob}}", "BLOB")
	}
	return r.Replace(sql)
}

// splitStatements splits a migration on semicolons at line ends. Migrations
// contain no semicolons inside literals.
func splitStatements(sql string) []string {
	var out []string
	for _, part := range strings.Split(sql, ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// migrationLockKey serialises concurrent migrators on Postgres (serve and
// migrate started together). SQLite serialises writers by itself.
const migrationLockKey = 7_251_001

func (s *Store) migrate(db *gorm.DB) error {
	var list []*gormigrate.Migration
	for _, m := range sortedMigrations() {
		m := m
		list = append(list, &gormigrate.Migration{
			ID: m.ID,
			Migrate: func(tx *gorm.DB) error {
				if m.Dialect != "" && m.Dialect != s.Dialect {
					return nil
				}
				for _, stmt := range splitStatements(dialectSQL(s.Dialect, m.SQL)) {
					if err := tx.Exec(stmt).Error; err != nil {
						return fmt.Errorf("migration %s: %w\n%s", m.ID, err, stmt)
					}
				}
				return nil
			},
		})
	}
	return db.Transaction(func(tx *gorm.DB) error {
		if s.Dialect == DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLockKey).Error; err != nil {
				return err
			}
		}
		opts := *gormigrate.DefaultOptions
		opts.TableName = "schema_migrations"
		opts.UseTransaction = false // we already are in one
		var before, after int64
		existed := tx.Migrator().HasTable(opts.TableName)
		if existed {
			if err := tx.Table(opts.TableName).Count(&before).Error; err != nil {
				return err
			}
		}
		if err := gormigrate.New(tx, &opts, list).Migrate(); err != nil {
			return err
		}
		if err := tx.Table(opts.TableName).Count(&after).Error; err != nil {
			return err
		}
		if existed && after != before {
			// A migration may change what a book renders without moving
			// its revision: no answer stored before it is served after it
			// (stored_answers.go).
			return tx.Exec("DELETE FROM stored_answers").Error
		}
		return nil
	})
}

// MigrationsHash identifies the current schema (test templates key on it).
func MigrationsHash() string {
	h := fnv64a()
	for _, m := range sortedMigrations() {
		h = fnvAdd(h, m.ID)
		h = fnvAdd(h, m.SQL)
	}
	return fmt.Sprintf("%016x", h)
}

func fnv64a() uint64 { return 14695981039346656037 }

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
