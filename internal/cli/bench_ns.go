package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns/msnp"
)

// `abch bench --mode ns` load-tests the Notification Server of a running
// `abch serve` over real TCP: N MSNP13 sessions sign in the way pidgin 2.4.3
// does, are held while the server's memory is read, then random users
// change status and the time until the last online watcher has the NLN is
// measured (issue 12, "Speed").

// nsBenchOpts are the flags of --mode ns.
type nsBenchOpts struct {
	url, msnpAddr       string
	users, contacts     int
	signinConc          int
	changes, changeConc int
	settle, waitFor     time.Duration
	serverPID, sources  int
	progress            time.Duration
}

// addNSBenchFlags adds the --mode ns flags to the bench command c.
func addNSBenchFlags(c *cobra.Command, bo *benchOpts) {
	f, o := c.Flags(), &bo.ns
	f.StringVar(&o.msnpAddr, "msnp-addr", "127.0.0.1:1863", "ns mode: MSNP address of the server's NS")
	f.IntVar(&o.signinConc, "signin-concurrency", 200, "ns mode: sign-ins in flight at once")
	f.IntVar(&o.changes, "changes", 2000, "ns mode: status changes (CHG) to time")
	f.IntVar(&o.changeConc, "change-concurrency", 1, "ns mode: status changes in flight at once (each by a different user)")
	f.DurationVar(&o.settle, "settle", 5*time.Second, "ns mode: pause after the sign-ins before memory is read")
	f.DurationVar(&o.waitFor, "fanout-timeout", 5*time.Second, "ns mode: how long a status change may take to reach every watcher")
	f.IntVar(&o.serverPID, "server-pid", 0, "ns mode: pid of the server process, whose VmRSS/VmHWM are read from /proc (0: only /metrics)")
	f.IntVar(&o.sources, "source-addrs", 1, "ns mode: spread the client sockets over 127.0.0.1..127.0.0.N (more ephemeral ports)")
	f.DurationVar(&o.progress, "progress", 5*time.Second, "ns mode: sign-in progress line interval (0: none)")
}

// runNSBenchMode is --mode ns: bench's --url, --users and --contacts with
// this mode's defaults (1000 users, 50 contacts) where they were not given.
func runNSBenchMode(cmd *cobra.Command, a *app, bo *benchOpts) error {
	o := &bo.ns
	o.url, o.users, o.contacts = bo.url, bo.users, bo.contacts
	if !cmd.Flags().Changed("users") {
		o.users = 1000
	}
	if !cmd.Flags().Changed("contacts") {
		o.contacts = 50
	}
	return runNSBench(cmd.Context(), a, o)
}

// msnpBenchStart is the start of the MSNP load modes (ns, sb): it raises
// the open-files limit for the client sockets and opens the store and the
// ticketer (tickets as RST would issue them, so the password hash is not
// part of a sign-in).
func (a *app) msnpBenchStart(ctx context.Context) (*store.Store, *auth.Ticketer, error) {
	if n, err := raiseNoFile(); err == nil {
		fmt.Fprintf(a.stdout, "open files limit: %d\n", n)
	}
	return a.benchTicketer(ctx)
}

