package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Status is the service health the dashboard shows (and /admin/metrics.json
// returns), read when the page is asked for.
type Status struct {
	Version       string    `json:"version"`
	Database      string    `json:"database"` // dialect
	DatabaseOK    bool      `json:"database_ok"`
	DatabaseError string    `json:"database_error"`
	DatabaseMs    float64   `json:"database_ms"` // one ping
	Accounts      int64     `json:"accounts"`
	Broker        string    `json:"broker"` // connection state, "" when unknown
	BrokerOK      bool      `json:"broker_ok"`
	BrokerHere    bool      `json:"broker_here"` // the embedded broker
	RelayLeader   bool      `json:"relay_leader"`
	Backlog       float64   `json:"backlog"`   // outbox events not yet published (-1: unknown)
	Published     float64   `json:"published"` // events this process published
	PublishFails  float64   `json:"publish_fails"`
	NSHere        bool      `json:"ns_here"` // an NS runs in this process
	SignedIn      int       `json:"signed_in"`
	SignInsPerMin float64   `json:"sign_ins_per_minute"` // over the last minute of samples
	FaultsPerMin  float64   `json:"faults_per_minute"`
	SampledAt     time.Time `json:"sampled_at"`
}

func (w *Web) status(r *http.Request) Status {
	d := w.deps
	st := Status{Version: d.Version, Database: d.Store.Dialect, Backlog: -1}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	t0 := time.Now()
	if err := d.Store.Ping(ctx); err != nil {
		st.DatabaseError = err.Error()
	} else {
		st.DatabaseOK = true
		st.DatabaseMs = float64(time.Since(t0).Microseconds()) / 1000
		_ = d.Store.DB.WithContext(ctx).Raw(`SELECT count(*) FROM accounts`).Scan(&st.Accounts).Error
	}
	if d.Health.Broker != nil {
		st.Broker, st.BrokerHere = d.Health.Broker()
		st.BrokerOK = st.Broker == "CONNECTED"
	}
	if d.Health.Relay != nil {
		st.RelayLeader = d.Health.Relay()
	}
	if d.Health.NS != nil {
		st.SignedIn, st.NSHere = d.Health.NS()
	}
	s := readMetrics(d.Health)
	st.Backlog, st.Published, st.PublishFails = s.Backlog, s.Published, s.PublishFails
	if last, prev, ok := w.samples.lastMinute(); ok {
		st.SignInsPerMin, st.FaultsPerMin = perMinute(prev, last, func(s sample) float64 { return s.SignIns }), perMinute(prev, last, func(s sample) float64 { return s.Faults })
		st.SampledAt = last.At
	}
	return st
}

// metricsJSON is the dashboard's numbers for scripts and monitoring that
// hold the operator token.
func (w *Web) metricsJSON(rw http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(w.status(r), "", "  ")
	if err != nil {
		w.internal(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(append(b, '\n'))
}

// sample is one reading of the /metrics numbers the charts draw.
type sample struct {
	At           time.Time
	SignIns      float64 // abch_soap_requests_total{service="passport",fault=""}
	Faults       float64 // abch_soap_requests_total{fault!=""}
	Backlog      float64 // abch_events_outbox_backlog
	Published    float64 // abch_events_published_total
	PublishFails float64 // abch_events_publish_failures_total
	SignedIn     float64 // abch_ns_signed_in (0 without an in-process NS)
}

// readMetrics gathers the registry /metrics exports (the same numbers,
// not a second count).
func readMetrics(h Health) sample {
	s := sample{Backlog: -1}
	if h.Metrics == nil {
		return s
	}
	fams, err := h.Metrics.Gather()
	if err != nil && len(fams) == 0 {
		return s
	}
	for _, f := range fams {
		switch f.GetName() {
		case "abch_soap_requests_total":
			for _, m := range f.GetMetric() {
				l := labels(m)
				v := m.GetCounter().GetValue()
				if l["fault"] != "" {
					s.Faults += v
				} else if l["service"] == "passport" {
					s.SignIns += v
				}
			}
		case "abch_events_outbox_backlog":
			s.Backlog = gaugeOf(f)
		case "abch_events_published_total":
			s.Published = counterOf(f)
		case "abch_events_publish_failures_total":
			s.PublishFails = counterOf(f)
		case "abch_ns_signed_in":
			s.SignedIn = gaugeOf(f)
		}
	}
	return s
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func gaugeOf(f *dto.MetricFamily) float64 {
	if ms := f.GetMetric(); len(ms) > 0 {
		return ms[0].GetGauge().GetValue()
	}
	return 0
}

func counterOf(f *dto.MetricFamily) float64 {
	if ms := f.GetMetric(); len(ms) > 0 {
		return ms[0].GetCounter().GetValue()
	}
	return 0
}

func perMinute(prev, last sample, f func(sample) float64) float64 {
	dt := last.At.Sub(prev.At).Minutes()
	if dt <= 0 {
		return 0
	}
	d := f(last) - f(prev)
	if d < 0 { // a counter reset
		return 0
	}
	return d / dt
}

// keepSamples is how many samples the charts draw (an hour at 10 s).
const keepSamples = 360

// sampler reads the metrics every interval into a ring for the charts.
type sampler struct {
	mu   sync.Mutex
	ring []sample
	done chan struct{}
	once sync.Once
}

func startSampler(h Health, every time.Duration, now func() time.Time) *sampler {
	if every <= 0 {
		every = 10 * time.Second
	}
	s := &sampler{done: make(chan struct{})}
	take := func() {
		x := readMetrics(h)
		x.At = now()
		s.mu.Lock()
		s.ring = append(s.ring, x)
		if len(s.ring) > keepSamples {
			s.ring = s.ring[len(s.ring)-keepSamples:]
		}
		s.mu.Unlock()
	}
	go func() {
		take()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				take()
			}
		}
	}()
	return s
}

func (s *sampler) stop() { s.once.Do(func() { close(s.done) }) }

// lastMinute returns the latest sample and the earliest one at most a
// minute older.
func (s *sampler) lastMinute() (last, first sample, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ring) < 2 {
		return sample{}, sample{}, false
	}
	last = s.ring[len(s.ring)-1]
	first = s.ring[len(s.ring)-2]
	for i := len(s.ring) - 2; i >= 0 && last.At.Sub(s.ring[i].At) <= time.Minute; i-- {
		first = s.ring[i]
	}
	return last, first, true
}

// chart is one small server-rendered SVG line chart.
type chart struct {
	Title  string
	Now    string // the latest value
	Max    string // the top of the scale
	Points string // the polyline, in a 300×80 box
	Span   string // the time the chart covers
}

const chartW, chartH = 300.0, 80.0

// charts draws sign-ins and faults per minute, the outbox backlog and the
// NS's signed-in accounts over the kept samples.
func (s *sampler) charts() []chart {
	s.mu.Lock()
	ring := append([]sample(nil), s.ring...)
	s.mu.Unlock()
	// A rate at each sample is over the minute before it (or what there
	// is of it), so 10-second samples draw a smooth per-minute line.
	rate := func(f func(sample) float64) []float64 {
		var out []float64
		j := 0
		for i := 1; i < len(ring); i++ {
			for ring[i].At.Sub(ring[j].At) > time.Minute {
				j++
			}
			from := ring[min(j, i-1)]
			out = append(out, perMinute(from, ring[i], f))
		}
		return out
	}
	level := func(f func(sample) float64) []float64 {
		var out []float64
		for _, x := range ring {
			out = append(out, max(f(x), 0))
		}
		return out
	}
	span := ""
	if len(ring) > 1 {
		span = ring[len(ring)-1].At.Sub(ring[0].At).Round(time.Second).String()
	}
	return []chart{
		draw("Sign-ins per minute", rate(func(x sample) float64 { return x.SignIns }), span),
		draw("Faults per minute", rate(func(x sample) float64 { return x.Faults }), span),
		draw("Outbox backlog (events)", level(func(x sample) float64 { return x.Backlog }), span),
		draw("Signed in to the NS", level(func(x sample) float64 { return x.SignedIn }), span),
	}
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func draw(title string, vals []float64, span string) chart {
	c := chart{Title: title, Now: "–", Max: "0", Span: span}
	if len(vals) == 0 {
		return c
	}
	top := 0.0
	for _, v := range vals {
		top = max(top, v)
	}
	c.Now = fmt.Sprintf("%.1f", vals[len(vals)-1])
	c.Max = fmt.Sprintf("%.1f", top)
	if top == 0 {
		top = 1
	}
	var pts []string
	for i, v := range vals {
		x := chartW
		if len(vals) > 1 {
			x = float64(i) * chartW / float64(len(vals)-1)
		}
		y := chartH - 2 - v/top*(chartH-4)
		pts = append(pts, num(float64(int(x*10))/10)+","+num(float64(int(y*10))/10))
	}
	c.Points = strings.Join(pts, " ")
	return c
}
