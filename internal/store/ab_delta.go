package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/abch-im/abch/models"
)

// AccountCheck judges the account row a read loads before any of the
// account's data is used: the ticket check (disabled account, ticket from
// before a password change). A nil account means there is no such row.
type AccountCheck func(*models.Account) error

// LoadDelta is a delta read of ownerID's book that also loads the owner's
// account row and hands it to check, for a caller whose ticket signature is
// verified but whose account state is not: check's error is returned as is,
// and nothing read is returned unless check passes. The cursor rules are
// LoadBook's.
//
// On Postgres the account read and the two row reads travel as one
// pipelined batch: one round trip in all, which is most of what a small
// delta costs (BENCHMARKS.md). The statements still run one after another
// (account, contacts, groups), so the consistency argument of LoadBook
// holds unchanged: a row committed after the account read is at worst sent
// again by the next delta. The row reads run even when check will refuse;
// their result is dropped unread, never rendered.
func (s *Store) LoadDelta(ctx context.Context, ownerID, since int64, check AccountCheck) (*Book, error) {
	if s.Dialect != DialectPostgres {
		owner, err := s.AccountByID(ctx, ownerID)
		if models.ErrorCode(err) == models.CodeNotFound {
			owner, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		if err := check(owner); err != nil {
			return nil, err
		}
		return s.LoadBookOf(ctx, ownerID, owner, true, since)
	}
	b, found, err := s.pipelinedDelta(ctx, ownerID, since)
	if err != nil {
		return nil, translate(err)
	}
	if !found {
		return nil, check(nil)
	}
	if err := check(&b.Owner); err != nil {
		return nil, err
	}
	if err := checkCursor(&b.Owner, since, s.horizonRev()); err != nil {
		return nil, err
	}
	if since == b.Owner.Revision {
		// Nothing is newer than the book's own revision; a row the batch
		// saw beyond it belongs to the next delta.
		b.Groups, b.Contacts = nil, nil
		return b, nil
	}
	sortMeFirst(b.Contacts)
	return b, nil
}

// pipelinedDelta sends the account read and the delta's row reads as one
// pgx batch on a pooled connection.
func (s *Store) pipelinedDelta(ctx context.Context, ownerID, since int64) (*Book, bool, error) {
	acc, err := s.columnsOf(&models.Account{})
	if err != nil {
		return nil, false, err
	}
	con, err := s.columnsOf(&models.Contact{})
	if err != nil {
		return nil, false, err
	}
	grp, err := s.columnsOf(&models.Group{})
	if err != nil {
		return nil, false, err
	}
	sqlDB, err := s.DB.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Close()

	b := &Book{Delta: true}
	found := false
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("store: connection is %T, not pgx", dc)
		}
		batch := &pgx.Batch{}
		batch.Queue(`SELECT `+acc.list("")+` FROM accounts WHERE id = $1`, ownerID)
		batch.Queue(`SELECT `+con.list("c")+`, g.guid FROM contacts c
			LEFT JOIN contact_groups cg ON cg.contact_id = c.id
			LEFT JOIN ab_groups g ON g.id = cg.group_id AND NOT g.deleted
			WHERE c.owner_id = $1 AND c.rev > $2 ORDER BY c.id, g.id`, ownerID, since)
		// Groups after contacts, as in loadRows: every group a returned
		// link points to is returned too (or its tombstone).
		batch.Queue(`SELECT `+grp.list("")+` FROM ab_groups WHERE owner_id = $1 AND rev > $2 ORDER BY id`, ownerID, since)
		br := c.Conn().SendBatch(ctx, batch)
		defer br.Close()

		rows, _ := br.Query()
		if _, err := pgx.ForEachRow(rows, acc.targets(&b.Owner), func() error { found = true; return nil }); err != nil {
			return err
		}
		// pgx allocates afresh what a nullable column points to, so each
		// row's copy of ct is its own.
		var ct models.Contact
		var groupGUID *string
		rows, _ = br.Query()
		_, err := pgx.ForEachRow(rows, append(con.targets(&ct), &groupGUID), func() error {
			if n := len(b.Contacts); n == 0 || b.Contacts[n-1].ID != ct.ID {
				b.Contacts = append(b.Contacts, BookContact{Contact: ct})
			}
			if groupGUID != nil {
				last := &b.Contacts[len(b.Contacts)-1]
				last.GroupGUIDs = append(last.GroupGUIDs, *groupGUID)
			}
			return nil
		})
		if err != nil {
			return err
		}
		var g models.Group
		rows, _ = br.Query()
		if _, err := pgx.ForEachRow(rows, grp.targets(&g), func() error { b.Groups = append(b.Groups, g); return nil }); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return nil, false, err
	}
	return b, found, nil
}

// modelColumns is a model's column list and the fields they scan into, as
// GORM maps them: the pipelined read uses pgx directly but GORM's column
// names, so both readers agree on every column.
type modelColumns struct {
	names  []string
	fields []*schema.Field
}

// list renders the columns for a SELECT, qualified by alias when set.
func (m *modelColumns) list(alias string) string {
	var sb strings.Builder
	for i, n := range m.names {
		if i > 0 {
			sb.WriteString(", ")
		}
		if alias != "" {
			sb.WriteString(alias)
			sb.WriteByte('.')
		}
		sb.WriteString(n)
	}
	return sb.String()
}

// targets returns pointers to dst's fields in column order.
func (m *modelColumns) targets(dst any) []any {
	v := reflect.ValueOf(dst).Elem()
	out := make([]any, len(m.fields), len(m.fields)+1)
	for i, f := range m.fields {
		out[i] = v.FieldByIndex(f.StructField.Index).Addr().Interface()
	}
	return out
}

// columnsOf parses model's GORM schema once.
func (s *Store) columnsOf(model any) (*modelColumns, error) {
	t := reflect.TypeOf(model)
	if m, ok := s.columns.Load(t); ok {
		return m.(*modelColumns), nil
	}
	stmt := &gorm.Statement{DB: s.DB}
	if err := stmt.Parse(model); err != nil {
		return nil, err
	}
	m := &modelColumns{}
	for _, f := range stmt.Schema.Fields {
		if f.DBName == "" {
			continue
		}
		m.names = append(m.names, f.DBName)
		m.fields = append(m.fields, f)
	}
	s.columns.Store(t, m)
	return m, nil
}
