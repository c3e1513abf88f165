package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/auth"
)

// `abch bench --mode sb` load-tests the switchboard of a running `abch
// serve` (or `abch ns`) over real TCP (issue 13, "Speed"): 2×N MSNP13
// sessions sign in to the NS as pidgin 2.4.3 does, every pair opens a
// two-party conversation the way clients do (XFR SB on the NS, USR on the
// switchboard, CAL, the invitee's RNG, ANS, IRO/JOI), then both sides of
// every conversation send pidgin's text messages ("MSG trid A len", acked)
// at a fixed rate for --duration, and the time from writing a MSG to the
// other side reading the relayed MSG is measured.

// sbBenchOpts are the flags of --mode sb.
type sbBenchOpts struct {
	ns       nsBenchOpts // sign-in: msnpAddr, signinConc, sources, serverPID, url
	convs    int
	rate     float64 // messages per second per conversation, both sides together
	duration time.Duration
	ack      string
	senders  int
	drain    time.Duration
}

// addSBBenchFlags adds the --mode sb flags to the bench command c.
func addSBBenchFlags(c *cobra.Command, bo *benchOpts) {
	f, o := c.Flags(), &bo.sb
	f.IntVar(&o.convs, "conversations", 1000, "sb mode: two-party conversations (2× as many users sign in)")
	f.Float64Var(&o.rate, "rate", 20, "sb mode: messages per second per conversation, both sides together")
	f.StringVar(&o.ack, "ack", "A", "sb mode: acknowledgement mode of the messages: A (pidgin's text messages), N or U")
	f.IntVar(&o.senders, "senders", 8, "sb mode: goroutines writing the messages on schedule")
	f.DurationVar(&o.drain, "drain-timeout", 5*time.Second, "sb mode: how long relayed messages may still arrive after the last send")
}

// runSBBenchMode is --mode sb: it signs in with the NS mode's --msnp-addr,
// --signin-concurrency, --source-addrs and --server-pid and runs for
// bench's --duration.
func runSBBenchMode(cmd *cobra.Command, a *app, bo *benchOpts) error {
	o := &bo.sb
	o.ns = bo.ns
	o.ns.url = bo.url
	o.duration = bo.duration
	return runSBBench(cmd.Context(), a, o)
}