func runNSBench(ctx context.Context, a *app, o *nsBenchOpts) error {
	if o.users < 2 || o.contacts < 1 || o.contacts%2 != 0 || o.contacts >= o.users || o.signinConc < 1 ||
		o.changes < 0 || o.changeConc < 1 || o.sources < 1 || o.sources > 254 {
		return errors.New("ns mode needs --users >= 2, an even --contacts below --users, --signin-concurrency >= 1, --change-concurrency >= 1, --source-addrs 1..254")
	}
	ctx, cancel := context.WithCancel(ctx) // ends the pinger
	defer cancel()
	out := a.stdout
	st, tk, err := a.msnpBenchStart(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	accts, err := seedNSRing(ctx, st, o.users, o.contacts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d accounts with %d mutual contacts each (FL+AL+RL) in %s\n", len(accts), o.contacts, time.Since(start).Round(time.Millisecond))
	b := &nsBench{o: o, out: out, track: map[string]*nsChange{}}
	for i := range accts {
		b.sess = append(b.sess, &nsSession{b: b, idx: i, email: accts[i].Email, name: accts[i].DisplayName,
			ticket: tk.Issue(accts[i].ID, accts[i].TokenVersion, auth.AudMessenger).Text()})
	}
	before := b.serverMemory(ctx)
	fmt.Fprintf(out, "server before sign-in: %s\n", before)
	defer b.closeAll()
	// Sessions signed in early are pinged while the rest sign in.
	go b.pinger(ctx)
	cpu0 := procCPU(o.serverPID)
	if err := b.signInAll(ctx); err != nil {
		return err
	}
	if cpu := procCPU(o.serverPID) - cpu0; cpu > 0 {
		fmt.Fprintf(out, "server CPU during the sign-ins: %s (%s per sign-in; the database's is not counted)\n",
			cpu.Round(10*time.Millisecond), (cpu / time.Duration(max(b.online(), 1))).Round(time.Microsecond))
	}
	select {
	case <-time.After(o.settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	held := b.serverMemory(ctx)
	online := b.online()
	fmt.Fprintf(out, "server holding %d sessions: %s\n", online, held)
	if before.rss > 0 && held.rss > 0 && online > 0 {
		fmt.Fprintf(out, "per session: %.1f KiB resident, %.2f goroutines\n",
			float64(held.rss-before.rss)/1024/float64(online), float64(held.goroutines-before.goroutines)/float64(online))
	}
	fmt.Fprintf(out, "load generator: %s\n", selfMemory())
	if online < len(b.sess) {
		// The status changes go on with the sessions that are online (each
		// change waits for its online watchers only); the run still fails.
		fmt.Fprintf(out, "%d of %d sessions are not online (first error: %v)\n", len(b.sess)-online, len(b.sess), b.firstErr())
	}
	if o.changes > 0 {
		cpu0 := procCPU(o.serverPID)
		if err := b.fanOut(ctx); err != nil {
			return err
		}
		if cpu := procCPU(o.serverPID) - cpu0; cpu > 0 {
			fmt.Fprintf(out, "server CPU during the status changes: %s (%s per change)\n",
				cpu.Round(10*time.Millisecond), (cpu / time.Duration(o.changes)).Round(time.Microsecond))
		}
	}
	if n := b.online(); n < len(b.sess) {
		return fmt.Errorf("%d of %d sessions were not online at the end (first error: %v)", len(b.sess)-n, len(b.sess), b.firstErr())
	}
	return nil
}

// raiseNoFile lifts the soft open-files limit to the hard one: every
// session is a socket.
func raiseNoFile() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	return l.Cur, nil
}

// seedNSRing creates (or finds) n accounts bench-ns-<n>u<c>c-i@bench.example
// where account i has the c accounts around it (i±1 … i±c/2, wrapping) on
// FL, AL and RL, so each has c watchers and watches c. Rows are written in
// bulk straight to the store; books that already have contacts are kept.
func seedNSRing(ctx context.Context, st *store.Store, n, c int) ([]models.Account, error) {
	accts, err := st.SeedPeers(ctx, fmt.Sprintf("bench-ns-%du%dc", n, c), "bench.example", n)
	if err != nil {
		return nil, err
	}
	done, err := ownersWithContacts(ctx, st, accts)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var cs []*models.Contact
	var ms []*models.Membership
	flush := func() error {
		if len(cs) == 0 {
			return nil
		}
		err := st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.CreateInBatches(cs, 1000).Error; err != nil {
				return err
			}
			return tx.CreateInBatches(ms, 1000).Error
		})
		cs, ms = cs[:0], ms[:0]
		return err
	}
	seeded := 0
	for i := range accts {
		if done[accts[i].ID] {
			continue
		}
		seeded++
		cs, ms = appendRing(cs, ms, st, accts, i, c, now)
		if len(cs) >= 10000 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if seeded > 0 {
		stmt := "ANALYZE"
		if st.Dialect == store.DialectPostgres {
			stmt = "ANALYZE contacts, memberships, accounts"
		}
		if err := st.DB.WithContext(ctx).Exec(stmt).Error; err != nil {
			return nil, err
		}
	}
	return accts, nil
}

// ownersWithContacts reports which of accts already have contacts besides
// their Me contact (seeded by an earlier run).
func ownersWithContacts(ctx context.Context, st *store.Store, accts []models.Account) (map[int64]bool, error) {
	n := len(accts)
	ids := make([]int64, n)
	for i := range accts {
		ids[i] = accts[i].ID
	}
	type count struct {
		OwnerID int64
		N       int64
	}
	var have []count
	for lo := 0; lo < n; lo += 5000 {
		var part []count
		if err := st.DB.WithContext(ctx).Model(&models.Contact{}).Select("owner_id, count(*) AS n").
			Where("owner_id IN ? AND contact_key <> 'me'", ids[lo:min(lo+5000, n)]).Group("owner_id").Scan(&part).Error; err != nil {
			return nil, err
		}
		have = append(have, part...)
	}
	done := make(map[int64]bool, len(have))
	for _, h := range have {
		done[h.OwnerID] = h.N > 0
	}
	return done, nil
}

// appendRing appends account i's ring rows: its c/2 neighbours on each side
// as FL contacts and as Allow and Reverse members.
func appendRing(cs []*models.Contact, ms []*models.Membership, st *store.Store, accts []models.Account, i, c int, now time.Time) ([]*models.Contact, []*models.Membership) {
	n, owner := len(accts), &accts[i]
	for d := 1; d <= c/2; d++ {
		for _, j := range []int{(i + d) % n, (i - d + n) % n} {
			p := &accts[j]
			pid := p.ID
			cs = append(cs, &models.Contact{
				OwnerID: owner.ID, GUID: st.NewGUID(), Key: "passport:" + p.EmailLower, ContactAccountID: &pid,
				ContactType: models.ContactTypeRegular, PassportName: p.EmailLower, Network: models.NetworkPassport,
				CID: p.CID, DisplayName: p.DisplayName, QuickName: p.DisplayName, IsMessengerUser: true,
				Annotations: "[]", Rev: owner.Revision, CreatedAt: now, UpdatedAt: now,
			})
			for _, role := range []string{models.RoleAllow, models.RoleReverse} {
				ms = append(ms, &models.Membership{
					OwnerID: owner.ID, Role: role, MemberType: models.MemberPassport, MemberName: p.EmailLower,
					MemberAccountID: &pid, CID: p.CID, DisplayName: p.DisplayName, Annotations: "[]", State: "Accepted",
					JoinedAt: now, Rev: owner.Revision, CreatedAt: now, UpdatedAt: now,
				})
			}
		}
	}
	return cs, ms
}

// nsBench is one run of --mode ns.
type nsBench struct {
	o    *nsBenchOpts
	out  io.Writer
	sess []*nsSession

	mu    sync.Mutex
	err   error                // first session error
	track map[string]*nsChange // status changes being timed, by changer e-mail
}

// nsSession is one client connection. After sign-in, one goroutine reads
// it (loop) with a small buffer; CHG and PNG are written from others.
type nsSession struct {
	b            *nsBench
	idx          int
	email, name  string
	ticket       string
	conn         net.Conn
	r            *bufio.Reader
	trid         int
	online       atomic.Bool
	signInTook   time.Duration
	steps        [len(nsSteps)]time.Duration // each sign-in command's answer time
	status       string                      // last CHG status (fan-out driver only)
	wmu          sync.Mutex
	signInFailed bool
}

// nsChange is one timed status change: how many watchers must see it and
// when the last did.
type nsChange struct {
	status string
	t0     time.Time
	want   int
	got    int
	last   time.Duration
	done   chan struct{}
}

func (b *nsBench) fail(err error) {
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	b.mu.Unlock()
}

func (b *nsBench) firstErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *nsBench) online() int {
	n := 0
	for _, s := range b.sess {
		if s.online.Load() {
			n++
		}
	}
	return n
}

// signInAll signs every session in, signinConc at a time in random order,
// and reports sign-ins per second and the latency percentiles.
func (b *nsBench) signInAll(ctx context.Context) error {
	order := rand.Perm(len(b.sess))
	next := atomic.Int64{}
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stopProgress := make(chan struct{})
	if b.o.progress > 0 {
		go func() {
			t := time.NewTicker(b.o.progress)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					fmt.Fprintf(b.out, "  %s: %d signed in, %d failed\n", time.Since(start).Round(time.Second), b.online(), failed.Load())
				case <-stopProgress:
					return
				}
			}
		}()
	}
	fmt.Fprintf(b.out, "signing in %d MSNP13 sessions to %s, %d at a time...\n", len(b.sess), b.o.msnpAddr, b.o.signinConc)
	for w := 0; w < min(b.o.signinConc, len(b.sess)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(order) {
					return
				}
				s := b.sess[order[i]]
				if err := s.signIn(); err != nil {
					failed.Add(1)
					s.signInFailed = true
					b.fail(fmt.Errorf("%s: %w", s.email, err))
					if s.conn != nil {
						s.conn.Close()
					}
					continue
				}
				s.online.Store(true)
				go s.loop()
			}
		}()
	}
	wg.Wait()
	close(stopProgress)
	took := time.Since(start)
	var lat []time.Duration
	for _, s := range b.sess {
		if !s.signInFailed && s.signInTook > 0 {
			lat = append(lat, s.signInTook)
		}
	}
	sortDurations(lat)
	fmt.Fprintf(b.out, "sign-ins: %d ok, %d failed in %s: %.0f sign-ins/s\n", len(lat), failed.Load(), took.Round(time.Millisecond), float64(len(lat))/took.Seconds())
	fmt.Fprintf(b.out, "sign-in latency (connect to the answer of the last sign-in command): p50 %s  p90 %s  p99 %s  max %s\n",
		pctl(lat, 0.50), pctl(lat, 0.90), pctl(lat, 0.99), pctl(lat, 1))
	fmt.Fprintf(b.out, "answer time of each sign-in command, p50 / p99:")
	for k, name := range nsSteps {
		var d []time.Duration
		for _, s := range b.sess {
			if !s.signInFailed && s.signInTook > 0 {
				d = append(d, s.steps[k])
			}
		}
		sortDurations(d)
		fmt.Fprintf(b.out, " %s %s / %s;", name, pctl(d, 0.5), pctl(d, 0.99))
	}
	fmt.Fprintln(b.out)
	if len(lat) == 0 {
		return fmt.Errorf("no session signed in (first error: %v)", b.firstErr())
	}
	return ctx.Err()
}

