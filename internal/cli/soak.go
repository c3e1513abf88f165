package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns/msnp"
)

// `abch bench --mode soak`: a mixed load held for --duration so that growth
// over time shows. Each client signs in (RST with a password), changes its
// lists (ABGroupAdd then ABGroupDelete, a Me rename), syncs (ABFindAll,
// FindMembership), sends an OIM to the next soak user (Store with the lock
// key answered) and reads and deletes its own (GetMetadata, GetMessage,
// DeleteMessages), so the data set stays bounded. Every --interval it
// prints throughput, p50/p99, errors, and the server's resident memory and
// goroutines read from its /metrics.

// soakPassword is the soak accounts' password.
const soakPassword = "soak-password"

// soakAppID is the product id the soak's OIMs answer the lock key with.
const soakAppID = "PROD0119GSJUC$18"

type soakUser struct {
	acct *models.Account
	ct   string // contacts ticket (TicketToken)
	mt   auth.Ticket
	st   auth.Ticket // messengersecure ticket (OIM Store)
}

type soakStats struct {
	mu       sync.Mutex
	lat      []time.Duration
	ops      map[string]int
	errors   int
	firstErr error
}

func (s *soakStats) add(op string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors++
		if s.firstErr == nil {
			s.firstErr = fmt.Errorf("%s: %w", op, err)
		}
		return
	}
	s.lat = append(s.lat, d)
	s.ops[op]++
}

// take returns the interval's figures and starts a new interval.
func (s *soakStats) take() (lat []time.Duration, ops map[string]int, errs int, first error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat, ops, errs, first = s.lat, s.ops, s.errors, s.firstErr
	s.lat, s.ops, s.errors, s.firstErr = nil, map[string]int{}, 0, nil
	return
}

type soak struct {
	client  *http.Client
	base    string
	tk      *auth.Ticketer
	users   []*soakUser
	stats   *soakStats
	metrics string
}

// runSoakBench is --mode soak: it seeds the soak accounts and runs the
// mixed load.
func runSoakBench(cmd *cobra.Command, a *app, o *benchOpts) error {
	if err := o.check(); err != nil {
		return err
	}
	if o.interval <= 0 {
		return fmt.Errorf("need --interval > 0")
	}
	ctx := cmd.Context()
	st, tk, err := a.benchTicketer(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	s := &soak{
		client:  &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.conc * 2, MaxConnsPerHost: o.conc * 2}},
		base:    strings.TrimSuffix(o.url, "/"),
		tk:      tk,
		stats:   &soakStats{ops: map[string]int{}},
		metrics: o.metricsURL,
	}
	if s.metrics == "" {
		s.metrics = s.base + "/metrics"
	}
	users := max(o.users, 2) // OIMs go to the next user
	fmt.Fprintf(a.stdout, "seeding %d soak users...\n", users)
	if err := s.seed(ctx, st, users, a.argon2()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "soak against %s: %d clients for %s, figures every %s (server metrics: %s)\n", s.base, o.conc, o.duration, o.interval, s.metrics)
	fmt.Fprintln(a.stdout, "elapsed   ops/s  p50      p99      errors  server RSS  goroutines  ops (signin/change/sync/oim/rsi)")
	return s.run(ctx, a.stdout, o.conc, o.duration, o.interval)
}

// seed finds or creates the n soak accounts and mints their tickets.
func (s *soak) seed(ctx context.Context, st *store.Store, n int, params auth.Argon2Params) error {
	tk := s.tk
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("soak-user-%d@bench.example", i)
		acct, err := st.AccountByEmail(ctx, email)
		if models.ErrorCode(err) == models.CodeNotFound {
			var h string
			if h, err = auth.HashPassword(soakPassword, params); err != nil {
				return err
			}
			acct, err = st.CreateAccount(ctx, store.NewAccount{Email: email, PasswordHash: h, DisplayName: fmt.Sprintf("Soak %d", i)})
		}
		if err != nil {
			return err
		}
		u := &soakUser{acct: acct, mt: tk.Issue(acct.ID, acct.TokenVersion, auth.AudMessenger), st: tk.Issue(acct.ID, acct.TokenVersion, auth.AudMessengerSecure)}
		u.ct = tk.Issue(acct.ID, acct.TokenVersion, auth.AudContacts).Text()
		s.users = append(s.users, u)
	}
	return nil
}

// run drives the load from conc clients for duration, printing a figures
// line every interval (and one for the last partial interval).
func (s *soak) run(ctx context.Context, out io.Writer, conc int, duration, interval time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				s.step(ctx, w, k)
			}
		}(w)
	}
	r := &soakReport{s: s, out: out, start: time.Now()}
	r.last = r.start
	tick := time.NewTicker(interval)
	defer tick.Stop()
