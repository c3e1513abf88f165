package events_test

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/broker"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// BenchmarkCommitToDelivery measures the time from Store.Write returning
// (commit) to the event arriving at a subscriber of the recipient's subject,
// through the relay and the embedded broker. Reports p50/p99 in µs.
func BenchmarkCommitToDelivery(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			cfg := testenv.Config(b, db)
			s := testenv.StartServer(b, cfg)
			acct, err := s.Store.CreateAccount(context.Background(), store.NewAccount{Email: "bench@example.com"})
			if err != nil {
				b.Fatal(err)
			}
			nc, err := nats.Connect(s.NATSURL)
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			arrived := make(chan string, 1)
			sub, err := nc.Subscribe(events.Subject(acct.CID), func(m *nats.Msg) {
				var ev events.Event
				_ = json.Unmarshal(m.Data, &ev)
				arrived <- ev.Data["seq"]
			})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Unsubscribe()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := selfChange(s.Store, acct, i); err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				select {
				case seq := <-arrived:
					if seq != strconv.Itoa(i) {
						b.Fatalf("got seq %s, want %d", seq, i)
					}
				case <-time.After(5 * time.Second):
					b.Fatal("event not delivered")
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkRelayDrain measures relay throughput alone: b.N events committed
// in one transaction while no relay runs, then one relay publishes them all
// to the embedded broker (each waiting for its PubAck) and marks them.
func BenchmarkRelayDrain(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			cfg := testenv.Config(b, db)
			ctx := context.Background()
			st, err := store.Open(ctx, cfg, testenv.Logger(b))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			acct, err := st.CreateAccount(ctx, store.NewAccount{Email: "bench@example.com"})
			if err != nil {
				b.Fatal(err)
			}
			err = st.Write(ctx, func(tx *store.Txn) error {
				if err := tx.Bump(acct.ID); err != nil {
					return err
				}
				for i := 0; i < b.N; i++ {
					if err := tx.Emit(acct.ID, events.SelfChanged(events.TypeMembershipChanged, store.Party(acct), map[string]string{"seq": strconv.Itoa(i), "member": "someone@example.com", "role": models.RoleAllow})); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			br, err := broker.Start(ctx, cfg, testenv.Logger(b))
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close(ctx)
			r := &events.Relay{Outbox: st, Publisher: br, Log: testenv.Logger(b), Batch: 500}
			b.ResetTimer()
			start := time.Now()
			r.Start()
			for r.Published() < uint64(b.N) {
				time.Sleep(time.Millisecond)
			}
			for {
				rows, err := st.UnpublishedEvents(ctx, 1)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			el := time.Since(start)
			b.StopTimer()
			_ = r.Close(ctx)
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
		})
	}
}