// nsSteps name the sign-in commands whose answer times are reported.
var nsSteps = [...]string{"VER", "CVR", "USR I", "USR S", "BLP", "ADL", "PRP", "CHG", "UUX", "BLP"}

// nsClientVersion is the CVR pidgin 2.4.3 sends (capture pidgin-2.4.3-msnp13-login).
const nsClientVersion = "0x0804 winnt 5.1 i386 MSNMSGR 8.0.0792 msmsgs "

// signIn runs pidgin 2.4.3's sign-in dialogue (capture
// pidgin-2.4.3-msnp13-login/ns.log), waiting for each answer: VER, CVR,
// USR TWN I, USR TWN S with the ticket, then BLP, the initial ADL of the
// user's contacts (FL+AL), PRP MFN, CHG NLN, UUX and BLP again. The
// latency runs from the TCP connect to the last BLP's answer.
func (s *nsSession) signIn() error {
	o := s.b.o
	start := time.Now()
	d := net.Dialer{Timeout: 30 * time.Second}
	if o.sources > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+s.idx%o.sources))}
	}
	c, err := d.Dial("tcp", o.msnpAddr)
	if err != nil {
		return err
	}
	s.conn = c
	s.r = bufio.NewReaderSize(c, 512)
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	k := 0
	step := func(line, want string) error {
		t0 := time.Now()
		if _, err := io.WriteString(c, line); err != nil {
			return err
		}
		err := s.await(want)
		s.steps[k] = time.Since(t0)
		k++
		return err
	}
	if err := step("VER 1 MSNP14 MSNP13 CVR0\r\n", "VER 1 MSNP13"); err != nil {
		return err
	}
	if err := step("CVR 2 "+nsClientVersion+s.email+"\r\n", "CVR 2 "); err != nil {
		return err
	}
	if err := step("USR 3 TWN I "+s.email+"\r\n", "USR 3 TWN S "); err != nil {
		return err
	}
	if err := step("USR 4 TWN S "+s.ticket+"\r\n", "USR 4 OK "); err != nil {
		return err
	}
	if err := step("BLP 5 AL\r\n", "BLP 5 AL"); err != nil {
		return err
	}
	var ml bytes.Buffer
	ml.WriteString("<ml l='1'>")
	n := len(s.b.sess)
	for dd := 1; dd <= o.contacts/2; dd++ {
		for _, j := range []int{(s.idx + dd) % n, (s.idx - dd + n) % n} {
			local, domain, _ := strings.Cut(s.b.sess[j].email, "@")
			fmt.Fprintf(&ml, "<d n='%s'><c n='%s' l='3' t='1'/></d>", domain, local)
		}
	}
	ml.WriteString("</ml>")
	if err := step("ADL 6 "+strconv.Itoa(ml.Len())+"\r\n"+ml.String(), "ADL 6 OK"); err != nil {
		return err
	}
	if err := step("PRP 7 MFN "+msnp.URLEncodeName(s.name)+"\r\n", "PRP 7 MFN "); err != nil {
		return err
	}
	if err := step("CHG 8 NLN 1073741856\r\n", "CHG 8 NLN"); err != nil {
		return err
	}
	const uux = `<Data><PSM></PSM><CurrentMedia></CurrentMedia><MachineGuid>{F26D1F07-95E2-403C-BC18-D4BFED493428}</MachineGuid></Data>`
	if err := step("UUX 9 "+strconv.Itoa(len(uux))+"\r\n"+uux, "UUX 9 0"); err != nil {
		return err
	}
	if err := step("BLP 10 AL\r\n", "BLP 10 AL"); err != nil {
		return err
	}
	s.signInTook = time.Since(start)
	s.trid = 10
	s.status = "NLN"
	_ = c.SetDeadline(time.Time{})
	return nil
}

