package ns_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// Benchmarks of the NS through abch's real stack (testenv.StartServer: the
// NS API over loopback HTTP, NATS, the database) over MSNP sockets. The
// load command for the issue-12 figures is `abch bench --mode ns`
// (BENCHMARKS.md); these are its small, repeatable counterparts.
//
//	go test ./services/ns/ -run X -bench . -benchtime 2s

// nsBenchAccounts seeds n accounts (prefix-i@bench.example) in a ring where
// each has the c around it on FL, AL and RL (store seeding, not SOAP).
func nsBenchAccounts(b *testing.B, s *server.Server, prefix string, n, c int) []models.Account {
	b.Helper()
	ctx := context.Background()
	accts, err := s.Store.SeedPeers(ctx, prefix, "bench.example", n)
	if err != nil {
		b.Fatal(err)
	}
	for i := range accts {
		var peers []models.Account
		for d := 1; d <= c/2; d++ {
			peers = append(peers, accts[(i+d)%n], accts[(i-d+n)%n])
		}
		if err := s.Store.SeedBook(ctx, accts[i].ID, peers, 0); err != nil {
			b.Fatal(err)
		}
		benchMembers(b, s, &accts[i], peers)
	}
	return accts
}

// benchMembers puts every peer on owner's AL and RL, as the Address Book
// service leaves them when both add each other (store.SeedMembers puts
// only half on RL, for the Sharing benchmarks).
func benchMembers(b *testing.B, s *server.Server, owner *models.Account, peers []models.Account) {
	b.Helper()
	now := time.Now().UTC()
	var ms []*models.Membership
	for i := range peers {
		p := &peers[i]
		id := p.ID
		for _, role := range []string{models.RoleAllow, models.RoleReverse} {
			ms = append(ms, &models.Membership{OwnerID: owner.ID, Role: role, MemberType: models.MemberPassport,
				MemberName: p.EmailLower, MemberAccountID: &id, CID: p.CID, DisplayName: p.DisplayName,
				Annotations: "[]", State: "Accepted", JoinedAt: now, Rev: owner.Revision, CreatedAt: now, UpdatedAt: now})
		}
	}
	if err := s.Store.DB.Create(ms).Error; err != nil {
		b.Fatal(err)
	}
}

// benchConn is a minimal MSNP client that reports errors instead of
// failing the benchmark (it runs in RunParallel goroutines).
type benchConn struct {
	c net.Conn
	r *bufio.Reader
}

// benchPayload lists the server commands whose last number is a payload
// length ("ADL trid OK" ends in OK).
var benchPayload = map[string]bool{"MSG": true, "GCF": true, "UBX": true, "NOT": true, "ADL": true, "RML": true, "FQY": true}

// line returns the next server command line; its payload is skipped.
func (bc *benchConn) line() (string, error) {
	l, err := bc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	l = strings.TrimRight(l, "\r\n")
	f := strings.Fields(l)
	if len(f) >= 2 && benchPayload[f[0]] {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil && n > 0 {
			if _, err := bc.r.Discard(n); err != nil {
				return "", err
			}
		}
	}
	return l, nil
}

// do writes cmd and reads until a line starting with want.
func (bc *benchConn) do(cmd, want string) error {
	if _, err := io.WriteString(bc.c, cmd); err != nil {
		return err
	}
	for {
		l, err := bc.line()
		if err != nil {
			return fmt.Errorf("after %q waiting for %q: %w", cmd, want, err)
		}
		if strings.HasPrefix(l, want) {
			return nil
		}
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "OUT" || f[0][0] >= '0' && f[0][0] <= '9') {
			return fmt.Errorf("after %q: %q", cmd, l)
		}
	}
}

// benchSignIn signs a in over MSNP13 the way pidgin 2.4.3 does (capture
// pidgin-2.4.3-msnp13-login/ns.log), ADL listing fl.
func benchSignIn(addr string, a *models.Account, ticket string, fl []models.Account) (*benchConn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	bc := &benchConn{c: c, r: bufio.NewReaderSize(c, 1024)}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var ml strings.Builder
	ml.WriteString("<ml l='1'>")
	for _, p := range fl {
		local, domain, _ := strings.Cut(p.EmailLower, "@")
		fmt.Fprintf(&ml, "<d n='%s'><c n='%s' l='3' t='1'/></d>", domain, local)
	}
	ml.WriteString("</ml>")
	const uux = `<Data><PSM></PSM><CurrentMedia></CurrentMedia><MachineGuid>{F26D1F07-95E2-403C-BC18-D4BFED493428}</MachineGuid></Data>`
	steps := [][2]string{
		{"VER 1 MSNP14 MSNP13 CVR0\r\n", "VER 1 MSNP13"},
		{"CVR 2 0x0804 winnt 5.1 i386 MSNMSGR 8.0.0792 msmsgs " + a.Email + "\r\n", "CVR 2 "},
		{"USR 3 TWN I " + a.Email + "\r\n", "USR 3 TWN S "},
		{"USR 4 TWN S " + ticket + "\r\n", "USR 4 OK "},
		{"BLP 5 AL\r\n", "BLP 5 AL"},
		{"ADL 6 " + strconv.Itoa(ml.Len()) + "\r\n" + ml.String(), "ADL 6 OK"},
		{"PRP 7 MFN " + strings.ReplaceAll(a.DisplayName, " ", "%20") + "\r\n", "PRP 7 MFN "},
		{"CHG 8 NLN 1073741856\r\n", "CHG 8 NLN"},
		{"UUX 9 " + strconv.Itoa(len(uux)) + "\r\n" + uux, "UUX 9 0"},
		{"BLP 10 AL\r\n", "BLP 10 AL"},
	}
	for _, st := range steps {
		if err := bc.do(st[0], st[1]); err != nil {
			c.Close()
			return nil, err
		}
	}
	_ = c.SetDeadline(time.Time{})
	return bc, nil
}

