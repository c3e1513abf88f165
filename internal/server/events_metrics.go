package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// registerEventMetrics exposes the relay on /metrics: events published and
// failed publish attempts by this process, whether it leads, and the outbox
// backlog (committed events not yet acknowledged by the broker, from the
// database, so it is right on every instance).
func (s *Server) registerEventMetrics(reg *prometheus.Registry) {
	r := s.Relay
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "abch_events_published_total", Help: "Events published to the broker and acknowledged by this process.",
		}, func() float64 { return float64(r.Published()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "abch_events_publish_failures_total", Help: "Failed attempts to publish an outbox batch (broker unreachable or refusing).",
		}, func() float64 { return float64(r.Failures()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "abch_events_relay_leader", Help: "1 when this process holds the relay leader lock.",
		}, func() float64 {
			if r.Leader() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "abch_events_outbox_backlog", Help: "Committed events not yet published (-1 when the database did not answer).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var n int64
			if err := s.Store.DB.WithContext(ctx).Raw(`SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&n).Error; err != nil {
				return -1
			}
			return float64(n)
		}),
	)
}

// registerNSMetrics exposes the in-process Notification Server on /metrics:
// open MSNP connections and signed-in accounts (NS processes of their own,
// `abch ns`, are not counted here).
func (s *Server) registerNSMetrics(reg *prometheus.Registry) {
	n := s.NS
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "abch_ns_connections", Help: "Open MSNP connections of the in-process Notification Server.",
		}, func() float64 { return float64(n.Sessions()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "abch_ns_signed_in", Help: "Accounts signed in to the in-process Notification Server.",
		}, func() float64 { return float64(n.SignedIn()) }),
	)
}