// nsPayloadCommands are the server commands whose last argument is a
// payload length (ADL only in its server-initiated "ADL 0 n" form: the
// answer "ADL trid OK" ends in OK).
var nsPayloadCommands = map[string]bool{"MSG": true, "GCF": true, "UBX": true, "NOT": true, "ADL": true, "RML": true, "FQY": true, "IPG": true}

// readCmd returns the next server line (without CRLF; lines longer than
// the buffer are cut at it) and skips its payload.
func (s *nsSession) readCmd() (string, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		head := string(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = s.r.ReadSlice('\n')
		}
		if err != nil {
			return "", err
		}
		return head, nil
	}
	if err != nil {
		return "", err
	}
	text := strings.TrimRight(string(line), "\r\n")
	f := strings.Fields(text)
	if len(f) >= 2 && (nsPayloadCommands[f[0]] || isNumeric(f[0]) && len(f) >= 3) {
		if n, err := strconv.Atoi(f[len(f)-1]); err == nil && n > 0 {
			if _, err := s.r.Discard(n); err != nil {
				return "", err
			}
		}
	}
	return text, nil
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// await reads until a line starting with prefix; an error line for the
// same transaction, or OUT, fails.
func (s *nsSession) await(prefix string) error {
	trid := strings.Fields(prefix)
	for {
		line, err := s.readCmd()
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return nil
		}
		f := strings.Fields(line)
		if len(f) >= 2 && len(trid) >= 2 && isNumeric(f[0]) && f[1] == trid[1] || len(f) > 0 && f[0] == "OUT" {
			return fmt.Errorf("waiting for %q: got %q", prefix, line)
		}
	}
}