// BenchmarkSignIn is one MSNP13 sign-in (pidgin 2.4.3's ten commands, a
// 10-contact ADL, ticket minted beforehand) then OUT, 8 clients at once
// per GOMAXPROCS; ns/op is the server's time per sign-in under that load.
func BenchmarkSignIn(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			s := testenv.StartServer(b, testenv.Config(b, db))
			accts := nsBenchAccounts(b, s, "signin", 256, 10)
			tickets := make([]string, len(accts))
			for i := range accts {
				tickets[i] = s.Deps.Tickets.Issue(accts[i].ID, accts[i].TokenVersion, auth.AudMessenger).Text()
			}
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1)) % len(accts)
					var fl []models.Account
					for d := 1; d <= 5; d++ {
						fl = append(fl, accts[(i+d)%len(accts)], accts[(i-d+len(accts))%len(accts)])
					}
					bc, err := benchSignIn(s.MSNPAddr, &accts[i], tickets[i], fl)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.WriteString(bc.c, "OUT\r\n")
					_ = bc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
					_, _ = io.Copy(io.Discard, bc.r)
					bc.c.Close()
				}
			})
		})
	}
}

// BenchmarkFanOut50 is one status change (CHG) of a user with 50 online
// watchers, timed until the last watcher has read the NLN; p50 and p99 of
// that time are reported beside ns/op.
func BenchmarkFanOut50(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			s := testenv.StartServer(b, testenv.Config(b, db))
			ctx := context.Background()
			hubs, err := s.Store.SeedPeers(ctx, "hub", "bench.example", 1)
			if err != nil {
				b.Fatal(err)
			}
			hub := hubs[0]
			ws, err := s.Store.SeedPeers(ctx, "watcher", "bench.example", 50)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Store.SeedBook(ctx, hub.ID, ws, 0); err != nil {
				b.Fatal(err)
			}
			benchMembers(b, s, &hub, ws)
			ticket := func(a *models.Account) string {
				return s.Deps.Tickets.Issue(a.ID, a.TokenVersion, auth.AudMessenger).Text()
			}
			var want atomic.Value // the status being timed
			want.Store("")
			got := make(chan struct{}, 64)
			prefix := "NLN "
			for i := range ws {
				if err := s.Store.SeedBook(ctx, ws[i].ID, hubs, 0); err != nil {
					b.Fatal(err)
				}
				benchMembers(b, s, &ws[i], hubs)
				bc, err := benchSignIn(s.MSNPAddr, &ws[i], ticket(&ws[i]), hubs)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { bc.c.Close() })
				go func() {
					for {
						l, err := bc.line()
						if err != nil {
							return
						}
						// NLN status email network friendly clientid msnobj
						if f := strings.SplitN(l, " ", 4); strings.HasPrefix(l, prefix) && len(f) == 4 &&
							f[2] == hub.Email && f[1] == want.Load().(string) {
							got <- struct{}{}
						}
					}
				}()
			}
			h, err := benchSignIn(s.MSNPAddr, &hub, ticket(&hub), ws)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { h.c.Close() })
			go func() { _, _ = io.Copy(io.Discard, h.r) }()
			time.Sleep(200 * time.Millisecond) // the sign-in NLNs
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				status := []string{"AWY", "BSY"}[i%2]
				want.Store(status)
				start := time.Now()
				if _, err := io.WriteString(h.c, "CHG "+strconv.Itoa(11+i)+" "+status+" 1073741856\r\n"); err != nil {
					b.Fatal(err)
				}
				for n := 0; n < len(ws); n++ {
					select {
					case <-got:
					case <-time.After(5 * time.Second):
						b.Fatalf("change %d: %d of %d watchers had the NLN after 5 s", i, n, len(ws))
					}
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[(len(lat)-1)*99/100].Microseconds()), "p99-µs")
		})
	}
}
