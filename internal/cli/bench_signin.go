package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// signinPassword is the password of the accounts the RST step signs in.
const signinPassword = "signin-password"

// signinOptions are the flags of `abch bench --mode signin`.
type signinOptions struct {
	users, contacts, groups, conc int
	duration                      time.Duration
	rounds                        int
	rstUsers                      int
	rstDuration                   time.Duration
}

// runSignin is `abch bench --mode signin`, the sign-in mix at network
// scale (issue 19): a network of --users accounts whose books hold
// --contacts contacts on average (store.SeedNetwork; a rerun reuses it),
// then two measurements against the running server:
//
//   - the RST step alone: --rst-users of the accounts get a password (one
//     argon2id hash at the configured parameters) and are signed in with
//     RequestMultipleSecurityTokens round robin for --rst-duration, so its
//     cost, the password hash, is measured apart from the book reads;
//   - the sign-in mix: each client takes the next user of a shuffled order
//     of all of them (no book is asked twice in a row, so the answer caches
//     cannot help: every user's books are read once per pass) and does what
//     a client does after RST, FindMembership then a full ABFindAll, with
//     tickets minted beforehand. A sign-in is timed from the first request
//     to the end of the second answer.
func (a *app) runSignin(ctx context.Context, st *store.Store, tk *auth.Ticketer, base string, o signinOptions) error {
	base = strings.TrimSuffix(base, "/")
	prefix := fmt.Sprintf("bench-net-%dc", o.contacts)
	fmt.Fprintf(a.stdout, "seeding a network of %d accounts with %d contacts on average (%s-N@bench.example)...\n", o.users, o.contacts, prefix)
	start := time.Now()
	last := time.Now()
	accts, err := st.SeedNetwork(ctx, prefix, "bench.example", o.users, o.contacts, o.groups, func(done int) {
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			fmt.Fprintf(a.stdout, "  %d of %d books (%s)\n", done, o.users, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "network ready in %s\n", time.Since(start).Round(time.Second))
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.conc * 2, MaxConnsPerHost: o.conc * 2}}

	if o.rstUsers > 0 {
		n := min(o.rstUsers, len(accts))
		params := a.argon2()
		hash, err := auth.HashPassword(signinPassword, params)
		if err != nil {
			return err
		}
		bodies := make([]string, n)
		for i := 0; i < n; i++ {
			if err := st.SetPassword(ctx, accts[i].ID, hash, false); err != nil {
				return err
			}
			bodies[i] = rstEnvelope(accts[i].Email, signinPassword)
		}
		fmt.Fprintf(a.stdout, "RST step: %d accounts round robin, argon2id m=%d KiB t=%d p=%d, %d clients for %s\n",
			n, params.MemoryKiB, params.Time, params.Parallelism, o.conc, o.rstDuration)
		if err := a.runRounds(ctx, client, base+"/RST.srf", bodies, o.conc, o.rstDuration, o.rounds, nil); err != nil {
			return fmt.Errorf("RST: %w", err)
		}
	}

	users := make([]signinUser, len(accts))
	for i := range accts {
		t := tk.Issue(accts[i].ID, accts[i].TokenVersion, auth.AudContacts).Text()
		users[i] = signinUser{membership: membershipEnvelope(t), findAll: benchEnvelope(t, "false", models.NeverTimestamp)}
	}
	fmt.Fprintf(a.stdout, "sign-in mix: %d users in shuffled order, FindMembership + full ABFindAll each, %d clients for %s\n", len(users), o.conc, o.duration)
	var rounds []benchRound
	for r := 1; r <= o.rounds; r++ {
		res, err := runSigninMix(ctx, client, base, users, o.conc, o.duration)
		if err != nil {
			return err
		}
		rounds = append(rounds, res.print(a.stdout, r, o.duration))
	}
	if o.rounds > 1 {
		m := medianRound(rounds)
		fmt.Fprintf(a.stdout, "median of %d: %.0f sign-ins/s, p50 %s, p99 %s\n", o.rounds, m.rps, m.p50.Round(10*time.Microsecond), m.p99.Round(10*time.Microsecond))
	}
	return nil
}

// signinUser is one user's two requests, tickets included.
type signinUser struct{ membership, findAll string }

// signinResult is one run of the sign-in mix.
type signinResult struct {
	signin, member, book []time.Duration
	bytes                int64
	errors               int
	firstErr             error
	distinct             int
}

func runSigninMix(ctx context.Context, c *http.Client, base string, users []signinUser, conc int, d time.Duration) (*signinResult, error) {
	order := rand.Perm(len(users))
	var next atomic.Int64
	var (
		mu  sync.Mutex
		res = &signinResult{}
		wg  sync.WaitGroup
	)
	sharing, ab := base+"/abservice/SharingService.asmx", base+"/abservice/abservice.asmx"
	deadline := time.Now().Add(d)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var signin, member, book []time.Duration
			var bytes int64
			var errs int
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				u := &users[order[int(next.Add(1)-1)%len(order)]]
				t0 := time.Now()
				n1, err := benchOnce(ctx, c, sharing, u.membership)
				t1 := time.Now()
				var n2 int64
				if err == nil {
					n2, err = benchOnce(ctx, c, ab, u.findAll)
				}
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				t2 := time.Now()
				signin, member, book = append(signin, t2.Sub(t0)), append(member, t1.Sub(t0)), append(book, t2.Sub(t1))
				bytes += n1 + n2
			}
			mu.Lock()
			res.signin, res.member, res.book = append(res.signin, signin...), append(res.member, member...), append(res.book, book...)
			res.bytes += bytes
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.distinct = min(int(next.Load()), len(users))
	if res.errors > 0 {
		return nil, fmt.Errorf("sign-in mix: %d sign-ins failed (first: %v)", res.errors, res.firstErr)
	}
	return res, nil
}

// print writes one run's figures and returns its sign-in round.
func (r *signinResult) print(w interface{ Write([]byte) (int, error) }, round int, d time.Duration) benchRound {
	pct := func(l []time.Duration, p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[int(p*float64(len(l)-1))].Round(10 * time.Microsecond)
	}
	for _, l := range [][]time.Duration{r.signin, r.member, r.book} {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	}
	n := len(r.signin)
	fmt.Fprintf(w, "round %d: %d sign-ins (%d distinct users), %.0f sign-ins/s, %.1f MB/s; sign-in p50 %s p90 %s p99 %s; FindMembership p50 %s p99 %s; ABFindAll p50 %s p99 %s\n",
		round, n, r.distinct, float64(n)/d.Seconds(), float64(r.bytes)/d.Seconds()/1e6,
		pct(r.signin, 0.5), pct(r.signin, 0.9), pct(r.signin, 0.99), pct(r.member, 0.5), pct(r.member, 0.99), pct(r.book, 0.5), pct(r.book, 0.99))
	return benchRound{rps: float64(n) / d.Seconds(), p50: pct(r.signin, 0.5), p99: pct(r.signin, 0.99)}
}

// rstEnvelope is the RequestMultipleSecurityTokens a client signs in with
// (Passport.NET, messengerclear and contacts tokens).
func rstEnvelope(email, password string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>` +
		email + `</wsse:Username><wsse:Password>` + password + `</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">` +
		`<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>` +
		`<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI_KEY_OLD"/></wst:RequestSecurityToken>` +
		`<wst:RequestSecurityToken Id="RST2"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>contacts.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI"/></wst:RequestSecurityToken>` +
		`</ps:RequestMultipleSecurityTokens></Body></Envelope>`
}