loop:
	for {
		select {
		case <-tick.C:
			r.line()
		case <-ctx.Done():
			break loop
		}
	}
	wg.Wait()
	if time.Since(r.last) > interval/10 {
		r.line() // the last partial interval
	}
	fmt.Fprintf(out, "total: %d operations, %.0f/s, %d errors\n", r.totalOps, float64(r.totalOps)/time.Since(r.start).Seconds(), r.totalErrs)
	if r.totalErrs > 0 {
		return fmt.Errorf("%d operations failed (first: %v)", r.totalErrs, r.firstErr)
	}
	return nil
}

// soakReport prints the soak's interval lines and keeps its totals.
type soakReport struct {
	s                   *soak
	out                 io.Writer
	start, last         time.Time
	totalOps, totalErrs int
	firstErr            error
}

// line prints the figures of the interval since the last line.
func (r *soakReport) line() {
	lat, ops, errs, first := r.s.stats.take()
	n := len(lat)
	r.totalOps += n
	r.totalErrs += errs
	if r.firstErr == nil {
		r.firstErr = first
	}
	now := time.Now()
	elapsed, span := now.Sub(r.start), now.Sub(r.last)
	r.last = now
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	rss, gor := r.s.serverGauges()
	fmt.Fprintf(r.out, "%-9s %6.0f  %-8s %-8s %6d  %10s  %10s  %d/%d/%d/%d/%d\n",
		elapsed.Round(time.Second), float64(n)/span.Seconds(), pct(0.5).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), errs,
		rss, gor, ops["signin"], ops["change"], ops["sync"], ops["oim"], ops["rsi"])
	if first != nil {
		fmt.Fprintf(r.out, "          first error: %.300v\n", first)
	}
}

// step runs operation k of client w: in ten steps one sign-in, three list
// changes, three syncs, two OIM sends and one mailbox read.
func (s *soak) step(ctx context.Context, w, k int) {
	u := s.users[w%len(s.users)]
	next := s.users[(w+1)%len(s.users)]
	timed := func(op string, f func() error) {
		start := time.Now()
		err := f()
		if ctx.Err() != nil {
			return // cut off by the end of the run, not a failure
		}
		s.stats.add(op, time.Since(start), err)
	}
	switch k % 10 {
	case 0:
		timed("signin", func() error { return s.signIn(ctx, u) })
	case 1, 2:
		var guid string
		timed("change", func() (err error) {
			guid, err = s.groupAdd(ctx, u, fmt.Sprintf("soak %d-%d", w, k))
			return err
		})
		if guid != "" {
			timed("change", func() error {
				_, err := s.post(ctx, "/abservice/abservice.asmx", benchSOAP(u.ct, `<ABGroupDelete xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><groupFilter><groupIds><guid>`+guid+`</guid></groupIds></groupFilter></ABGroupDelete>`), "<ABGroupDeleteResponse")
				return err
			})
		}
	case 3:
		timed("change", func() error {
			_, err := s.post(ctx, "/abservice/abservice.asmx", benchSOAP(u.ct, `<ABContactUpdate xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Soak `+
				strconv.Itoa(k)+`</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts></ABContactUpdate>`), "<ABContactUpdateResponse")
			return err
		})
	case 4, 6:
		timed("sync", func() error {
			_, err := s.post(ctx, "/abservice/abservice.asmx", benchEnvelope(u.ct, "false", models.NeverTimestamp), "<ABFindAllResponse")
			return err
		})
	case 5:
		timed("sync", func() error {
			_, err := s.post(ctx, "/abservice/SharingService.asmx", membershipEnvelope(u.ct), "<FindMembershipResponse")
			return err
		})
	case 7, 8:
		timed("oim", func() error { return s.sendOIM(ctx, u, next, k) })
	case 9:
		timed("rsi", func() error { return s.readOIMs(ctx, u) })
	}
}

func (s *soak) signIn(ctx context.Context, u *soakUser) error {
	body := `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><Header><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>` +
		u.acct.Email + `</wsse:Username><wsse:Password>` + soakPassword + `</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">` +
		`<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>` +
		`<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI_KEY_OLD"/></wst:RequestSecurityToken>` +
		`<wst:RequestSecurityToken Id="RST2"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>contacts.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI"/></wst:RequestSecurityToken>` +
		`</ps:RequestMultipleSecurityTokens></Body></Envelope>`
	_, err := s.post(ctx, "/RST.srf", body, `BinarySecurityToken Id="Compact2"`)
	return err
}

var soakGroupGUID = regexp.MustCompile(`<guid>([^<]+)</guid>`)

func (s *soak) groupAdd(ctx context.Context, u *soakUser, name string) (string, error) {
	b, err := s.post(ctx, "/abservice/abservice.asmx", benchSOAP(u.ct, `<ABGroupAdd xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>`+
		name+`</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType><fMessenger>false</fMessenger><annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value></Annotation></annotations></GroupInfo></groupInfo></ABGroupAdd>`), "<ABGroupAddResponse")
	if err != nil {
		return "", err
	}
	m := soakGroupGUID.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("no group guid in %.300s", b)
	}
	return string(m[1]), nil
}

