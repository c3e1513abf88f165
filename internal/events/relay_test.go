package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/abch-im/abch/internal/broker"
	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// childEnv makes the test binary run `abch serve` instead of the tests: the
// kill test starts it as a real process and SIGKILLs it.
const childEnv = "ABCH_EVENTS_TEST_SERVE_CHILD"

// arrival bounds the wait for events or marks that must come. It only delays
// a failing run: CI runs many packages, each with a broker, on two cores.
const arrival = 15 * time.Second

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(cli.Run([]string{"serve"}, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// pair creates alice and bob, the usual actor and recipient.
func pair(t *testing.T, st *store.Store) (alice, bob *models.Account) {
	t.Helper()
	ctx := context.Background()
	var err error
	if alice, err = st.CreateAccount(ctx, store.NewAccount{Email: "alice@example.com", DisplayName: "Alice A"}); err != nil {
		t.Fatal(err)
	}
	if bob, err = st.CreateAccount(ctx, store.NewAccount{Email: "bob@example.com", DisplayName: "Bob"}); err != nil {
		t.Fatal(err)
	}
	return alice, bob
}

// addReverse commits "actor added recipient": actor lands on recipient's
// Reverse list and recipient gets reverse.added, as the AB service does.
func addReverse(t testing.TB, st *store.Store, actor, recipient *models.Account, note string) {
	t.Helper()
	err := st.Write(context.Background(), func(tx *store.Txn) error {
		if err := tx.Bump(actor.ID, recipient.ID); err != nil {
			return err
		}
		if _, _, err := tx.PutMember(recipient.ID, models.RoleReverse, store.PassportRef(actor), actor.DisplayName, "", nil); err != nil {
			return err
		}
		return tx.Emit(recipient.ID, events.ReverseAdded(store.Party(recipient), store.Party(actor), models.NetworkPassport, true, note))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// selfChange commits an addressbook.changed event for owner with a sequence
// number in its data.
func selfChange(st *store.Store, owner *models.Account, seq int) error {
	return st.Write(context.Background(), func(tx *store.Txn) error {
		if err := tx.Bump(owner.ID); err != nil {
			return err
		}
		return tx.Emit(owner.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(owner), map[string]string{"seq": strconv.Itoa(seq)}))
	})
}

type received struct {
	ev    events.Event
	msgID string
}

// streamReader reads the ABCH_EVENTS stream for one subject from its start
// with an ordered consumer: what an NS replaying the stream would see.
type streamReader struct {
	mu   sync.Mutex
	got  []received
	cc   jetstream.ConsumeContext
	nc   *nats.Conn
	more chan struct{}
}

func readStream(t *testing.T, url, subject string) *streamReader {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	r := &streamReader{nc: nc, more: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cons jetstream.Consumer
	for {
		// The stream exists once abch's broker connected; retry briefly.
		cons, err = js.OrderedConsumer(ctx, broker.StreamName, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
		if err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("ordered consumer: %v", err)
	}
	r.cc, err = cons.Consume(func(m jetstream.Msg) {
		var ev events.Event
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			t.Errorf("bad event JSON %q: %v", m.Data(), err)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, received{ev: ev, msgID: m.Headers().Get(jetstream.MsgIDHeader)})
		r.mu.Unlock()
		select {
		case r.more <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cc.Stop(); nc.Close() })
	return r
}

// wait returns once n events arrived, failing after timeout.
func (r *streamReader) wait(t *testing.T, n int, timeout time.Duration) []received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.more:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("got %d events within %v, want %d", len(got), timeout, n)
		}
	}
}

func (r *streamReader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func unpublished(t *testing.T, st *store.Store) int {
	t.Helper()
	rows, err := st.UnpublishedEvents(context.Background(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

func TestRelayEmbeddedBroker(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		st := s.Store
		alice, bob := pair(t, st)
		if !s.Broker.Embedded() || s.NATSURL == "" {
			t.Fatalf("want an embedded broker with a client URL, got %q", s.NATSURL)
		}
		bobSub := readStream(t, s.NATSURL, events.Subject(bob.CID))
		aliceSub := readStream(t, s.NATSURL, events.Subject(alice.CID))

		t.Run("committed reverse.added reaches the recipient's subject within a second with exact ADL and NOT bytes", func(t *testing.T) {
			start := time.Now()
			addReverse(t, st, alice, bob, "hi bob")
			got := bobSub.wait(t, 1, arrival)
			if d := time.Since(start); d > time.Second {
				t.Errorf("delivered after %v", d)
			}
			ev := got[0].ev
			if ev.Type != events.TypeReverseAdded || ev.Recipient.Email != "bob@example.com" || ev.Recipient.CID != bob.CID ||
				ev.Actor == nil || ev.Actor.Email != "alice@example.com" || !ev.ToActorSessions {
				t.Fatalf("event: %+v", ev)
			}
			if got[0].msgID != ev.ID || ev.ID == "" {
				t.Errorf("Nats-Msg-Id %q, event id %q", got[0].msgID, ev.ID)
			}
			acct, err := st.AccountByID(context.Background(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Revision != models.FormatRevision(acct.Revision) {
				t.Errorf("revision %q, account at %q", ev.Revision, models.FormatRevision(acct.Revision))
			}
			if len(ev.NS) != 2 {
				t.Fatalf("ns commands: %+v", ev.NS)
			}
			adl := `<ml><d n="example.com"><c n="alice" t="1" l="8" f="Alice%20A" /></d></ml>`
			if ev.NS[0].Command != "ADL" || ev.NS[0].Args != "0" || ev.NS[0].Payload != adl {
				t.Errorf("ADL: %+v\nwant payload %s", ev.NS[0], adl)
			}
			low, high := uint32(bob.PUIDUnsigned()), uint32(bob.PUIDUnsigned()>>32)
			not := `<NOTIFICATION id="0" siteid="45705" siteurl="http://contacts.msn.com">` +
				fmt.Sprintf(`<TO pid="0x%08x:0x%08x" name="bob@example.com">`, low, high) +
				`<VIA agent="messenger" /></TO><MSG id="0"><SUBSCR url="s.htm" /><ACTION url="a.htm" /><BODY>` +
				`&lt;NotificationData xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"&gt;` +
				`&lt;Service&gt;ABCHInternal&lt;/Service&gt;&lt;CID&gt;` + strconv.FormatInt(bob.CID, 10) + `&lt;/CID&gt;` +
				`&lt;LastModifiedDate&gt;` + ev.Revision + `&lt;/LastModifiedDate&gt;&lt;HasNewItem&gt;false&lt;/HasNewItem&gt;&lt;/NotificationData&gt;` +
				`</BODY></MSG></NOTIFICATION>`
			if ev.NS[1].Command != "NOT" || ev.NS[1].Args != "" || ev.NS[1].Payload != not {
				t.Errorf("NOT: %+v\nwant payload %s", ev.NS[1], not)
			}
			if ev.Data["invite_message"] != "hi bob" || ev.Data["pending"] != "true" {
				t.Errorf("data: %v", ev.Data)
			}
			// The row is marked once acknowledged.
			deadline := time.Now().Add(arrival)
			for unpublished(t, st) != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := unpublished(t, st); n != 0 {
				t.Errorf("%d rows still unpublished", n)
			}
			if aliceSub.count() != 0 {
				t.Errorf("the actor's subject got the recipient's event")
			}
		})

		t.Run("a rolled-back transaction publishes nothing", func(t *testing.T) {
			before := bobSub.count()
			boom := errors.New("boom")
			err := st.Write(context.Background(), func(tx *store.Txn) error {
				if err := tx.Bump(bob.ID); err != nil {
					return err
				}
				if err := tx.Emit(bob.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(bob), map[string]string{"seq": "rolled-back"})); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("write: %v", err)
			}
			if err := selfChange(st, bob, 1); err != nil {
				t.Fatal(err)
			}
			bobSub.wait(t, before+1, arrival)
			time.Sleep(200 * time.Millisecond)
			got := bobSub.wait(t, before+1, arrival)
			if len(got) != before+1 || got[before].ev.Data["seq"] != "1" {
				t.Fatalf("after a rollback and one commit the subject holds %d new events, last %v", len(got)-before, got[len(got)-1].ev.Data)
			}
		})

		t.Run("per-recipient order holds under concurrent writers", func(t *testing.T) {
			before := bobSub.count()
			beforeA := aliceSub.count()
			const writers, each = 4, 15
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for i := 0; i < each; i++ {
						owner := bob
						if (w+i)%2 == 0 {
							owner = alice
						}
						if err := selfChange(st, owner, w*1000+i); err != nil {
							errs <- err
							return
						}
					}
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			total := writers * each
			gotB := bobSub.wait(t, before+total/2, arrival)[before:]
			gotA := aliceSub.wait(t, beforeA+total/2, arrival)[beforeA:]
			for name, got := range map[string][]received{"bob": gotB, "alice": gotA} {
				// Every transaction bumped the recipient's revision under
				// its row lock, so commit order is revision order.
				for i := 1; i < len(got); i++ {
					if got[i].ev.Revision <= got[i-1].ev.Revision {
						t.Errorf("%s: event %d (rev %s) after rev %s", name, i, got[i].ev.Revision, got[i-1].ev.Revision)
					}
				}
				// And each writer's own sequence is in order.
				last := map[int]int{}
				for _, r := range got {
					seq, _ := strconv.Atoi(r.ev.Data["seq"])
					w, i := seq/1000, seq%1000
					if prev, ok := last[w]; ok && i <= prev {
						t.Errorf("%s: writer %d event %d after %d", name, w, i, prev)
					}
					last[w] = i
				}
			}
		})

		t.Run("metrics show the relay's published count, leadership and an empty backlog", func(t *testing.T) {
			deadline := time.Now().Add(arrival)
			for unpublished(t, st) != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			resp, err := http.Get("http://" + s.HTTPAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{
				"abch_events_published_total " + strconv.FormatUint(s.Relay.Published(), 10) + "\n",
				"abch_events_relay_leader 1\n", "abch_events_outbox_backlog 0\n", "abch_events_publish_failures_total 0\n",
			} {
				if !strings.Contains(string(body), want) {
					t.Errorf("metrics lack %q", want)
				}
			}
		})

		t.Run("an event larger than the broker accepts is skipped, not a roadblock", func(t *testing.T) {
			before := bobSub.count()
			failures := s.Relay.Failures()
			err := st.Write(context.Background(), func(tx *store.Txn) error {
				if err := tx.Bump(bob.ID); err != nil {
					return err
				}
				return tx.Emit(bob.ID, events.SelfChanged(events.TypeAddressBookChanged, store.Party(bob), map[string]string{"seq": "huge", "blob": strings.Repeat("x", 2<<20)}))
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := selfChange(st, bob, 77); err != nil {
				t.Fatal(err)
			}
			got := bobSub.wait(t, before+1, arrival)
			if got[before].ev.Data["seq"] != "77" {
				t.Fatalf("next event: %v", got[before].ev.Data["seq"])
			}
			if s.Relay.Failures() != failures+1 {
				t.Errorf("failures %d -> %d", failures, s.Relay.Failures())
			}
			deadline := time.Now().Add(arrival)
			for unpublished(t, st) != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := unpublished(t, st); n != 0 {
				t.Errorf("%d rows left unpublished", n)
			}
		})

		t.Run("published rows are pruned after the retention period", func(t *testing.T) {
			var n int64
			st.DB.Raw(`SELECT count(*) FROM outbox WHERE published_at IS NOT NULL`).Scan(&n)
			if n == 0 {
				t.Fatal("no published rows to prune")
			}
			pruned, err := st.PrunePublished(context.Background(), time.Now().Add(time.Hour))
			if err != nil || pruned != n {
				t.Fatalf("pruned %d of %d: %v", pruned, n, err)
			}
			// Unpublished rows survive any prune (the relay is stopped so
			// the row stays unpublished).
			if err := s.Relay.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := st.DB.Exec(`INSERT INTO outbox (event_id, recipient_id, subject, payload, created_at) VALUES ('x-unpublished', ?, 'abch.events.none', '{}', ?)`, bob.ID, time.Now().Add(-48*time.Hour)).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := st.PrunePublished(context.Background(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			var left int64
			st.DB.Raw(`SELECT count(*) FROM outbox WHERE event_id = 'x-unpublished' AND published_at IS NULL`).Scan(&left)
			if left != 1 {
				t.Errorf("an unpublished row was pruned")
			}
		})
	})
}

// natsServer runs the nats-server binary (CI: $ABCH_TEST_NATS_SERVER) with
// JetStream storage in dir on port, and stops it at the end of the test.
type natsServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	bin := os.Getenv("ABCH_TEST_NATS_SERVER")
	if bin == "" {
		bin = "/usr/sbin/nats-server"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("nats-server binary: %v (set ABCH_TEST_NATS_SERVER)", err)
	}
	n := &natsServer{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	n.start()
	t.Cleanup(n.kill)
	return n
}

func (n *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

func (n *natsServer) start() {
	n.t.Helper()
	n.cmd = exec.Command(n.bin, "-js", "-sd", n.dir, "-a", "127.0.0.1", "-p", strconv.Itoa(n.port))
	if err := n.cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	n.t.Fatalf("nats-server did not listen on %d", n.port)
}

// kill stops the server abruptly (SIGKILL): what a crash looks like.
func (n *natsServer) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
	n.cmd = nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestRelayExternalBrokerOutage(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ns := startNATS(t)
		cfg.NATSURL = ns.url()
		s := testenv.StartServer(t, cfg)
		if s.Broker.Embedded() || s.NATSURL != ns.url() {
			t.Fatalf("with ABCH_NATS_URL nothing is embedded; got %q embedded=%v", s.NATSURL, s.Broker.Embedded())
		}
		st := s.Store
		_, bob := pair(t, st)
		sub := readStream(t, ns.url(), events.Subject(bob.CID))

		const total = 60
		for i := 0; i < 10; i++ {
			if err := selfChange(st, bob, i); err != nil {
				t.Fatal(err)
			}
		}
		sub.wait(t, 10, arrival)
		ns.kill()
		for i := 10; i < total; i++ {
			if err := selfChange(st, bob, i); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(300 * time.Millisecond)
		if n := unpublished(t, st); n == 0 {
			t.Fatalf("events were marked published while the broker was down")
		}
		ns.start()
		sub.wait(t, total, arrival)
		deadline := time.Now().Add(arrival)
		for unpublished(t, st) != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := unpublished(t, st); n != 0 {
			t.Fatalf("%d events still unpublished after the broker returned", n)
		}

		// Simulate the crash window (published, not marked): the relay
		// publishes every row again; JetStream drops them as duplicates.
		pub := s.Relay.Published()
		if err := st.DB.Exec(`UPDATE outbox SET published_at = NULL`).Error; err != nil {
			t.Fatal(err)
		}
		s.Relay.Wake()
		deadline = time.Now().Add(arrival)
		for s.Relay.Published() < pub+total && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if s.Relay.Published() < pub+total {
			t.Fatalf("relay re-published %d of %d", s.Relay.Published()-pub, total)
		}
		time.Sleep(300 * time.Millisecond)
		got := sub.wait(t, total, arrival)
		if len(got) != total {
			t.Fatalf("stream holds %d events, want exactly %d (duplicates not dropped)", len(got), total)
		}
		for i, r := range got {
			if r.ev.Data["seq"] != strconv.Itoa(i) {
				t.Fatalf("event %d has seq %s: order broken", i, r.ev.Data["seq"])
			}
		}
	})
}

// TestRelayAfterSIGKILL runs abch as a real process, commits events while its
// broker is unreachable, SIGKILLs it, and checks that a restarted abch
// publishes them.
func TestRelayAfterSIGKILL(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ns := startNATS(t)
		cfg.NATSURL = ns.url()
		// The store the test writes through: the same database the child uses.
		st, err := store.Open(context.Background(), cfg, testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, bob := pair(t, st)

		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), childEnv+"=1",
			"ABCH_DATA_DIR="+cfg.DataDir, "ABCH_DATABASE_URL="+cfg.DatabaseURL, "ABCH_NATS_URL="+cfg.NATSURL,
			"ABCH_HTTP_ADDR=127.0.0.1:0", "ABCH_NS_ADDR=127.0.0.1:0", "ABCH_MSNP_ADDR=127.0.0.1:0", "ABCH_SB_ADDR=127.0.0.1:0", "ABCH_WEB_ADDR=127.0.0.1:0", "ABCH_NS_KEY=k", "ABCH_LOG_LEVEL=error")
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = child.Process.Kill(); _, _ = child.Process.Wait() }()
		sub := readStream(t, ns.url(), events.Subject(bob.CID))

		// The child publishes what is committed while the broker is up (it
		// polls the outbox: these commits come from another process).
		if err := selfChange(st, bob, 0); err != nil {
			t.Fatal(err)
		}
		sub.wait(t, 1, arrival)
		// The subscriber can see event 0 before the child's relay has its
		// PubAck and marks the row; wait for the mark so the kill below
		// cannot catch it in between (it would then, correctly, stay
		// pending and be re-sent, but the count would be 21).
		for deadline := time.Now().Add(10 * time.Second); unpublished(t, st) != 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the child never marked event 0 published")
			}
		}

		ns.kill()
		for i := 1; i <= 20; i++ {
			if err := selfChange(st, bob, i); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(1500 * time.Millisecond) // the child's relay tries and fails
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_, _ = child.Process.Wait()
		if n := unpublished(t, st); n != 20 {
			t.Fatalf("%d unpublished rows after the kill, want 20", n)
		}

		ns.start()
		testenv.StartServer(t, cfg)
		sub.wait(t, 21, arrival)
		time.Sleep(200 * time.Millisecond)
		got := sub.wait(t, 21, arrival)
		if len(got) != 21 {
			t.Fatalf("stream holds %d events, want 21", len(got))
		}
		for i, r := range got {
			if r.ev.Data["seq"] != strconv.Itoa(i) {
				t.Fatalf("event %d has seq %s", i, r.ev.Data["seq"])
			}
		}
	})
}

// TestRelayLeaderLock runs two abch instances on one Postgres database and
// one NATS server: only one relay publishes at a time, and when the leader
// stops the other takes over. (The embedded database belongs to one process,
// so there the lock is always granted.)
func TestRelayLeaderLock(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		db := db
		t.Run(db.Name, func(t *testing.T) {
			cfg := testenv.Config(t, db)
			if db.Name != store.DialectPostgres {
				st, err := store.Open(context.Background(), cfg, testenv.Logger(t))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				a, err1 := st.TryRelayLock(context.Background())
				b, err2 := st.TryRelayLock(context.Background())
				if a == nil || b == nil || err1 != nil || err2 != nil {
					t.Fatalf("embedded database: lock %v %v (%v %v)", a, b, err1, err2)
				}
				return
			}
			ns := startNATS(t)
			cfg.NATSURL = ns.url()
			ctxA, stopA := context.WithCancel(context.Background())
			a, err := server.Start(ctxA, cfg, testenv.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			doneA := make(chan error, 1)
			go func() { doneA <- a.Run(ctxA) }()
			defer func() { stopA(); <-doneA }()
			waitFor(t, "A leads", a.Relay.Leader)

			b := testenv.StartServer(t, cfg)
			time.Sleep(300 * time.Millisecond)
			if b.Relay.Leader() {
				t.Fatal("two relays lead at once")
			}
			if st, err := b.Store.TryRelayLock(context.Background()); st != nil || err != nil {
				t.Fatalf("lock granted while held: %v %v", st, err)
			}

			_, bob := pair(t, b.Store)
			sub := readStream(t, ns.url(), events.Subject(bob.CID))
			// Committed on B, published by A (which finds it on its poll).
			if err := selfChange(b.Store, bob, 0); err != nil {
				t.Fatal(err)
			}
			sub.wait(t, 1, arrival)
			waitFor(t, "A counts its publish", func() bool { return a.Relay.Published() == 1 })
			if a.Relay.Published() != 1 || b.Relay.Published() != 0 {
				t.Errorf("published by A %d, by B %d", a.Relay.Published(), b.Relay.Published())
			}

			stopA()
			<-doneA
			doneA <- nil
			waitFor(t, "B takes over", b.Relay.Leader)
			if err := selfChange(b.Store, bob, 1); err != nil {
				t.Fatal(err)
			}
			got := sub.wait(t, 2, arrival)
			// The PubAck may reach the relay just after the subscriber.
			waitFor(t, "B counts its publish", func() bool { return b.Relay.Published() == 1 })
			if got[1].ev.Data["seq"] != "1" || b.Relay.Published() != 1 {
				t.Errorf("after failover: %v, B published %d", got[1].ev.Data, b.Relay.Published())
			}
		})
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(arrival)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRelayNotifyAcrossInstances: a commit in an instance that does not lead
// reaches the leader at once through Postgres NOTIFY. Both relays poll only
// once an hour here, so a prompt delivery can only come from the
// notification.
func TestRelayNotifyAcrossInstances(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		if db.Name != store.DialectPostgres {
			continue // one process owns the embedded database
		}
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			cfg := testenv.Config(t, db)
			open := func() *store.Store {
				st, err := store.Open(ctx, cfg, testenv.Logger(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			stA, stB := open(), open()
			if err := stA.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			br, err := broker.Start(ctx, cfg, testenv.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer br.Close(ctx)
			relayA := &events.Relay{Outbox: stA, Publisher: br, Log: testenv.Logger(t), Poll: time.Hour}
			relayA.Start()
			defer relayA.Close(ctx)
			waitFor(t, "A leads", relayA.Leader)
			relayB := &events.Relay{Outbox: stB, Publisher: br, Log: testenv.Logger(t), Poll: time.Hour}
			relayB.Start()
			defer relayB.Close(ctx)

			_, bob := pair(t, stB)
			sub := readStream(t, br.URL, events.Subject(bob.CID))
			for i := 0; i < 3; i++ {
				start := time.Now()
				if err := selfChange(stB, bob, i); err != nil {
					t.Fatal(err)
				}
				sub.wait(t, i+1, arrival)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("event %d took %v", i, d)
				}
			}
			if relayB.Leader() || relayB.Published() != 0 {
				t.Errorf("B leads=%v published %d", relayB.Leader(), relayB.Published())
			}
			waitFor(t, "A counts", func() bool { return relayA.Published() == 3 })
		})
	}
}
