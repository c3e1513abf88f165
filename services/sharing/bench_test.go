package sharing_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// BenchmarkFindMembership300 measures FindMembership of an account with 300
// members through the real HTTP stack (loopback, ticket check included):
//
//	full-cached:   the same revision asked again (the answer cache hits);
//	full-uncached: the revision moves before every call (timer stopped), so
//	               every answer is read from the database and rendered;
//	delta-all:     deltasOnly from the account's first revision (300 rows,
//	               never cached).
//
// Run: ABCH_TEST_DATABASE_URL=... go test ./services/sharing -run '^$' -bench FindMembership300 -benchtime 2s
func BenchmarkFindMembership300(b *testing.B) {
	dbs := []testenv.DB{{Name: store.DialectSQLite}}
	if os.Getenv("ABCH_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, testenv.DB{Name: store.DialectPostgres})
	}
	for _, db := range dbs {
		b.Run(db.Name, func(b *testing.B) {
			e := newEnv(b, testenv.Config(b, db))
			owner := e.account("owner@example.com", "Owner")
			first := revision(b, e, owner)
			ctx := context.Background()
			var specs []models.MemberSpec
			for i := 0; i < 200; i++ {
				role := models.RoleAllow
				if i%4 == 3 {
					role = models.RoleBlock
				}
				specs = append(specs, models.MemberSpec{Role: role, Type: models.MemberPassport, Name: fmt.Sprintf("friend%03d@example.com", i)})
			}
			if _, err := e.Store.AddMembers(ctx, owner.ID, specs); err != nil {
				b.Fatal(err)
			}
			err := e.Store.Write(ctx, func(t *store.Txn) error {
				if err := t.Bump(owner.ID); err != nil {
					return err
				}
				for i := 0; i < 100; i++ {
					ref := store.MemberRef{Type: models.MemberPassport, Name: fmt.Sprintf("fan%03d@example.com", i), CID: int64(i + 1)}
					if _, _, err := t.PutMember(owner.ID, models.RoleReverse, ref, fmt.Sprintf("Fan %d", i), "", nil); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			// Tickets are minted once: the loop measures the server only.
			tt := strings.ReplaceAll(e.ticket(owner), "&", "&amp;")
			withTicket := func(body string) string {
				return strings.Replace(body, "<TicketToken>x</TicketToken>", "<TicketToken>"+tt+"</TicketToken>", 1)
			}
			full := withTicket(findBody(""))
			delta := withTicket(findBody(models.FormatRevision(first)))
			post := func(body string) reply { return e.postPath(nil, "/abservice/SharingService.asmx", body, nil) }
			check := func(r reply) {
				if r.Status != 200 || len(r.Body) < 300*500 {
					b.Fatalf("answer %d, %d bytes", r.Status, len(r.Body))
				}
			}
			b.Run("full-cached", func(b *testing.B) {
				check(post(full))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					check(post(full))
				}
			})
			b.Run("full-uncached", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					if err := e.Store.Write(ctx, func(t *store.Txn) error { return t.Bump(owner.ID) }); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					check(post(full))
				}
			})
			b.Run("delta-all", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					check(post(delta))
				}
			})
		})
	}
}
