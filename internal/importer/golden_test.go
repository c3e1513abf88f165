package importer

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

func goldenPath(t testing.TB, name string) string {
	root := ""
	wd, _ := os.Getwd()
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			root = d
			break
		}
	}
	return filepath.Join(root, "fixtures", "migration", name)
}

// TestExportGolden pins the lists-format export of the Escargot sample: the
// same bytes from both databases (fixtures/migration/escargot-sample.jsonl,
// refreshed with -update).
func TestExportGolden(t *testing.T) {
	path := goldenPath(t, "escargot-sample.jsonl")
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		importEscargot(t, st, Options{})
		got := export(t, st, "")
		if testenv.Updating() && !cfg.IsPostgres() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("golden file: %v (run with -update)", err)
		}
		if got != string(want) {
			t.Fatalf("export differs from %s (run with -update if intended):\n%s", path, got)
		}
	})
}

// TestImportEscargotFromPostgres imports the sample from an Escargot schema
// on Postgres (native JSON, BOOLEAN and TIMESTAMP columns) built from the
// SQLite fixture, and checks every account against expected-sample.json.
// On the embedded database the source is the SQLite file itself.
func TestImportEscargotFromPostgres(t *testing.T) {
	e := loadExpected(t)
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		srcName := filepath.Join(escargotDir(t), "escargot-sample.sqlite")
		if cfg.IsPostgres() {
			srcName = cfg.DatabaseURL
			copyEscargotToPostgres(t, filepath.Join(escargotDir(t), "escargot-sample.sqlite"), cfg.DatabaseURL)
		}
		src, err := OpenEscargot(context.Background(), srcName)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(context.Background(), st, src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Created != 40 || len(sum.Inconsistencies) != 2 {
			t.Fatalf("summary %+v", sum)
		}
		compareExpected(t, st, e, false, !cfg.IsPostgres())
	})
}

func copyEscargotToPostgres(t *testing.T, sqlitePath, url string) {
	lite, err := openRead(sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := gorm.Open(postgres.Open(url), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d, _ := pg.DB(); d.Close(); d2, _ := lite.DB(); d2.Close() }()
	for _, s := range []string{
		`CREATE TABLE t_user (front_data JSON NOT NULL DEFAULT '{}', id INTEGER PRIMARY KEY, date_created TIMESTAMP NOT NULL, uuid VARCHAR NOT NULL UNIQUE,
			email VARCHAR NOT NULL, friendly_name VARCHAR NOT NULL, password VARCHAR NOT NULL, groups JSON NOT NULL, settings JSON NOT NULL)`,
		`CREATE TABLE t_user_contact (user_id INTEGER NOT NULL, contact_id INTEGER NOT NULL, uuid VARCHAR NOT NULL, name VARCHAR NOT NULL,
			lists INTEGER NOT NULL, pending BOOLEAN NOT NULL, groups JSON NOT NULL, is_messenger_user BOOLEAN NOT NULL, nickname VARCHAR,
			PRIMARY KEY (user_id, contact_id))`,
	} {
		if err := pg.Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
	var users []map[string]any
	lite.Raw(`SELECT id, CAST(date_created AS TEXT) AS date_created, uuid, email, friendly_name, password, groups, settings FROM t_user`).Scan(&users)
	for _, u := range users {
		if err := pg.Exec(`INSERT INTO t_user (id, date_created, uuid, email, friendly_name, password, groups, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u["id"], u["date_created"], u["uuid"], u["email"], u["friendly_name"], u["password"], u["groups"], u["settings"]).Error; err != nil {
			t.Fatal(err)
		}
	}
	var rows []map[string]any
	lite.Raw(`SELECT user_id, contact_id, uuid, name, lists, pending, groups, is_messenger_user, nickname FROM t_user_contact`).Scan(&rows)
	for _, r := range rows {
		if err := pg.Exec(`INSERT INTO t_user_contact (user_id, contact_id, uuid, name, lists, pending, groups, is_messenger_user, nickname) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r["user_id"], r["contact_id"], r["uuid"], r["name"], r["lists"], truthy(r["pending"]), r["groups"], truthy(r["is_messenger_user"]), r["nickname"]).Error; err != nil {
			t.Fatal(err)
		}
	}
	if len(users) != 40 || len(rows) != 248 {
		t.Fatalf("copied %d users, %d rows", len(users), len(rows))
	}
}

// truthy reads an SQLite BOOLEAN the driver may return as bool or integer.
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	}
	return false
}