// loop reads the held session: NLN lines of timed changes are counted,
// everything else skipped. The session is offline when it ends.
func (s *nsSession) loop() {
	defer s.online.Store(false)
	for {
		line, err := s.readCmd()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.b.fail(fmt.Errorf("%s: connection ended: %w", s.email, err))
			}
			return
		}
		if strings.HasPrefix(line, "NLN ") {
			// NLN status email network friendly clientid msnobj
			f := strings.SplitN(line, " ", 4)
			if len(f) == 4 {
				s.b.seen(f[2], f[1])
			}
		} else if strings.HasPrefix(line, "OUT") {
			s.b.fail(fmt.Errorf("%s: server sent %q", s.email, line))
			return
		}
	}
}

// write sends one line from any goroutine.
func (s *nsSession) write(line string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := io.WriteString(s.conn, line)
	return err
}

// pinger sends PNG to every held session every 45 s, as clients do
// (QNG 60), so the NS's idle timeout does not end them.
func (b *nsBench) pinger(ctx context.Context) {
	t := time.NewTicker(45 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		for _, s := range b.sess {
			if s.online.Load() {
				_ = s.write("PNG\r\n")
			}
		}
	}
}

// seen counts a watcher's NLN for a timed change.
func (b *nsBench) seen(email, status string) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	ch := b.track[strings.ToLower(email)]
	if ch == nil || ch.status != status || ch.got >= ch.want {
		return
	}
	ch.got++
	if ch.got == ch.want {
		ch.last = now.Sub(ch.t0)
		close(ch.done)
	}
}

