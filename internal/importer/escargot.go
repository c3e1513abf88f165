package importer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/models"
)

// Escargot columns the import reads (Escargot's core/db.py; SCHEMA.md in
// the shared migration fixtures).
var escargotColumns = map[string][]string{
	"t_user":         {"id", "uuid", "email", "friendly_name", "password", "groups", "settings", "date_created"},
	"t_user_contact": {"user_id", "contact_id", "uuid", "name", "lists", "pending", "groups", "is_messenger_user", "nickname"},
}

// escargotSource holds an Escargot database converted to lists-format
// documents, in t_user.id order. Escargot servers hold thousands of users,
// so the conversion is done in memory once.
type escargotSource struct {
	name string
	docs []*AccountDoc
	ids  []int64       // t_user.id of each doc
	errs map[int]error // index in docs → why the account cannot be imported
}

// OpenEscargot reads an Escargot database: a SQLite file or a postgres://
// URL. A source that is not an Escargot database gets an error naming what
// is missing.
func OpenEscargot(ctx context.Context, src string) (Source, error) {
	var dial gorm.Dialector
	pg := strings.HasPrefix(src, "postgres://") || strings.HasPrefix(src, "postgresql://")
	if pg {
		dial = postgres.Open(src)
	} else {
		f, err := os.Open(src)
		if err != nil {
			return nil, fmt.Errorf("escargot source: %w", err)
		}
		head := make([]byte, 16)
		_, err = io.ReadFull(f, head)
		f.Close()
		if err != nil || string(head) != "SQLite format 3\x00" {
			return nil, fmt.Errorf("escargot source %s: not an SQLite database (and not a postgres:// URL)", src)
		}
		dial = sqliteReadOnly(src)
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("escargot source %s: %w", redact(src), err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	db = db.WithContext(ctx)
	optional := map[string]bool{}
	for _, table := range []string{"t_user", "t_user_contact"} {
		var cols []string
		if pg {
			err = db.Raw(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`, table).Scan(&cols).Error
		} else {
			err = db.Raw(`SELECT name FROM pragma_table_info(?)`, table).Scan(&cols).Error
		}
		if err != nil {
			return nil, fmt.Errorf("escargot source %s: reading the schema: %w", redact(src), err)
		}
		if len(cols) == 0 {
			return nil, fmt.Errorf("escargot source %s: not an Escargot database: table %s is missing", redact(src), table)
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[strings.ToLower(c)] = true
		}
		if table == "t_user_contact" {
			for _, c := range escargotDetailColumns {
				optional[c] = have[c]
			}
		}
		var missing []string
		for _, c := range escargotColumns[table] {
			if !have[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("escargot source %s: not an Escargot database: table %s lacks column(s) %s", redact(src), table, strings.Join(missing, ", "))
		}
	}
	return readEscargot(db, redact(src), optional)
}

type escUser struct {
	ID           int64
	UUID         string
	Email        string
	FriendlyName string
	Password     string
	Groups       string
	Settings     string
	DateCreated  string
}

type escContact struct {
	UserID          int64
	ContactID       int64
	UUID            string
	Name            string
	Lists           int
	Pending         bool
	Groups          string
	IsMessengerUser bool
	Nickname        *string
	FirstName       *string
	MiddleName      *string
	LastName        *string
	Notes           *string
	Birthdate       *string
}

type escGroup struct {
	ID         string `json:"id"`
	UUID       string `json:"uuid"`
	Name       string `json:"name"`
	IsFavorite bool   `json:"is_favorite"`
}

// escargotDetailColumns are the AB contact details the import carries over
// when the table has them (ABContactUpdate writes them in Escargot).
var escargotDetailColumns = []string{"first_name", "middle_name", "last_name", "notes", "birthdate"}

func readEscargot(db *gorm.DB, name string, have map[string]bool) (Source, error) {
	details := ""
	for _, c := range escargotDetailColumns {
		expr := "CAST(" + c + " AS TEXT)"
		if !have[c] {
			expr = "NULL"
		}
		details += ", " + expr + " AS " + c
	}
	var users []escUser
	if err := db.Raw(`SELECT id, uuid, email, friendly_name, password, CAST("groups" AS TEXT) AS groups, CAST(settings AS TEXT) AS settings, CAST(date_created AS TEXT) AS date_created FROM t_user ORDER BY id`).Scan(&users).Error; err != nil {
		return nil, fmt.Errorf("escargot source %s: reading t_user: %w", name, err)
	}
	var rows []escContact
	if err := db.Raw(`SELECT user_id, contact_id, uuid, name, lists, pending, CAST("groups" AS TEXT) AS groups, is_messenger_user, nickname` + details + ` FROM t_user_contact ORDER BY user_id, contact_id`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("escargot source %s: reading t_user_contact: %w", name, err)
	}
	byID := map[int64]*escUser{}
	for i := range users {
		byID[users[i].ID] = &users[i]
	}
	perUser := map[int64][]escContact{}
	for _, r := range rows {
		perUser[r.UserID] = append(perUser[r.UserID], r)
	}
	s := &escargotSource{name: name, errs: map[int]error{}}
	for _, u := range users {
		d, err := escargotDoc(&u, perUser[u.ID], byID)
		if d == nil {
			d = &AccountDoc{V: FormatVersion, Email: u.Email}
		}
		if err != nil {
			s.errs[len(s.docs)] = err
		}
		s.docs = append(s.docs, d)
		s.ids = append(s.ids, u.ID)
	}
	return s, nil
}

// escargotDoc converts one Escargot user with its contact rows, applying
// EXPECTED.md's mapping: lists bits as stored; PL = pending AND RL AND NOT
// (AL OR BL); groups matched by uuid; display name = the cached name;
// nickname = AB.NickName; BLP/GTC defaulting to AL/A (null = unset).
func escargotDoc(u *escUser, rows []escContact, byID map[int64]*escUser) (*AccountDoc, error) {
	d := &AccountDoc{V: FormatVersion, Email: u.Email, DisplayName: u.FriendlyName, PasswordHash: u.Password, meGUID: u.UUID}
	if t, ok := escTime(u.DateCreated); ok {
		d.Created = t.UTC().Format(time.RFC3339Nano)
	}
	var settings map[string]any
	if err := json.Unmarshal([]byte(u.Settings), &settings); err != nil {
		return d, fmt.Errorf("settings column is not a JSON object: %v", err)
	}
	if v, ok := settings["BLP"].(string); ok && (v == models.BLPAllow || v == models.BLPBlock) {
		d.BLP = v
	}
	if v, ok := settings["GTC"].(string); ok && (v == models.GTCAsk || v == models.GTCNone) {
		d.GTC = v
	}
	if v, ok := settings["MPOP"].(string); ok {
		d.MPOP = v
	}
	// groups is a JSON array, or {} for accounts script/user.py made.
	var groups []escGroup
	if g := strings.TrimSpace(u.Groups); g != "{}" {
		if err := json.Unmarshal([]byte(g), &groups); err != nil {
			return d, fmt.Errorf("groups column is not a JSON array: %v", err)
		}
	}
	byUUID := map[string]string{}
	for _, g := range groups {
		d.Groups = append(d.Groups, GroupDoc{Name: g.Name, Favorite: g.IsFavorite, guid: g.UUID})
		byUUID[strings.ToLower(g.UUID)] = g.Name
	}
	for _, r := range rows {
		other := byID[r.ContactID]
		if other == nil {
			return d, fmt.Errorf("contact row points at missing account (t_user id %d)", r.ContactID)
		}
		bits := r.Lists & (listbits.FL | listbits.AL | listbits.BL | listbits.RL)
		if r.Pending && bits&listbits.RL != 0 && bits&(listbits.AL|listbits.BL) == 0 {
			bits |= listbits.PL
		}
		if bits == 0 {
			continue
		}
		c := ContactDoc{Email: other.Email, guid: other.UUID}
		c.setBits(bits)
		if bits&listbits.FL != 0 {
			c.DisplayName = r.Name
			if r.Nickname != nil {
				c.Nickname = *r.Nickname
			}
			c.FirstName, c.MiddleName, c.LastName, c.Comment = deref(r.FirstName), deref(r.MiddleName), deref(r.LastName), deref(r.Notes)
			if t, ok := escTime(deref(r.Birthdate)); ok {
				c.Birthdate = t.Format(birthdateLayout)
			}
			if !r.IsMessengerUser {
				f := false
				c.Messenger = &f
			}
			var gs []escGroup
			_ = json.Unmarshal([]byte(r.Groups), &gs)
			for _, g := range gs {
				if n, ok := byUUID[strings.ToLower(g.UUID)]; ok {
					c.Groups = append(c.Groups, n)
				}
			}
			sort.Strings(c.Groups)
		} else if bits&(listbits.RL|listbits.PL) != 0 {
			c.DisplayName = r.Name
		}
		d.Contacts = append(d.Contacts, c)
	}
	return d, nil
}

// escTime reads an Escargot DATETIME: text "YYYY-MM-DD HH:MM:SS.ffffff"
// (naive UTC) in SQLite, a timestamp in Postgres.
func escTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), true
	case []byte:
		return escTime(string(x))
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999-07:00"} {
			if t, err := time.Parse(layout, x); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// redact hides a password in a postgres:// URL.
func redact(src string) string {
	if i := strings.Index(src, "://"); i >= 0 {
		if at := strings.LastIndexByte(src, '@'); at > i {
			cred := src[i+3 : at]
			if u, _, ok := strings.Cut(cred, ":"); ok {
				return src[:i+3] + u + ":***" + src[at:]
			}
		}
	}
	return src
}

// Name identifies the source in summaries and import_state.
func (s *escargotSource) Name() string { return "escargot:" + s.name }

// Count is the number of accounts (-1 before the first pass for a file).
func (s *escargotSource) Count() int { return len(s.docs) }

// Each calls fn for every account in source order (see Source).
func (s *escargotSource) Each(ctx context.Context, fn func(d *AccountDoc, where string, bad error) error) error {
	for i, d := range s.docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		cp := cloneDoc(d)
		if err := fn(cp, fmt.Sprintf("t_user id %d", s.ids[i]), s.errs[i]); err != nil {
			return err
		}
	}
	return nil
}

func cloneDoc(d *AccountDoc) *AccountDoc {
	cp := *d
	cp.Groups = append([]GroupDoc(nil), d.Groups...)
	cp.Contacts = make([]ContactDoc, len(d.Contacts))
	for i, c := range d.Contacts {
		c.Groups = append([]string(nil), c.Groups...)
		if c.Lists != nil {
			b := *c.Lists
			c.Lists = &b
		}
		cp.Contacts[i] = c
	}
	return &cp
}

func sqliteReadOnly(path string) gorm.Dialector {
	return sqlite.Open("file:" + path + "?mode=ro&_pragma=busy_timeout(5000)")
}

// openRead opens an SQLite file read-only (tests copy fixtures with it).
func openRead(path string) (*gorm.DB, error) {
	return gorm.Open(sqliteReadOnly(path), &gorm.Config{Logger: logger.Discard})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