func runSBBench(ctx context.Context, a *app, o *sbBenchOpts) error {
	if o.convs < 1 || o.rate <= 0 || o.duration <= 0 || o.senders < 1 || o.ns.signinConc < 1 || o.ns.sources < 1 || o.ns.sources > 254 ||
		(o.ack != "A" && o.ack != "N" && o.ack != "U") {
		return errors.New("sb mode needs --conversations >= 1, --rate > 0, --duration > 0, --ack A|N|U, --senders >= 1, --signin-concurrency >= 1, --source-addrs 1..254")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := a.stdout
	st, tk, err := a.msnpBenchStart(ctx) // bench_ns.go
	if err != nil {
		return err
	}
	defer st.Close()
	// A ring with two contacts each: users 2i and 2i+1 are mutual contacts
	// (FL+AL+RL), so every caller may call its partner.
	users := 2 * o.convs
	if users < 3 {
		users = 3
	}
	o.ns.users, o.ns.contacts = users, 2
	start := time.Now()
	accts, err := seedNSRing(ctx, st, users, 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "seeded %d accounts in %s\n", len(accts), time.Since(start).Round(time.Millisecond))
	nb := &nsBench{o: &o.ns, out: out, track: map[string]*nsChange{}}
	for i := range accts {
		nb.sess = append(nb.sess, &nsSession{b: nb, idx: i, email: accts[i].Email, name: accts[i].DisplayName,
			ticket: tk.Issue(accts[i].ID, accts[i].TokenVersion, auth.AudMessenger).Text()})
	}
	defer nb.closeAll()
	b := &sbBench{o: o, out: out, nb: nb}
	defer b.closeAll()

	convs, err := b.openAll(ctx)
	if err != nil {
		return err
	}
	go nb.pinger(ctx)
	return b.relay(ctx, convs)
}

// openAll signs the users in and opens the conversations, signinConc
// pairs at a time; every one must open.
func (b *sbBench) openAll(ctx context.Context) ([]*sbConv, error) {
	o, nb, out := b.o, b.nb, b.out
	// Sign in and open the conversations, signinConc pairs at a time.
	fmt.Fprintf(out, "signing in %d MSNP13 sessions to %s and opening %d conversations, %d at a time...\n",
		2*o.convs, o.ns.msnpAddr, o.convs, o.ns.signinConc)
	start := time.Now()
	b.convs = make([]*sbConv, o.convs)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(o.ns.signinConc, o.convs); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= o.convs {
					return
				}
				cv, err := b.open(nb.sess[2*i], nb.sess[2*i+1])
				if err != nil {
					nb.fail(fmt.Errorf("conversation %d: %w", i, err))
					continue
				}
				b.mu.Lock()
				b.convs[i] = cv
				b.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var convs []*sbConv
	for _, cv := range b.convs {
		if cv != nil {
			convs = append(convs, cv)
		}
	}
	fmt.Fprintf(out, "%d of %d conversations open in %s\n", len(convs), o.convs, time.Since(start).Round(time.Millisecond))
	if len(convs) < o.convs {
		return nil, fmt.Errorf("%d conversations did not open (first error: %v)", o.convs-len(convs), nb.firstErr())
	}
	return convs, nil
}

// sbBench is one run of --mode sb.
type sbBench struct {
	o     *sbBenchOpts
	out   io.Writer
	nb    *nsBench
	mu    sync.Mutex
	convs []*sbConv
	sides []*sbSide // every switchboard connection, for closeAll
}

// sbConv is one conversation: its two switchboard connections.
type sbConv struct {
	side [2]*sbSide
}

// sbSide is one participant's switchboard connection. During the relay
// one sender goroutine writes its messages and its own reader reads what
// the other side sent, and the ACKs.
type sbSide struct {
	email string
	conn  net.Conn
	r     *bufio.Reader
	trid  int
	// Messages to send: the line and payload are rebuilt in buf for each.
	buf  []byte
	sent atomic.Int64

	// Reader side.
	got, acks, naks atomic.Int64
	lat             []time.Duration
	readErr         error
	done            chan struct{}
}

// sbText is the message pidgin 2.4.3 sends (msn_message_new_plain: its
// headers, flag A), its text carrying the send time in nanoseconds since
// the run's start in sbStampDigits digits.
const (
	sbTextHead    = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nUser-Agent: pidgin/2.4.3\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=1;PF=0\r\n\r\n"
	sbTextPrefix  = "bench "
	sbStampDigits = 19
	sbTextTail    = " the quick brown fox jumps over the lazy dog"
	sbPayloadLen  = len(sbTextHead) + len(sbTextPrefix) + sbStampDigits + len(sbTextTail)
)

// sbDial connects to addr from the source address of session idx.
func (b *sbBench) sbDial(idx int, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	if n := b.o.ns.sources; n > 1 {
		d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+idx%n))}
	}
	return d.Dial("tcp", addr)
}

// open signs caller and callee in to the NS and opens their conversation
// as clients do: the caller's "XFR SB", "USR" and "CAL" on the
// switchboard; the callee's RNG on the NS, then "ANS" (IRO, ANS OK); the
// caller's JOI. Both NS sessions are then read in the background.
func (b *sbBench) open(caller, callee *nsSession) (*sbConv, error) {
	for _, s := range []*nsSession{caller, callee} {
		if err := s.signIn(); err != nil {
			if s.conn != nil {
				s.conn.Close()
			}
			return nil, fmt.Errorf("%s: sign-in: %w", s.email, err)
		}
		s.online.Store(true)
	}
	deadline := time.Now().Add(60 * time.Second)
	_ = caller.conn.SetDeadline(deadline)
	_ = callee.conn.SetDeadline(deadline)
	caller.trid++
	trid := strconv.Itoa(caller.trid)
	if _, err := io.WriteString(caller.conn, "XFR "+trid+" SB\r\n"); err != nil {
		return nil, err
	}
	xfr, err := caller.awaitLine("XFR " + trid + " SB ")
	if err != nil {
		return nil, err
	}
	f := strings.Fields(xfr) // XFR trid SB addr CKI cookie U messenger.msn.com
	if len(f) < 6 {
		return nil, fmt.Errorf("XFR answer %q", xfr)
	}
	cv := &sbConv{}
	a, err := b.dialSide(caller, f[3], deadline)
	if err != nil {
		return nil, err
	}
	cv.side[0] = a
	if err := a.cmd("USR 1 "+caller.email+" "+f[5]+"\r\n", "USR 1 OK "); err != nil {
		return cv, err
	}
	if err := a.cmd("CAL 2 "+callee.email+"\r\n", "CAL 2 RINGING "); err != nil {
		return cv, err
	}
	rng, err := callee.awaitLine("RNG ")
	if err != nil {
		return cv, err
	}
	g := strings.Fields(rng) // RNG sessid addr CKI cookie inviter name U messenger.hotmail.com
	if len(g) < 7 || !strings.EqualFold(g[5], caller.email) {
		return cv, fmt.Errorf("RNG %q", rng)
	}
	c, err := b.dialSide(callee, g[2], deadline)
	if err != nil {
		return cv, err
	}
	cv.side[1] = c
	if err := c.cmd("ANS 1 "+callee.email+" "+g[4]+" "+g[1]+"\r\n", "ANS 1 OK"); err != nil {
		return cv, err
	}
	if _, err := a.awaitLine("JOI " + callee.email + " "); err != nil {
		return cv, err
	}
	for _, s := range []*nsSession{caller, callee} {
		_ = s.conn.SetDeadline(time.Time{})
		go s.loop()
	}
	for _, sd := range cv.side {
		_ = sd.conn.SetDeadline(time.Time{})
	}
	return cv, nil
}