func (s *soak) sendOIM(ctx context.Context, from, to *soakUser, k int) error {
	lockKey := msnp.QRYHash(s.tk.LockKeyChallenge(from.st.T), soakAppID, msnp.ProductKeys[soakAppID])
	text := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("soak message %d from %s", k, from.acct.Email)))
	body := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
		`<From xmlns="http://messenger.msn.com/ws/2004/09/oim/" memberName="` + from.acct.Email + `" friendlyName="=?utf-8?B?U29haw==?=" xml:lang="en-US" proxy="MSNMSGR" msnpVer="MSNP15" buildVer="8.5.1288"/>` +
		`<To xmlns="http://messenger.msn.com/ws/2004/09/oim/" memberName="` + to.acct.Email + `"/>` +
		`<Ticket xmlns="http://messenger.msn.com/ws/2004/09/oim/" appid="` + soakAppID + `" lockkey="` + lockKey + `" passport="` + strings.ReplaceAll(from.st.Text(), "&", "&amp;") + `"/>` +
		`<Sequence xmlns="http://schemas.xmlsoap.org/ws/2003/03/rm"><Identifier xmlns="http://schemas.xmlsoap.org/ws/2002/07/utility">http://messenger.msn.com</Identifier><MessageNumber>1</MessageNumber></Sequence>` +
		`</soap:Header><soap:Body><MessageType xmlns="http://messenger.msn.com/ws/2004/09/oim/">text</MessageType><Content xmlns="http://messenger.msn.com/ws/2004/09/oim/">MIME-Version: 1.0` + "\r\n" +
		"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\nX-OIM-Message-Type: OfflineMessage\r\n" +
		fmt.Sprintf("X-OIM-Run-Id: {%08X-0000-4000-8000-%012X}\r\nX-OIM-Sequence-Num: 1\r\n\r\n", k, from.acct.ID) + text + `</Content></soap:Body></soap:Envelope>`
	_, err := s.post(ctx, "/OimWS/oim.asmx", body, "StoreResponse")
	return err
}

// Mail-Data lists each message as <M>…<I>id</I>…</M> (<E><I> is a count).
var (
	soakMessage   = regexp.MustCompile(`(?s)<M>(.*?)</M>`)
	soakMessageID = regexp.MustCompile(`<I>([^<]+)</I>`)
)

// readOIMs fetches the mailbox's metadata, reads every message and deletes
// them.
func (s *soak) readOIMs(ctx context.Context, u *soakUser) error {
	cookie := `<soap:Header><PassportCookie xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"><t>` + strings.ReplaceAll(u.mt.T, "&", "&amp;") + `</t><p>` + strings.ReplaceAll(u.mt.P, "&", "&amp;") + `</p></PassportCookie></soap:Header>`
	rsi := func(op, want string) ([]byte, error) {
		return s.post(ctx, "/rsi/rsi.asmx", `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`+cookie+`<soap:Body>`+op+`</soap:Body></soap:Envelope>`, want)
	}
	b, err := rsi(`<GetMetadata xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"/>`, "GetMetadataResponse")
	if err != nil {
		return err
	}
	msgs := soakMessage.FindAllSubmatch(b, -1)
	if len(msgs) == 0 {
		return nil
	}
	var list strings.Builder
	for _, msg := range msgs {
		m := soakMessageID.FindSubmatch(msg[1])
		if m == nil {
			return fmt.Errorf("message without an id in %.300s", b)
		}
		id := string(m[1])
		if _, err := rsi(`<GetMessage xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"><messageId>`+id+`</messageId><alsoMarkAsRead>false</alsoMarkAsRead></GetMessage>`, "GetMessageResponse"); err != nil {
			return err
		}
		list.WriteString("<messageId>" + id + "</messageId>")
	}
	_, err = rsi(`<DeleteMessages xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"><messageIds>`+list.String()+`</messageIds></DeleteMessages>`, "DeleteMessagesResponse")
	return err
}

// post sends a SOAP body and wants a 200 holding want.
func (s *soak) post(ctx context.Context, path, body, want string) ([]byte, error) {
	b, err := benchPost(ctx, s.client, s.base+path, body)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(b), want) {
		return nil, fmt.Errorf("answer lacks %q: %.300s", want, b)
	}
	return b, nil
}

// serverGauges reads process_resident_memory_bytes and go_goroutines from
// the server's Prometheus endpoint ("?" when unavailable).
func (s *soak) serverGauges() (rss, goroutines string) {
	rss, goroutines = "?", "?"
	resp, err := s.client.Get(s.metrics)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			rss = fmt.Sprintf("%.1f MB", v/1e6)
		case "go_goroutines":
			goroutines = strconv.FormatFloat(v, 'f', 0, 64)
		}
	}
	return
}
