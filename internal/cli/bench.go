package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

func init() { extraCommands = append(extraCommands, benchCmd) }

// benchCmd is `abch bench`: a load generator for a running server. It
// seeds benchmark accounts directly in the server's database (same ABCH_*
// configuration), mints tickets with the server's ticket secret, then
// drives the server the way --mode says (benchModes) and prints
// throughput and latency percentiles.
func benchCmd(a *app) *cobra.Command {
	o := &benchOpts{}
	names := make([]string, len(benchModes))
	help := make([]string, len(benchModes))
	for i, m := range benchModes {
		names[i] = m.name
		help[i] = m.name + ": " + m.help
	}
	c := &cobra.Command{
		Use:   "bench --url URL [--users N] [--contacts N] [--concurrency N] [--duration D] [--mode " + strings.Join(names, "|") + "] [--rounds N] [--static] [--interval D] [--metrics-url URL]",
		Short: "Load-test a running server: ABFindAll, FindMembership, a sign-in mix, a mixed soak, its NS or its switchboard (seeds bench accounts in its database)",
		Long: "bench seeds benchmark accounts in the server's database, mints tickets with its secret and drives the server as --mode says.\n\n" +
			nsBenchLong + "\n\n" + sbBenchLong, // bench_ns.go, bench_sb.go
		Example: nsBenchExample + "\n" + sbBenchExample,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, m := range benchModes {
				if m.name == o.mode {
					return m.run(cmd, a, o)
				}
			}
			return errors.New("need --mode " + strings.Join(names, "|"))
		},
	}
	f := c.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running server")
	f.IntVar(&o.users, "users", 4, "benchmark accounts (books) to fetch, round robin")
	f.IntVar(&o.contacts, "contacts", 300, "contacts per book")
	f.IntVar(&o.groups, "groups", 10, "groups per book")
	f.IntVar(&o.conc, "concurrency", 16, "concurrent clients")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long to run")
	f.StringVar(&o.mode, "mode", "full", strings.Join(help, "; "))
	f.IntVar(&o.rounds, "rounds", 1, "timed runs of --duration each; with more than one, the medians are printed too")
	f.BoolVar(&o.static, "static", false, "full, delta, delta1, membership: before each round, run the same load against a static server of the same answer bytes (in this process, on loopback) and print the ratio of the medians")
	f.IntVar(&o.rstUsers, "rst-users", 16, "signin: accounts the RST step signs in round robin (0: no RST step)")
	f.DurationVar(&o.rstDuration, "rst-duration", 10*time.Second, "signin: how long each RST round runs")
	f.DurationVar(&o.interval, "interval", time.Minute, "soak: how often to print figures")
	f.StringVar(&o.metricsURL, "metrics-url", "", "soak: the server's Prometheus endpoint for its memory and goroutines (default: --url + /metrics)")
	addNSBenchFlags(c, &o.ns) // bench_ns.go
	addSBBenchFlags(c, &o.sb) // bench_sb.go
	return c
}

// benchOpts are the flags of `abch bench`; each mode reads the ones it
// needs.
type benchOpts struct {
	url                           string
	users, contacts, groups, conc int
	duration, interval            time.Duration
	mode, metricsURL              string
	rounds, rstUsers              int
	static                        bool
	rstDuration                   time.Duration
	ns                            nsBenchOpts // --mode ns
	sb                            sbBenchOpts // --mode sb
}

// benchMode is one --mode of `abch bench`.
type benchMode struct {
	name, help string
	run        func(cmd *cobra.Command, a *app, o *benchOpts) error
}

// benchModes are the --mode values, in the order --help lists them.
var benchModes = []benchMode{
	{"full", "full ABFindAll", runABBench},
	{"delta", "deltasOnly with the latest cursor (nothing changed)", runABBench},
	{"delta1", "deltasOnly with a cursor one change old", runABBench},
	{"membership", "full FindMembership", runABBench},
	{"signin", "RST, then FindMembership + full ABFindAll of --users distinct users of a seeded network with --contacts contacts on average", runSigninBench}, // bench_signin.go
	{"soak", "mixed sign-ins, list changes, syncs and OIMs, with figures every --interval", runSoakBench},                                                     // soak.go
	{"ns", "N MSNP13 sessions sign in to the server's NS, then status changes are timed to every watcher", runNSBenchMode},                                    // bench_ns.go
	{"sb", "2N MSNP13 sessions hold N two-party conversations and send acked messages at --rate; relay throughput and latency", runSBBenchMode},               // bench_sb.go
}