// fanOut times status changes: a random online user (one not already
// changing) writes CHG with a new status and the clock stops when the last
// of its online watchers has read the NLN.
func (b *nsBench) fanOut(ctx context.Context) error {
	o := b.o
	fmt.Fprintf(b.out, "timing %d status changes, %d in flight, each to %d watchers...\n", o.changes, o.changeConc, o.contacts)
	f := &fanOutRun{b: b, busy: map[int]bool{}, left: o.changes}
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < o.changeConc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := f.pick()
				if s == nil {
					return
				}
				took, miss := b.changeStatus(ctx, s)
				f.done(s, took, miss)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	lat := f.lat
	sortDurations(lat)
	fmt.Fprintf(b.out, "status changes: %d reached every watcher, %d did not, in %s (%.0f changes/s, %.0f NLN/s)\n",
		len(lat), f.missed, took.Round(time.Millisecond), float64(len(lat))/took.Seconds(), float64(len(lat)*o.contacts)/took.Seconds())
	fmt.Fprintf(b.out, "fan-out latency (CHG written to the last watcher's NLN read): p50 %s  p90 %s  p99 %s  max %s\n",
		pctl(lat, 0.50), pctl(lat, 0.90), pctl(lat, 0.99), pctl(lat, 1))
	if f.missed > 0 {
		return fmt.Errorf("%d status changes did not reach every watcher (first: %s)", f.missed, f.firstMiss)
	}
	return ctx.Err()
}

// fanOutRun hands out fanOut's status changes to its workers and collects
// their outcomes.
type fanOutRun struct {
	b         *nsBench
	mu        sync.Mutex
	busy      map[int]bool // sessions with a change in flight
	left      int          // changes not yet handed out
	lat       []time.Duration
	missed    int
	firstMiss string
}

// pick takes the next change: a random online session with none in
// flight; nil when every change is handed out.
func (f *fanOutRun) pick() *nsSession {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 {
		return nil
	}
	f.left--
	var s *nsSession
	for s == nil || f.busy[s.idx] || !s.online.Load() {
		s = f.b.sess[rand.IntN(len(f.b.sess))]
	}
	f.busy[s.idx] = true
	return s
}

// done records s's change: its fan-out latency, or (miss != "") why it did
// not reach every watcher.
func (f *fanOutRun) done(s *nsSession, took time.Duration, miss string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy[s.idx] = false
	if miss == "" {
		f.lat = append(f.lat, took)
		return
	}
	f.missed++
	if f.firstMiss == "" {
		f.firstMiss = miss
	}
}

// nsStatuses are the statuses the timed changes move between.
var nsStatuses = []string{"AWY", "BSY", "BRB", "NLN"}

// changeStatus sends a CHG to a new random status on s and waits up to
// --fanout-timeout until every online watcher has read the NLN. It returns
// the time until the last one did, or a description of the miss.
func (b *nsBench) changeStatus(ctx context.Context, s *nsSession) (time.Duration, string) {
	o := b.o
	status := nsStatuses[rand.IntN(len(nsStatuses))]
	for status == s.status {
		status = nsStatuses[rand.IntN(len(nsStatuses))]
	}
	s.status = status
	want := 0
	n := len(b.sess)
	for d := 1; d <= o.contacts/2; d++ {
		for _, j := range []int{(s.idx + d) % n, (s.idx - d + n) % n} {
			if b.sess[j].online.Load() {
				want++
			}
		}
	}
	ch := &nsChange{status: status, want: want, done: make(chan struct{})}
	key := strings.ToLower(s.email)
	s.trid++
	line := "CHG " + strconv.Itoa(s.trid) + " " + status + " 1073741856\r\n"
	b.mu.Lock()
	b.track[key] = ch
	ch.t0 = time.Now()
	b.mu.Unlock()
	err := s.write(line)
	if err == nil {
		select {
		case <-ch.done:
			b.mu.Lock()
			delete(b.track, key)
			b.mu.Unlock()
			return ch.last, ""
		case <-time.After(o.waitFor):
		case <-ctx.Done():
		}
	}
	b.mu.Lock()
	delete(b.track, key)
	got := ch.got
	b.mu.Unlock()
	return 0, fmt.Sprintf("%s CHG %s: %d of %d watchers had the NLN after %s (write error: %v)", s.email, status, got, want, o.waitFor, err)
}

