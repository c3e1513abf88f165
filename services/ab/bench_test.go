package ab_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// benchServer starts abch on Postgres; edit, when set, changes its
// configuration first.
func benchServer(b *testing.B, edit ...func(*config.Config)) (*server.Server, *http.Client) {
	b.Helper()
	cfg := testenv.Config(b, testenv.DB{Name: store.DialectPostgres})
	cfg.LogLevel = "error"
	for _, f := range edit {
		f(&cfg)
	}
	s := testenv.StartServer(b, cfg)
	return s, &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
}

func seedOwner(b *testing.B, s *server.Server, name string, contacts int) (*models.Account, string) {
	b.Helper()
	ctx := context.Background()
	owner, err := s.Store.CreateAccount(ctx, store.NewAccount{Email: name + "@bench.example", DisplayName: name})
	if err != nil {
		b.Fatal(err)
	}
	peers, err := s.Store.SeedPeers(ctx, "peer", "bench.example", contacts)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Store.SeedBook(ctx, owner.ID, peers, 10); err != nil {
		b.Fatal(err)
	}
	return owner, s.Deps.Tickets.Issue(owner.ID, owner.TokenVersion, auth.AudContacts).Text()
}

func postAB(b *testing.B, c *http.Client, url, body string) string {
	resp, err := c.Post(url, "text/xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("status %d: %.300s", resp.StatusCode, out)
	}
	return string(out)
}

// fetchDiscard posts body and reads the answer into nothing (a client that
// parses as it reads), checking status and length.
func fetchDiscard(b *testing.B, c *http.Client, url, body string) {
	resp, err := c.Post(url, "text/xml; charset=utf-8", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || n != resp.ContentLength {
		b.Fatalf("status %d, %d of %d bytes: %v", resp.StatusCode, n, resp.ContentLength, err)
	}
}

var fullFind = op("ABFindAll", `<abView>Full</abView><deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`)

// BenchmarkFindAllFull measures full ABFindAll over loopback HTTP with
// Postgres, 16 concurrent clients (b.SetParallelism on GOMAXPROCS=2).
// "cached" is the steady state (book unchanged since the last fetch);
// "uncached" changes the book before every fetch (timer stopped) so each
// fetch reads and renders it from the database.
func BenchmarkFindAllFull(b *testing.B) {
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	s, c := benchServer(b)
	url := "http://" + s.HTTPAddr + "/abservice/abservice.asmx"
	for _, n := range []int{10, 300, 1000} {
		_, tk := seedOwner(b, s, fmt.Sprintf("full%d", n), n)
		body := envelope(tk, fullFind)
		b.Run(fmt.Sprintf("cached/%d", n), func(b *testing.B) {
			postAB(b, c, url, body)
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fetchDiscard(b, c, url, body)
				}
			})
		})
		b.Run(fmt.Sprintf("uncached/%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				touch(b, c, url, tk, s.Store, i)
				b.StartTimer()
				fetchDiscard(b, c, url, body)
			}
		})
	}
}

// touch changes the owner's display name (one row, one revision bump) and
// waits until the relay has published the change's events, so the
// background publish does not run inside the timed request that follows.
func touch(b *testing.B, c *http.Client, url, tk string, st *store.Store, i int) {
	postAB(b, c, url, envelope(tk, op("ABContactUpdate", fmt.Sprintf(`<contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Name %d</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts>`, i))))
	settle(b, st)
}

// settle waits for st's outbox to drain.
func settle(b *testing.B, st *store.Store) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		rows, err := st.UnpublishedEvents(context.Background(), 1)
		if err != nil {
			b.Fatal(err)
		}
		if len(rows) == 0 {
			return
		}
	}
	b.Fatalf("outbox did not drain")
}

// BenchmarkDelta1Change measures a delta ABFindAll carrying one change in
// a 10- and a 1,000-contact book: the same work whatever the size of the
// book. Only the request and the reading of its answer are timed, as in the
// uncached full fetch it is compared with; the change before it, building
// the envelope and checking the answer run with the timer stopped.
func BenchmarkDelta1Change(b *testing.B) {
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	s, c := benchServer(b)
	url := "http://" + s.HTTPAddr + "/abservice/abservice.asmx"
	for _, n := range []int{10, 1000} {
		_, tk := seedOwner(b, s, fmt.Sprintf("delta%d", n), n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cursor := abLastChange(b, reply{Body: postAB(b, c, url, envelope(tk, fullFind))})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				touch(b, c, url, tk, s.Store, i)
				delta := envelope(tk, op("ABFindAll", `<abView>Full</abView><deltasOnly>true</deltasOnly><lastChange>`+cursor+`</lastChange>`))
				b.StartTimer()
				out := postAB(b, c, url, delta)
				b.StopTimer()
				if strings.Count(out, "<Contact>") != 1 {
					b.Fatalf("delta should carry exactly one contact")
				}
				cursor = abLastChange(b, reply{Body: out})
				b.StartTimer()
			}
		})
	}
}

// uncachedBook starts abch on Postgres with the AB answer cache off
// (ABCH_AB_CACHE_BYTES=0, so every full fetch reads and renders the book) and
// seeds an owner with contacts; it returns the server, a client, the AB URL
// and the owner's ticket.
func uncachedBook(b *testing.B, name string, contacts int) (*server.Server, *http.Client, string, string) {
	b.Helper()
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	s, c := benchServer(b, func(cfg *config.Config) { cfg.ABCacheBytes = 0 })
	_, tk := seedOwner(b, s, name, contacts)
	return s, c, "http://" + s.HTTPAddr + "/abservice/abservice.asmx", tk
}

