package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/glebarez/sqlite"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// secondConfig returns another empty database of the same kind as cfg.
func secondConfig(t *testing.T, cfg config.Config) config.Config {
	kind := store.DialectSQLite
	if cfg.IsPostgres() {
		kind = store.DialectPostgres
	}
	return testenv.Config(t, testenv.DB{Name: kind})
}

func importLines(t *testing.T, st *store.Store, text string, opt Options) (*Summary, error) {
	t.Helper()
	src, done, err := OpenLists("-", strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	return Run(context.Background(), st, src, opt)
}

func mustImport(t *testing.T, st *store.Store, text string, opt Options) *Summary {
	t.Helper()
	sum, err := importLines(t, st, text, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func export(t *testing.T, st *store.Store, user string) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := Export(context.Background(), st, &b, user); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestExportImportRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		importEscargot(t, st, Options{})
		first := export(t, st, "")
		if n := strings.Count(first, "\n"); n != 40 {
			t.Fatalf("exported %d lines", n)
		}
		other := openStore(t, secondConfig(t, cfg))
		sum := mustImport(t, other, first, Options{})
		if sum.Created != 40 || sum.Skipped != 0 || sum.ContactsDropped != 0 {
			t.Fatalf("summary %+v", sum)
		}
		if second := export(t, other, ""); second != first {
			t.Fatalf("round trip differs:\n%s\n----\n%s", first, second)
		}
		// One account alone: its contacts exist in the first store.
		one := export(t, st, "User07@example.com")
		if !strings.HasPrefix(one, `{"v":1,"email":"User07@Example.COM"`) || strings.Count(one, "\n") != 1 {
			t.Fatalf("export --user: %s", one)
		}
		if _, err := Export(context.Background(), st, &bytes.Buffer{}, "nobody@example.com"); models.ErrorCode(err) != models.CodeNotFound {
			t.Fatalf("export of unknown user: %v", err)
		}
	})
}

const goodPair = `{"v":1,"email":"Alice@Example.com","display_name":"Alice","password_hash":"","blp":"BL","gtc":"N","groups":[{"name":"Friends","favorite":true},{"name":"Work"}],"contacts":[{"email":"bob@example.com","list_names":["FL","AL"],"display_name":"Bob","nickname":"Bobby","groups":["friends","Work"]}]}
{"v":1,"email":"bob@example.com","display_name":"Bob","password_hash":"pbkdf2_sha256$24000$95b4383b08fc06e$iwJRy0DxV//lhIQPfF/zYgiR5vORYgFt03ZjQfpGlQQ=","groups":[],"contacts":[{"email":"alice@example.com","lists":24,"display_name":"Alice"}]}
`

func TestImportListsBadAccounts(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		text := goodPair +
			`{"v":1,"email":"not-an-address","contacts":[]}` + "\n" +
			`{"v":1,"email":"carol@example.com","password_hash":"{SSHA}c2VjcmV0c2FsdA==","contacts":[]}` + "\n" +
			`{"v":1,"email":"dave@example.com","contacts":[{"email":"nobody@example.com","lists":3}]}` + "\n" +
			`{"v":1,"email":"erin@example.com","contacts":[{"email":"carol@example.com","lists":3},{"email":"bob@example.com","lists":2}]}` + "\n" +
			`{"v":1,"email":"frank@example.com","contacts":[{"email":"bob@example.com","lists":6}]}` + "\n" +
			`{"v":1,"email":"bob@example.com","contacts":[]}` + "\n"
		sum := mustImport(t, st, text, Options{})
		wantReport(t, sum, 3, 5,
			`skipped account not-an-address (line 3): malformed address`,
			`skipped account carol@example.com (line 4): unknown password hash format "{SSHA}"`,
			`skipped account dave@example.com (line 5): contact nobody@example.com points at a missing account`,
			`skipped account frank@example.com (line 7): contact bob@example.com: on both AL and BL`,
			`skipped account bob@example.com (line 8): the address appears again in the source (first at line 2)`,
			`dropped contact carol@example.com (line 6 (erin@example.com)): its account is not imported: unknown password hash format`,
		)
		for _, gone := range []string{"carol@example.com", "dave@example.com", "frank@example.com"} {
			if _, err := st.AccountByEmail(context.Background(), gone); models.ErrorCode(err) != models.CodeNotFound {
				t.Errorf("%s: %v (skipped accounts must not be written)", gone, err)
			}
		}
		a, err := View(context.Background(), st, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if a.Email != "Alice@Example.com" || a.BLP != "BL" || a.GTC != "N" || len(a.Contacts) != 1 ||
			a.Contacts[0].bits() != 3 || a.Contacts[0].Nickname != "Bobby" || strings.Join(a.Contacts[0].Groups, "|") != "Friends|Work" ||
			len(a.Groups) != 2 || !a.Groups[0].Favorite {
			t.Errorf("alice: %+v", a)
		}
		e, _ := View(context.Background(), st, "erin@example.com")
		if len(e.Contacts) != 1 || e.Contacts[0].Email != "bob@example.com" || e.Contacts[0].bits() != listbits.AL {
			t.Errorf("erin: %+v", e.Contacts)
		}
		// No password: cannot sign in until one is set.
		acct, _ := st.AccountByEmail(context.Background(), "alice@example.com")
		if ok, _ := auth.VerifyPassword(acct.PasswordHash, "", auth.Argon2Params{MemoryKiB: 1024, Time: 1, Parallelism: 1}); ok || acct.PasswordHash != "" {
			t.Errorf("empty hash signs in")
		}
		bob, _ := st.AccountByEmail(context.Background(), "bob@example.com")
		if ok, rehash := auth.VerifyPassword(bob.PasswordHash, "maple2049", auth.Argon2Params{MemoryKiB: 1024, Time: 1, Parallelism: 1}); !ok || !rehash {
			t.Errorf("bob's pbkdf2 password: ok=%v rehash=%v", ok, rehash)
		}
	})
}