// closeAll signs every session out.
func (b *nsBench) closeAll() {
	for _, s := range b.sess {
		if s.conn != nil {
			if s.online.Load() {
				_ = s.write("OUT\r\n")
			}
			s.online.Store(false)
			s.conn.Close()
		}
	}
}

// nsMemory is what the server reports of itself.
type nsMemory struct {
	rss, hwm, heap int64 // bytes (rss from /proc when --server-pid, else /metrics)
	stacks         int64 // goroutine stacks, bytes
	goroutines     int64
	source         string
}

func (m nsMemory) String() string {
	if m.source == "" {
		return "unknown (give --url with /metrics or --server-pid)"
	}
	s := fmt.Sprintf("%.1f MiB resident", float64(m.rss)/(1<<20))
	if m.hwm > 0 {
		s += fmt.Sprintf(" (peak %.1f MiB)", float64(m.hwm)/(1<<20))
	}
	if m.heap > 0 {
		s += fmt.Sprintf(", Go heap in use %.1f MiB, stacks %.1f MiB", float64(m.heap)/(1<<20), float64(m.stacks)/(1<<20))
	}
	if m.goroutines > 0 {
		s += fmt.Sprintf(", %d goroutines", m.goroutines)
	}
	return s + " [" + m.source + "]"
}

// serverMemory reads the server's resident size (/proc/<pid>/status when
// --server-pid is given) and its goroutines and heap (/metrics).
func (b *nsBench) serverMemory(ctx context.Context) nsMemory {
	var m nsMemory
	var src []string
	if b.o.url != "" {
		if vals, err := scrapeMetrics(ctx, strings.TrimSuffix(b.o.url, "/")+"/metrics",
			"process_resident_memory_bytes", "go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes"); err == nil {
			m.rss, m.goroutines, m.heap, m.stacks = int64(vals[0]), int64(vals[1]), int64(vals[2]), int64(vals[3])
			src = append(src, "/metrics")
		}
	}
	if b.o.serverPID > 0 {
		if rss, hwm, err := procMemory(b.o.serverPID); err == nil {
			m.rss, m.hwm = rss, hwm
			src = append(src, "/proc/"+strconv.Itoa(b.o.serverPID)+"/status")
		}
	}
	m.source = strings.Join(src, ", ")
	return m
}

// procMemory reads VmRSS and VmHWM of pid.
func procMemory(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n * 1024
		case "VmHWM":
			hwm = n * 1024
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS")
	}
	return rss, hwm, nil
}

// procCPU is the user+system CPU time pid has used (0 when unknown).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name: state is field 3,
	// utime 14 and stime 15 (proc(5)), in clock ticks of 1/100 s.
	rest := data[bytes.LastIndexByte(data, ')')+1:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// scrapeMetrics reads the named gauges from a Prometheus text page.
func scrapeMetrics(ctx context.Context, url string, names ...string) ([]float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	vals := make([]float64, len(names))
	found := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for i, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					vals[i] = v
					found++
				}
			}
		}
	}
	if found < len(names) {
		return nil, fmt.Errorf("%s: %d of %d metrics found", url, found, len(names))
	}
	return vals, sc.Err()
}

// selfMemory is the load generator's own footprint.
func selfMemory() string {
	rss, _, _ := procMemory(os.Getpid())
	return fmt.Sprintf("%.1f MiB resident, %d goroutines", float64(rss)/(1<<20), runtime.NumGoroutine())
}

func sortDurations(d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
}

// pctl is the p-quantile of sorted d, rounded for printing.
func pctl(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	v := d[int(p*float64(len(d)-1))]
	if v > 10*time.Millisecond {
		return v.Round(100 * time.Microsecond)
	}
	return v.Round(10 * time.Microsecond)
}

// benchSecret is the ticket secret the bench signs its tickets with: the
// configured one, else the one the server stored at its first start.
func (a *app) benchSecret(ctx context.Context, st *store.Store) (string, error) {
	secret := a.cfg.TicketSecret
	if secret == "" {
		var err error
		if secret, err = st.Setting(ctx, "ticket_secret"); err != nil {
			return "", err
		}
	}
	if secret == "" {
		return "", errors.New("no ticket secret in the database: start the server once first (or set ABCH_TICKET_SECRET)")
	}
	return secret, nil
}
