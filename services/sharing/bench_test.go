package sharing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
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

// BenchmarkFindMembershipUncached is the uncached full FindMembership of
// issue 19: a server with its answer cache off (ABCH_SHARING_CACHE_BYTES=0),
// 16 concurrent clients (parallelism 8 on GOMAXPROCS=2) asking for the same
// account's lists — 300 peers on Allow, every other one on Reverse too —
// so every request reads and renders them; on both databases. ns/op is
// wall time over all clients (the inverse of throughput). "rows" reads the
// rows every time (ABCH_STORED_ANSWERS=off), "stored" the answer stored in
// the database for the account's revision (on, the default).
func BenchmarkFindMembershipUncached(b *testing.B) {
	dbs := []testenv.DB{{Name: store.DialectSQLite}}
	if os.Getenv("ABCH_TEST_DATABASE_URL") != "" {
		dbs = append(dbs, testenv.DB{Name: store.DialectPostgres})
	}
	for _, db := range dbs {
		for _, stored := range []string{"off", "on"} {
			name := db.Name + "/rows"
			if stored == "on" {
				name = db.Name + "/stored"
			}
			benchFindMembershipUncached(b, db, name, stored)
		}
	}
}

func benchFindMembershipUncached(b *testing.B, db testenv.DB, name, stored string) {
	b.Run(name, func(b *testing.B) {
		cfg := testenv.Config(b, db)
		cfg.LogLevel = "error"
		cfg.SharingCacheBytes = 0
		cfg.StoredAnswers = stored
		s := testenv.StartServer(b, cfg)
		ctx := context.Background()
		owner, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: "owner@bench.example", DisplayName: "Owner"})
		if err != nil {
			b.Fatal(err)
		}
		peers, err := s.Store.SeedPeers(ctx, "peer", "bench.example", 300)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Store.SeedMembers(ctx, owner.ID, peers); err != nil {
			b.Fatal(err)
		}
		tt := strings.ReplaceAll(s.Deps.Tickets.Issue(owner.ID, owner.TokenVersion, auth.AudContacts).Text(), "&", "&amp;")
		body := strings.Replace(findBody(""), "<TicketToken>x</TicketToken>", "<TicketToken>"+tt+"</TicketToken>", 1)
		url := "http://" + s.HTTPAddr + "/abservice/SharingService.asmx"
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
		fetch := func() int64 {
			resp, err := c.Post(url, "text/xml; charset=utf-8", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || n != resp.ContentLength {
				b.Fatalf("status %d, %d of %d bytes: %v", resp.StatusCode, n, resp.ContentLength, err)
			}
			return n
		}
		if n := fetch(); n < 450*400 {
			b.Fatalf("answer of %d bytes for 450 memberships", n)
		}
		if err := s.Store.FlushAnswers(ctx); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				fetch()
			}
		})
	})
}