// BenchmarkDeltaVsFull compares a 1-change delta with a full fetch of a
// 1,000-contact book on a server whose answer cache is off
// (ABCH_AB_CACHE_BYTES=0), so every full fetch reads and renders the book.
// The delta's cursor is just before the book's last change, so every
// answer carries exactly that one change, and the same request can be
// repeated. "1client" is one client's request after request (the latency
// of each); "16clients" is 16 concurrent clients (parallelism 8 on
// GOMAXPROCS=2), whose ns/op is wall time over all clients: the inverse of
// throughput, i.e. what each read costs a busy server.
func BenchmarkDeltaVsFull(b *testing.B) {
	s, c, url, tk := uncachedBook(b, "load", 1000)
	cursor := abLastChange(b, reply{Body: postAB(b, c, url, envelope(tk, fullFind))})
	touch(b, c, url, tk, s.Store, 0)
	delta := envelope(tk, op("ABFindAll", `<abView>Full</abView><deltasOnly>true</deltasOnly><lastChange>`+cursor+`</lastChange>`))
	if out := postAB(b, c, url, delta); strings.Count(out, "<Contact>") != 1 {
		b.Fatalf("delta should carry exactly one contact")
	}
	reads := []struct{ name, body string }{{"full", envelope(tk, fullFind)}, {"delta1", delta}}
	for _, r := range reads {
		b.Run("1client/"+r.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fetchDiscard(b, c, url, r.body)
			}
		})
	}
	for _, r := range reads {
		b.Run("16clients/"+r.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					fetchDiscard(b, c, url, r.body)
				}
			})
		})
	}
}

// BenchmarkDeltaChanges measures a delta of 1, 10 and 100 changed contacts
// in a 1,000-contact book (cache off): the cost of a delta follows the number
// of changes, not the size of the book. Each sub-benchmark renames k
// contacts in one ABContactUpdate and then repeats the delta at the cursor
// just before it, so every answer carries exactly those k contacts.
func BenchmarkDeltaChanges(b *testing.B) {
	s, c, url, tk := uncachedBook(b, "changes", 1000)
	full := postAB(b, c, url, envelope(tk, fullFind))
	ids := contactIDs(full)
	if len(ids) < 1000 {
		b.Fatalf("%d contact ids in the full answer", len(ids))
	}
	for _, k := range []int{1, 10, 100} {
		cursor := abLastChange(b, reply{Body: postAB(b, c, url, envelope(tk, fullFind))})
		var upd strings.Builder
		for _, id := range ids[:k] {
			fmt.Fprintf(&upd, `<Contact><contactId>%s</contactId><contactInfo><displayName>renamed %d</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact>`, id, k)
		}
		postAB(b, c, url, envelope(tk, op("ABContactUpdate", "<contacts>"+upd.String()+"</contacts>")))
		settle(b, s.Store)
		delta := envelope(tk, op("ABFindAll", `<abView>Full</abView><deltasOnly>true</deltasOnly><lastChange>`+cursor+`</lastChange>`))
		if n := strings.Count(postAB(b, c, url, delta), "<Contact>"); n != k {
			b.Fatalf("delta carries %d contacts, want %d", n, k)
		}
		b.Run(fmt.Sprint(k), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				fetchDiscard(b, c, url, delta)
			}
		})
	}
}

// contactIDs returns the contactIds of the regular contacts of an ABFindAll
// answer (the Me contact, whose contactType is Me, left out).
func contactIDs(answer string) []string {
	var ids []string
	for _, part := range strings.Split(answer, "<Contact>")[1:] {
		if strings.Contains(part, "<contactType>Me</contactType>") {
			continue
		}
		start := strings.Index(part, "<contactId>")
		end := strings.Index(part, "</contactId>")
		if start >= 0 && end > start {
			ids = append(ids, part[start+len("<contactId>"):end])
		}
	}
	return ids
}

// BenchmarkFindAllUncached is the uncached full ABFindAll of issue 19: a
// server with its answer cache off (ABCH_AB_CACHE_BYTES=0), 16 concurrent
// clients (parallelism 8 on GOMAXPROCS=2) fetching the same book, so every
// request reads and renders it; on both databases, 300 and 1,000 contacts.
// ns/op is wall time over all clients (the inverse of throughput). "rows"
// reads the rows every time (ABCH_STORED_ANSWERS=off), "stored" the answer
// stored in the database for the book's revision (on, the default).
func BenchmarkFindAllUncached(b *testing.B) {
	if testing.Short() {
		b.Skip("needs Postgres")
	}
	for _, db := range []string{store.DialectSQLite, store.DialectPostgres} {
		for _, stored := range []string{"off", "on"} {
			name := db + "/rows"
			if stored == "on" {
				name = db + "/stored"
			}
			benchFindAllUncached(b, db, name, stored)
		}
	}
}

func benchFindAllUncached(b *testing.B, db, name, stored string) {
	b.Run(name, func(b *testing.B) {
		cfg := testenv.Config(b, testenv.DB{Name: db})
		cfg.LogLevel = "error"
		cfg.ABCacheBytes = 0
		cfg.StoredAnswers = stored
		s := testenv.StartServer(b, cfg)
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
		url := "http://" + s.HTTPAddr + "/abservice/abservice.asmx"
		for _, n := range []int{300, 1000} {
			_, tk := seedOwner(b, s, fmt.Sprintf("uncached%d", n), n)
			body := envelope(tk, fullFind)
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				postAB(b, c, url, body)
				if err := s.Store.FlushAnswers(context.Background()); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism(8)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						fetchDiscard(b, c, url, body)
					}
				})
			})
		}
	})
}
