package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// staticServer answers each benchmark request body with the bytes the real
// server answered it with, as a static file server would: read the
// request, write the stored answer with its Content-Length. It is the
// ceiling issue 19's figures are given against — the same bytes, the same
// HTTP client and machine, no database and no rendering — measured in the
// same run as the real server.
type staticServer struct {
	srv     *http.Server
	url     string
	answers map[string][]byte
}

// startStatic fetches the real server's answer to each body once and
// serves them on a free loopback port.
func startStatic(ctx context.Context, c *http.Client, realURL string, bodies []string) (*staticServer, error) {
	s := &staticServer{answers: make(map[string][]byte, len(bodies))}
	for _, b := range bodies {
		if _, ok := s.answers[b]; ok {
			continue
		}
		out, err := benchPost(ctx, c, realURL, b)
		if err != nil {
			return nil, fmt.Errorf("static: fetching the answer to serve: %w", err)
		}
		s.answers[b] = out
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String() + "/static"
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *staticServer) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, ok := s.answers[string(body)]
	if !ok {
		http.Error(w, "no such request", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	_, _ = w.Write(out)
}

func (s *staticServer) close() { _ = s.srv.Close() }

// benchRound is one timed run's figures.
type benchRound struct {
	rps float64
	p50 time.Duration
	p99 time.Duration
}

func (r *benchResult) round(d time.Duration) benchRound {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	at := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[int(p*float64(len(r.lat)-1))]
	}
	return benchRound{rps: float64(len(r.lat)) / d.Seconds(), p50: at(0.5), p99: at(0.99)}
}

// medianRound is the median of each figure over rounds.
func medianRound(rounds []benchRound) benchRound {
	if len(rounds) == 0 {
		return benchRound{}
	}
	rps := make([]float64, len(rounds))
	p50 := make([]time.Duration, len(rounds))
	p99 := make([]time.Duration, len(rounds))
	for i, r := range rounds {
		rps[i], p50[i], p99[i] = r.rps, r.p50, r.p99
	}
	sort.Float64s(rps)
	sort.Slice(p50, func(i, j int) bool { return p50[i] < p50[j] })
	sort.Slice(p99, func(i, j int) bool { return p99[i] < p99[j] })
	m := len(rounds) / 2
	if len(rounds)%2 == 0 {
		return benchRound{rps: (rps[m-1] + rps[m]) / 2, p50: (p50[m-1] + p50[m]) / 2, p99: (p99[m-1] + p99[m]) / 2}
	}
	return benchRound{rps: rps[m], p50: p50[m], p99: p99[m]}
}

// runRounds runs the load rounds times against the server and, with a
// static server, each time also against it first, and prints every run,
// the medians and the ratio of the medians.
func (a *app) runRounds(ctx context.Context, c *http.Client, endpoint string, bodies []string, conc int, d time.Duration, rounds int, static *staticServer) error {
	var real, stat []benchRound
	for i := 1; i <= rounds; i++ {
		if static != nil {
			res := runBench(ctx, c, static.url, bodies, conc, d)
			if res.errors > 0 {
				return fmt.Errorf("static server: %d requests failed (first: %v)", res.errors, res.firstErr)
			}
			r := res.round(d)
			stat = append(stat, r)
			fmt.Fprintf(a.stdout, "round %d static: %.0f requests/s, p50 %s, p99 %s\n", i, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
		}
		res := runBench(ctx, c, endpoint, bodies, conc, d)
		if rounds == 1 && static == nil {
			res.print(a.stdout, d)
		}
		if res.errors > 0 {
			return fmt.Errorf("%d requests failed (first: %v)", res.errors, res.firstErr)
		}
		r := res.round(d)
		real = append(real, r)
		if rounds > 1 || static != nil {
			fmt.Fprintf(a.stdout, "round %d abch:   %.0f requests/s, p50 %s, p99 %s\n", i, r.rps, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
		}
	}
	if rounds == 1 && static == nil {
		return nil
	}
	m := medianRound(real)
	fmt.Fprintf(a.stdout, "median of %d: abch %.0f requests/s, p50 %s, p99 %s\n", rounds, m.rps, m.p50.Round(10*time.Microsecond), m.p99.Round(10*time.Microsecond))
	if static != nil {
		s := medianRound(stat)
		fmt.Fprintf(a.stdout, "median of %d: static %.0f requests/s, p50 %s, p99 %s\n", rounds, s.rps, s.p50.Round(10*time.Microsecond), s.p99.Round(10*time.Microsecond))
		if s.rps > 0 {
			fmt.Fprintf(a.stdout, "ratio abch/static (medians): %.3f\n", m.rps/s.rps)
		}
	}
	return nil
}