// awaitLine reads NS lines until one starts with prefix and returns it; an
// error for the same transaction, or OUT, fails.
func (s *nsSession) awaitLine(prefix string) (string, error) {
	trid := strings.Fields(prefix)
	for {
		line, err := s.readCmd()
		if err != nil {
			return "", fmt.Errorf("%s waiting for %q: %w", s.email, prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line, nil
		}
		f := strings.Fields(line)
		if len(f) >= 2 && len(trid) >= 2 && isNumeric(f[0]) && f[1] == trid[1] || len(f) > 0 && f[0] == "OUT" {
			return "", fmt.Errorf("%s waiting for %q: got %q", s.email, prefix, line)
		}
	}
}

func (b *sbBench) dialSide(s *nsSession, addr string, deadline time.Time) (*sbSide, error) {
	conn, err := b.sbDial(s.idx, addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(deadline)
	sd := &sbSide{email: s.email, conn: conn, r: bufio.NewReaderSize(conn, 4096), done: make(chan struct{}),
		buf: make([]byte, 0, 32+sbPayloadLen)}
	b.mu.Lock()
	b.sides = append(b.sides, sd)
	b.mu.Unlock()
	return sd, nil
}

// cmd writes line and waits for the answer starting with want.
func (sd *sbSide) cmd(line, want string) error {
	if _, err := io.WriteString(sd.conn, line); err != nil {
		return err
	}
	_, err := sd.awaitLine(want)
	return err
}

// awaitLine reads switchboard lines (skipping MSG payloads) until one
// starts with prefix; an error line fails.
func (sd *sbSide) awaitLine(prefix string) (string, error) {
	for {
		line, err := sd.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("%s waiting for %q on the switchboard: %w", sd.email, prefix, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, prefix) {
			return line, nil
		}
		f := strings.Fields(line)
		if len(f) > 0 && isNumeric(f[0]) {
			return "", fmt.Errorf("%s waiting for %q on the switchboard: got %q", sd.email, prefix, line)
		}
		if len(f) == 4 && f[0] == "MSG" {
			n, _ := strconv.Atoi(f[3])
			if _, err := sd.r.Discard(n); err != nil {
				return "", err
			}
		}
	}
}

// message builds this side's next message in sd.buf with the send time
// stamp (nanoseconds since base).
func (sd *sbSide) message(ack string, stamp time.Duration) []byte {
	sd.trid++
	p := sd.buf[:0]
	p = append(p, "MSG "...)
	p = strconv.AppendInt(p, int64(sd.trid), 10)
	p = append(p, ' ')
	p = append(p, ack...)
	p = append(p, ' ')
	p = strconv.AppendInt(p, int64(sbPayloadLen), 10)
	p = append(p, "\r\n"...)
	p = append(p, sbTextHead...)
	p = append(p, sbTextPrefix...)
	var digits [sbStampDigits]byte
	v := int64(stamp)
	for i := sbStampDigits - 1; i >= 0; i-- {
		digits[i] = byte('0' + v%10)
		v /= 10
	}
	p = append(p, digits[:]...)
	p = append(p, sbTextTail...)
	sd.buf = p
	return p
}

// read is the reader of one side during the relay: relayed MSGs are timed
// against the stamp in their text, ACK and NAK counted.
func (sd *sbSide) read(base time.Time, capacity int) {
	defer close(sd.done)
	sd.lat = make([]time.Duration, 0, capacity)
	payload := make([]byte, 4096)
	stampAt := len(sbTextHead) + len(sbTextPrefix)
	for {
		line, err := sd.r.ReadSlice('\n')
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				sd.readErr = err
			}
			return
		}
		switch {
		case bytes.HasPrefix(line, []byte("MSG ")):
			// MSG email name len
			sp := bytes.LastIndexByte(line, ' ')
			n, ok := parseDecimal(bytes.TrimRight(line[sp+1:], "\r\n"))
			if !ok || n > len(payload) {
				sd.readErr = fmt.Errorf("bad MSG line %q", line)
				return
			}
			if _, err := io.ReadFull(sd.r, payload[:n]); err != nil {
				sd.readErr = err
				return
			}
			now := time.Since(base)
			if n == sbPayloadLen {
				if stamp, ok := parseDecimal(payload[stampAt : stampAt+sbStampDigits]); ok {
					sd.lat = append(sd.lat, now-time.Duration(stamp))
				}
			}
			sd.got.Add(1)
		case bytes.HasPrefix(line, []byte("ACK ")):
			sd.acks.Add(1)
		case bytes.HasPrefix(line, []byte("NAK ")):
			sd.naks.Add(1)
		case bytes.HasPrefix(line, []byte("BYE ")):
		default:
			sd.readErr = fmt.Errorf("unexpected %q", line)
			return
		}
	}
}