// runSigninBench is --mode signin (bench_signin.go).
func runSigninBench(cmd *cobra.Command, a *app, o *benchOpts) error {
	if err := o.check(); err != nil {
		return err
	}
	st, tk, err := a.benchTicketer(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	return a.runSignin(cmd.Context(), st, tk, o.url, signinOptions{users: o.users, contacts: o.contacts, groups: o.groups, conc: o.conc,
		duration: o.duration, rounds: o.rounds, rstUsers: o.rstUsers, rstDuration: o.rstDuration})
}

// check is the usage check of the HTTP modes (all but ns).
func (o *benchOpts) check() error {
	if o.users < 1 || o.contacts < 0 || o.conc < 1 || o.duration <= 0 || o.rounds < 1 {
		return errors.New("need --users >= 1, --contacts >= 0, --concurrency >= 1, --duration > 0, --rounds >= 1")
	}
	return nil
}

// benchTicketer opens the server's store and a ticketer with its secret,
// as RST would issue tickets (so no password hash is part of the load).
func (a *app) benchTicketer(ctx context.Context) (*store.Store, *auth.Ticketer, error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	secret, err := a.benchSecret(ctx, st)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, auth.NewTicketer([]byte(secret), a.cfg.TicketLifetime), nil
}

// runABBench is --mode full, delta, delta1 and membership: fetch the seeded
// books (or memberships) from --concurrency clients for --duration.
func runABBench(cmd *cobra.Command, a *app, o *benchOpts) error {
	if err := o.check(); err != nil {
		return err
	}
	ctx := cmd.Context()
	st, tk, err := a.benchTicketer(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.conc * 2, MaxConnsPerHost: o.conc * 2}}
	endpoint := strings.TrimSuffix(o.url, "/") + "/abservice/abservice.asmx"
	bodies, err := a.seedABBench(ctx, st, tk, client, endpoint, o)
	if err != nil {
		return err
	}
	if o.mode == "membership" {
		endpoint = strings.TrimSuffix(o.url, "/") + "/abservice/SharingService.asmx"
		fmt.Fprintf(a.stdout, "running FindMembership against %s: %d clients for %s\n", endpoint, o.conc, o.duration)
	} else {
		fmt.Fprintf(a.stdout, "running %s ABFindAll against %s: %d clients for %s\n", o.mode, endpoint, o.conc, o.duration)
	}
	var ceiling *staticServer
	if o.static { // bench_static.go
		if ceiling, err = startStatic(ctx, client, endpoint, bodies); err != nil {
			return err
		}
		defer ceiling.close()
	}
	return a.runRounds(ctx, client, endpoint, bodies, o.conc, o.duration, o.rounds, ceiling)
}