func TestImportListsMalformedLine(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		for _, tc := range []struct{ text, want string }{
			{goodPair + `{"v":1,"email":` + "\n", "standard input line 3: invalid JSON"},
			{goodPair + "\n" + `{"v":1,"email":"x@example.com","colour":"red"}`, `standard input line 4: invalid JSON: json: unknown field "colour"`},
			{`{"v":2,"email":"x@example.com"}`, "standard input line 1: unsupported format version v=2"},
			{`[1,2]`, "standard input line 1: invalid JSON"},
			{`{"v":1,"email":"x@example.com"} {"v":1}`, "line 1: invalid JSON: more than one value"},
		} {
			_, err := importLines(t, st, tc.text, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		}
		var n int64
		st.DB.Model(&models.Account{}).Count(&n)
		if n != 0 {
			t.Fatalf("a malformed source wrote %d accounts", n)
		}
		if _, _, err := OpenLists(filepath.Join(t.TempDir(), "missing.jsonl"), nil); err == nil {
			t.Error("missing file accepted")
		}
	})
}

func TestImportEscargotMalformedSources(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("hello, not a database\n"), 0o600)
	mk := func(name string, stmts ...string) string {
		p := filepath.Join(dir, name)
		db, err := gorm.Open(sqlite.Open(p), &gorm.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if err := db.Exec(s).Error; err != nil {
				t.Fatal(err)
			}
		}
		sqlDB, _ := db.DB()
		sqlDB.Close()
		return p
	}
	other := mk("other.sqlite", `CREATE TABLE notes (id INTEGER)`)
	partial := mk("partial.sqlite", `CREATE TABLE t_user (id INTEGER, email TEXT)`)
	noContacts := mk("nocontacts.sqlite",
		`CREATE TABLE t_user (id INTEGER, uuid TEXT, email TEXT, friendly_name TEXT, password TEXT, groups TEXT, settings TEXT, date_created TEXT)`,
		`CREATE TABLE t_user_contact (user_id INTEGER, contact_id INTEGER, uuid TEXT, name TEXT, lists INTEGER, groups TEXT, is_messenger_user INTEGER, nickname TEXT)`)
	for _, tc := range []struct{ src, want string }{
		{text, "not an SQLite database"},
		{filepath.Join(dir, "absent.sqlite"), "no such file"},
		{other, "not an Escargot database: table t_user is missing"},
		{partial, "not an Escargot database: table t_user lacks column(s) uuid, friendly_name, password, groups, settings, date_created"},
		{noContacts, "table t_user_contact lacks column(s) pending"},
	} {
		_, err := OpenEscargot(context.Background(), tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
	// A Postgres database without Escargot's tables.
	if os.Getenv("ABCH_TEST_DATABASE_URL") != "" {
		pg := testenv.NewPostgresDB(t)
		_, err := OpenEscargot(context.Background(), pg)
		if err == nil || !strings.Contains(err.Error(), "not an Escargot database: table t_user is missing") {
			t.Errorf("postgres: %v", err)
		}
	}
}

func TestReimportAppliesDifferenceAndMerge(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openStore(t, cfg)
		mustImport(t, st, goodPair, Options{})
		revs := revisions(t, st)

		// The source changed for Alice only: a group renamed away, Bob's
		// nickname changed and moved out of Work, a new contact Carol.
		changed := `{"v":1,"email":"Alice@Example.com","display_name":"Alice B.","password_hash":"","blp":"BL","gtc":"N","groups":[{"name":"Friends","favorite":true},{"name":"Colleagues"}],"contacts":[{"email":"bob@example.com","lists":3,"display_name":"Bob","nickname":"Bob!","groups":["Friends"]},{"email":"carol@example.com","lists":2}]}
{"v":1,"email":"bob@example.com","display_name":"Bob","password_hash":"pbkdf2_sha256$24000$95b4383b08fc06e$iwJRy0DxV//lhIQPfF/zYgiR5vORYgFt03ZjQfpGlQQ=","groups":[],"contacts":[{"email":"alice@example.com","lists":24,"display_name":"Alice"}]}
{"v":1,"email":"carol@example.com","contacts":[]}
`
		sum := mustImport(t, st, changed, Options{})
		if sum.Created != 1 || sum.Updated != 1 || sum.Unchanged != 1 {
			t.Fatalf("re-run: %+v", sum)
		}
		after := revisions(t, st)
		if after["bob@example.com"] != revs["bob@example.com"] || after["alice@example.com"] <= revs["alice@example.com"] {
			t.Errorf("revisions %v → %v", revs, after)
		}
		a, _ := View(ctx, st, "alice@example.com")
		if a.DisplayName != "Alice B." || len(a.Groups) != 2 || a.Groups[1].Name != "Colleagues" || len(a.Contacts) != 2 ||
			a.Contacts[0].Nickname != "Bob!" || strings.Join(a.Contacts[0].Groups, "|") != "Friends" || a.Contacts[1].bits() != listbits.AL {
			t.Errorf("alice after re-run: %+v", a)
		}
		// The Work group is a tombstone now (a delta carries it).
		var g models.Group
		st.DB.Where("name = ?", "Work").Find(&g)
		if !g.Deleted || g.Rev != after["alice@example.com"] {
			t.Errorf("Work group: deleted=%v rev=%d", g.Deleted, g.Rev)
		}
		if s := mustImport(t, st, changed, Options{}); s.Unchanged != 3 {
			t.Fatalf("third run: %+v", s)
		}

		// Alice changes her lists in abch (as the Sharing service would).
		acct, _ := st.AccountByEmail(ctx, "alice@example.com")
		bob, _ := st.AccountByEmail(ctx, "bob@example.com")
		if err := st.Write(ctx, func(tx *store.Txn) error {
			if err := tx.Bump(acct.ID); err != nil {
				return err
			}
			_, _, err := tx.PutMember(acct.ID, models.RoleBlock, store.PassportRef(bob), "", "", nil)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		sum = mustImport(t, st, goodPair, Options{})
		if sum.Skipped != 1 || !strings.Contains(sum.SkippedAccounts[0].Reason, "changed in abch since it was imported") {
			t.Fatalf("changed account not reported: %+v", sum)
		}
		v, _ := View(ctx, st, "alice@example.com")
		if v.Contacts[0].bits()&listbits.BL == 0 {
			t.Fatalf("skipped account was overwritten")
		}
		// union keeps Alice's Block and adds the source's Work group back.
		sum = mustImport(t, st, goodPair, Options{Merge: MergeUnion})
		v, _ = View(ctx, st, "alice@example.com")
		if sum.Updated != 1 || v.DisplayName != "Alice B." || len(v.Groups) != 3 || v.Contacts[0].bits()&listbits.BL == 0 {
			t.Fatalf("union: %+v %+v", sum, v)
		}
		// source makes her equal to the source again.
		mustImport(t, st, goodPair, Options{Merge: MergeSource})
		v, _ = View(ctx, st, "alice@example.com")
		if v.DisplayName != "Alice" || len(v.Groups) != 2 || len(v.Contacts) != 1 || v.Contacts[0].bits() != 3 {
			t.Fatalf("source merge: %+v", v)
		}

		// An account created in abch (not by an import) is not overwritten.
		if _, err := st.CreateAccount(ctx, store.NewAccount{Email: "zed@example.com", PasswordHash: "", DisplayName: "Zed here"}); err != nil {
			t.Fatal(err)
		}
		sum = mustImport(t, st, `{"v":1,"email":"zed@example.com","display_name":"Other Zed","contacts":[{"email":"bob@example.com","lists":3}]}`, Options{})
		if sum.Skipped != 1 || !strings.Contains(sum.SkippedAccounts[0].Reason, "not created by an import") {
			t.Fatalf("existing account: %+v", sum)
		}
		if z, _ := View(ctx, st, "zed@example.com"); z.DisplayName != "Zed here" || len(z.Contacts) != 0 {
			t.Fatalf("existing account overwritten: %+v", z)
		}
	})
}