func parseDecimal(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// relay runs the timed phase: every side sends rate/2 messages a second,
// spread evenly over the sides, written by o.senders goroutines on
// schedule; then it waits for the last relays and reports.
func (b *sbBench) relay(ctx context.Context, convs []*sbConv) error {
	o := b.o
	var sides []*sbSide
	for _, cv := range convs {
		sides = append(sides, cv.side[0], cv.side[1])
	}
	interval := time.Duration(float64(2*time.Second) / o.rate) // per side
	perSide := int(o.duration / interval)
	if perSide < 1 {
		return fmt.Errorf("--rate %.1f over --duration %s gives no message per side", o.rate, o.duration)
	}
	fmt.Fprintf(b.out, "relaying for %s: %d conversations × %.1f messages/s (both sides, ack %s) = %.0f messages/s offered, %d senders...\n",
		o.duration, len(convs), o.rate, o.ack, float64(len(convs))*o.rate, o.senders)
	base := time.Now()
	for _, sd := range sides {
		go sd.read(base, perSide+16)
	}
	r := &sbRelayRun{cpu0: procCPU(o.ns.serverPID), self0: procCPU(os.Getpid())}
	start := base.Add(50 * time.Millisecond)
	r.lag, r.writeErr = b.send(ctx, sides, base, start, interval, perSide)
	r.sendTook = time.Since(start)
	r.cpuSend, r.selfSend = procCPU(o.ns.serverPID), procCPU(os.Getpid())
	b.collect(sides, r)
	b.report(r)
	return b.verdict(ctx, r)
}

// sbRelayRun is what the timed phase measured.
type sbRelayRun struct {
	cpu0, self0, cpuSend, selfSend time.Duration // server's and own CPU before and after sending
	sendTook                       time.Duration
	lag, lat                       []time.Duration // sender lag, relay latency (sorted)
	sent, relayed, acks, naks      int64
	writeErr, readErr              error
}

// send writes perSide messages on every side from o.senders goroutines:
// side k's n-th message is due at start + k·interval/len(sides) +
// n·interval. It returns a sample of how late the writes were and the first
// write error.
func (b *sbBench) send(ctx context.Context, sides []*sbSide, base, start time.Time, interval time.Duration, perSide int) ([]time.Duration, error) {
	o := b.o
	var wg sync.WaitGroup
	var lag []time.Duration
	var lagMu sync.Mutex
	var writeErr atomic.Value
	for w := 0; w < o.senders; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// This sender has every o.senders-th side.
			var mine []int
			for k := w; k < len(sides); k += o.senders {
				mine = append(mine, k)
				// One write deadline for the whole run: moving it per
				// write is a timer update per message, which costs the
				// generator as much as the write itself.
				_ = sides[k].conn.SetWriteDeadline(start.Add(o.duration + time.Minute))
			}
			var myLag []time.Duration
			for n := 0; n < perSide && ctx.Err() == nil; n++ {
				for _, k := range mine {
					due := start.Add(time.Duration(n)*interval + time.Duration(k)*interval/time.Duration(len(sides)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					sd := sides[k]
					now := time.Since(base)
					late := now - due.Sub(base)
					if n%8 == 0 {
						myLag = append(myLag, late)
					}
					if _, err := sd.conn.Write(sd.message(o.ack, now)); err != nil {
						writeErr.CompareAndSwap(nil, fmt.Errorf("%s: %w", sd.email, err))
						continue
					}
					sd.sent.Add(1)
				}
			}
			lagMu.Lock()
			lag = append(lag, myLag...)
			lagMu.Unlock()
		}(w)
	}
	wg.Wait()
	err, _ := writeErr.Load().(error)
	return lag, err
}

// collect waits up to --drain-timeout for the relays (and, with ack A, the
// ACKs) still in flight, stops the readers and gathers their counts and
// latencies into r.
func (b *sbBench) collect(sides []*sbSide, r *sbRelayRun) {
	o := b.o
	for _, sd := range sides {
		r.sent += sd.sent.Load()
	}
	want := func() (relayed, acked int64) {
		for _, sd := range sides {
			relayed += sd.got.Load()
			acked += sd.acks.Load() + sd.naks.Load()
		}
		return
	}
	wantAcks := r.sent
	if o.ack != "A" {
		wantAcks = 0
	}
	drainEnd := time.Now().Add(o.drain)
	for time.Now().Before(drainEnd) {
		if rel, k := want(); rel >= r.sent && (o.ack != "A" || k >= wantAcks) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.relayed, _ = want()
	for _, sd := range sides {
		r.acks += sd.acks.Load()
		r.naks += sd.naks.Load()
	}
	// Stop the readers before reading their latencies.
	for _, sd := range sides {
		_ = sd.conn.SetReadDeadline(time.Now())
	}
	for _, sd := range sides {
		<-sd.done
		r.lat = append(r.lat, sd.lat...)
		if r.readErr == nil && sd.readErr != nil && !isTimeout(sd.readErr) {
			r.readErr = fmt.Errorf("%s: %w", sd.email, sd.readErr)
		}
	}
	sortDurations(r.lat)
	sortDurations(r.lag)
}

// report prints the relay's figures.
func (b *sbBench) report(r *sbRelayRun) {
	out := b.out
	fmt.Fprintf(out, "relay: %d messages sent in %s (%.0f/s), %d relayed (%.0f messages/s), %d lost; %d ACK, %d NAK\n",
		r.sent, r.sendTook.Round(time.Millisecond), float64(r.sent)/r.sendTook.Seconds(), r.relayed, float64(r.relayed)/r.sendTook.Seconds(), r.sent-r.relayed, r.acks, r.naks)
	fmt.Fprintf(out, "relay latency (MSG written to the other side's relayed MSG read): p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		pctl(r.lat, 0.50), pctl(r.lat, 0.90), pctl(r.lat, 0.99), pctl(r.lat, 0.999), pctl(r.lat, 1))
	fmt.Fprintf(out, "sender lag behind schedule (load generator): p50 %s  p99 %s  max %s\n", pctl(r.lag, 0.5), pctl(r.lag, 0.99), pctl(r.lag, 1))
	if cpu := r.cpuSend - r.cpu0; cpu > 0 && r.relayed > 0 {
		per := cpu / time.Duration(r.relayed)
		fmt.Fprintf(out, "server CPU during the relay: %s (%s per relayed message: one core would relay about %.0f messages/s)\n",
			cpu.Round(10*time.Millisecond), per.Round(100*time.Nanosecond), float64(time.Second)/float64(per))
	} else if b.o.ns.serverPID > 0 {
		fmt.Fprintln(out, "server CPU during the relay: under the 10 ms the kernel counts in (run longer to divide it)")
	}
	fmt.Fprintf(out, "load generator: %s; CPU during the relay %s\n", selfMemory(), (r.selfSend - r.self0).Round(10*time.Millisecond))
}

// verdict fails the run on a write or read error, a lost message or (ack
// A) a missing ACK.
func (b *sbBench) verdict(ctx context.Context, r *sbRelayRun) error {
	o := b.o
	if r.writeErr != nil {
		return fmt.Errorf("write: %w", r.writeErr)
	}
	if r.readErr != nil {
		return r.readErr
	}
	if r.relayed < r.sent {
		return fmt.Errorf("%d of %d messages not relayed within %s", r.sent-r.relayed, r.sent, o.drain)
	}
	if o.ack == "A" && (r.acks != r.sent || r.naks != 0) {
		return fmt.Errorf("%d messages sent with ack A got %d ACK and %d NAK", r.sent, r.acks, r.naks)
	}
	return ctx.Err()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// closeAll closes the switchboard connections (each participant sends OUT
// first, as clients leaving do).
func (b *sbBench) closeAll() {
	b.mu.Lock()
	sides := b.sides
	b.mu.Unlock()
	for _, sd := range sides {
		_ = sd.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(sd.conn, "OUT\r\n")
		sd.conn.Close()
	}
}