// seedABBench seeds the bench users' books (and memberships) and returns
// each user's request body for o.mode; delta modes fetch a cursor first.
func (a *app) seedABBench(ctx context.Context, st *store.Store, tk *auth.Ticketer, client *http.Client, endpoint string, o *benchOpts) ([]string, error) {
	fmt.Fprintf(a.stdout, "seeding %d users with %d contacts...\n", o.users, o.contacts)
	peers, err := st.SeedPeers(ctx, "bench-peer", "bench.example", o.contacts)
	if err != nil {
		return nil, err
	}
	// One set of users per book size, so runs with different --contacts
	// never share (and grow) the same books.
	accts, err := st.SeedPeers(ctx, fmt.Sprintf("bench-user-%dc", o.contacts), "bench.example", o.users)
	if err != nil {
		return nil, err
	}
	bodies := make([]string, len(accts))
	for i := range accts {
		if err := st.SeedBook(ctx, accts[i].ID, peers, o.groups); err != nil {
			return nil, err
		}
		ticket := tk.Issue(accts[i].ID, accts[i].TokenVersion, auth.AudContacts).Text()
		bodies[i] = benchEnvelope(ticket, "false", models.NeverTimestamp)
		switch o.mode {
		case "membership":
			// A <contacts>-member account: every peer on Allow, half on Reverse.
			if err := st.SeedMembers(ctx, accts[i].ID, peers); err != nil {
				return nil, err
			}
			bodies[i] = membershipEnvelope(ticket)
		case "delta", "delta1":
			cursor, err := benchCursor(ctx, client, endpoint, bodies[i])
			if err != nil {
				return nil, err
			}
			bodies[i] = benchEnvelope(ticket, "true", cursor)
			if o.mode == "delta1" {
				// One change after the cursor (the owner's display name,
				// through the server), so every delta carries exactly it.
				if err := benchChangeOnce(ctx, client, endpoint, ticket, bodies[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	return bodies, nil
}

// benchChangeOnce renames the owner of ticket (ABContactUpdate of the Me
// contact) and checks that delta, a delta from before the rename, then
// carries exactly one contact.
func benchChangeOnce(ctx context.Context, c *http.Client, url, ticket, delta string) error {
	update := benchSOAP(ticket, `<ABContactUpdate xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><contactType>Me</contactType><displayName>bench `+
		time.Now().UTC().Format("150405.000000")+`</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts></ABContactUpdate>`)
	if _, err := benchPost(ctx, c, url, update); err != nil {
		return fmt.Errorf("delta1 setup: %w", err)
	}
	b, err := benchPost(ctx, c, url, delta)
	if err != nil {
		return fmt.Errorf("delta1 setup: %w", err)
	}
	if n := bytes.Count(b, []byte("<Contact>")); n != 1 {
		return fmt.Errorf("delta1 setup: the delta carries %d contacts, not 1", n)
	}
	return nil
}

// benchSOAP wraps an AB/Sharing operation in the envelope clients send,
// with ticket as the TicketToken.
func benchSOAP(ticket, op string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>Initial</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` +
		strings.ReplaceAll(ticket, "&", "&amp;") + `</TicketToken></ABAuthHeader></soap:Header><soap:Body>` + op + `</soap:Body></soap:Envelope>`
}

// benchEnvelope is an ABFindAll.
func benchEnvelope(ticket, deltas, cursor string) string {
	return benchSOAP(ticket, `<ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><abView>Full</abView><deltasOnly>`+
		deltas+`</deltasOnly><lastChange>`+cursor+`</lastChange></ABFindAll>`)
}

// membershipEnvelope is a full FindMembership as pidgin sends it at sign-in.
func membershipEnvelope(ticket string) string {
	return benchSOAP(ticket, `<FindMembership xmlns="http://www.msn.com/webservices/AddressBook"><serviceFilter><Types><ServiceType>Messenger</ServiceType><ServiceType>Invitation</ServiceType><ServiceType>SocialNetwork</ServiceType><ServiceType>Space</ServiceType><ServiceType>Profile</ServiceType></Types></serviceFilter></FindMembership>`)
}

var benchLastChange = regexp.MustCompile(`</abInfo><lastChange>([^<]+)</lastChange>`)

func benchCursor(ctx context.Context, c *http.Client, url, body string) (string, error) {
	b, err := benchPost(ctx, c, url, body)
	if err != nil {
		return "", fmt.Errorf("full fetch failed: %w", err)
	}
	m := benchLastChange.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("full fetch failed: no lastChange in %.300s", b)
	}
	return string(m[1]), nil
}

// benchPost posts a SOAP body and returns the answer of a 200 (anything
// else is an error quoting the answer).
func benchPost(ctx context.Context, c *http.Client, url, body string) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("HTTP %d %.300s", resp.StatusCode, b)
	}
	return b, nil
}

type benchResult struct {
	lat      []time.Duration
	bytes    int64
	errors   int
	firstErr error
}

func runBench(ctx context.Context, c *http.Client, url string, bodies []string, conc int, d time.Duration) *benchResult {
	var (
		mu  sync.Mutex
		res = &benchResult{}
		wg  sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var lat []time.Duration
			var bytes int64
			var errs int
			var first error
			for i := w; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				start := time.Now()
				n, err := benchOnce(ctx, c, url, bodies[i%len(bodies)])
				if err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(start))
				bytes += n
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.bytes += bytes
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return res
}

func benchOnce(ctx context.Context, c *http.Client, url, body string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "http://www.msn.com/webservices/AddressBook/ABFindAll")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, err
	}
	if resp.StatusCode != 200 || n != resp.ContentLength {
		return n, fmt.Errorf("HTTP %d, %d of %d bytes", resp.StatusCode, n, resp.ContentLength)
	}
	return n, nil
}

func (r *benchResult) print(w io.Writer, d time.Duration) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[int(p*float64(len(r.lat)-1))]
	}
	n := len(r.lat)
	fmt.Fprintf(w, "requests: %d ok, %d failed\n", n, r.errors)
	fmt.Fprintf(w, "throughput: %.0f requests/s, %.1f MB/s\n", float64(n)/d.Seconds(), float64(r.bytes)/d.Seconds()/1e6)
	fmt.Fprintf(w, "latency: p50 %s  p90 %s  p99 %s  max %s\n", pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond))
}
