package sb_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
)

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// envInt reads a positive integer setting of the load test.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestRelayLoad is the switchboard load test of issue 13 (opt-in, it takes
// the machine for a while):
//
//	ABCH_SB_LOAD=1 go test -count=1 -run TestRelayLoad -v ./services/sb/
//
// It signs in 2×ABCH_SB_LOAD_CONVERSATIONS (default 1000) MSNP13 users to
// the real abch (embedded database), opens one two-party conversation per
// pair through XFR SB / USR / CAL / RNG / ANS, then has every caller send
// ABCH_SB_LOAD_RATE (default 20) text messages a second for
// ABCH_SB_LOAD_SECONDS (default 10) while the callees time each relay
// (send → whole MSG read on the other socket, the load generator sharing
// the 2 cores). It reports messages per second and relay latency
// percentiles.
func TestRelayLoad(t *testing.T) {
	if os.Getenv("ABCH_SB_LOAD") == "" {
		t.Skip("set ABCH_SB_LOAD=1 to run the switchboard load test")
	}
	convs := envInt("ABCH_SB_LOAD_CONVERSATIONS", 1000)
	rate := envInt("ABCH_SB_LOAD_RATE", 20)
	seconds := envInt("ABCH_SB_LOAD_SECONDS", 10)
	cfg := testenv.Config(t, testenv.DB{Name: "sqlite"})
	e := msnptest.Start(t, cfg)

	start := time.Now()
	accts := make([]*models.Account, 2*convs)
	for i := range accts {
		accts[i] = e.Account(fmt.Sprintf("load%d@example.com", i), fmt.Sprintf("Load %d", i))
	}
	people := make([]*person, len(accts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range accts {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			people[i] = signIn(e, e.S.MSNPAddr, accts[i])
		}(i)
	}
	wg.Wait()
	t.Logf("%d users signed in in %s", len(people), time.Since(start).Round(time.Millisecond))

	start = time.Now()
	callers := make([]*msnptest.Conn, convs)
	callees := make([]*msnptest.Conn, convs)
	for i := 0; i < convs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			callers[i] = people[2*i].open(t)
			callees[i] = join(t, callers[i], people[2*i+1])
			callers[i].WaitFor("JOI ", soon)
		}(i)
	}
	wg.Wait()
	t.Logf("%d conversations opened in %s", convs, time.Since(start).Round(time.Millisecond))

	// Each message carries its send time; the callee measures the relay.
	const head = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=0\r\n\r\n"
	var sent, got atomic.Int64
	lat := make([][]time.Duration, convs)
	cpu0 := cpuTime()
	base := time.Now()
	stop := base.Add(time.Duration(seconds) * time.Second)
	for i := 0; i < convs; i++ {
		wg.Add(2)
		go func(i int) { // sender
			defer wg.Done()
			c := callers[i]
			tick := time.NewTicker(time.Second / time.Duration(rate))
			defer tick.Stop()
			// Stagger the conversations over one tick.
			time.Sleep(time.Duration(i) * time.Second / time.Duration(rate) / time.Duration(convs))
			n := 0
			for now := range tick.C {
				if now.After(stop) {
					break
				}
				n++
				body := head + strconv.FormatInt(int64(time.Since(base)), 10) + " " + strings.Repeat("x", 40)
				_ = c.C.SetWriteDeadline(time.Now().Add(soon))
				if _, err := c.C.Write([]byte("MSG " + strconv.Itoa(n) + " U " + strconv.Itoa(len(body)) + "\r\n" + body)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				sent.Add(1)
			}
		}(i)
		go func(i int) { // receiver
			defer wg.Done()
			c := callees[i]
			for {
				_, payload, err := c.Read(time.Until(stop) + 2*time.Second)
				if err != nil {
					return
				}
				at := time.Since(base)
				f := strings.Fields(payload[len(head):])
				if len(f) == 0 {
					continue
				}
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				lat[i] = append(lat[i], at-time.Duration(ns))
				got.Add(1)
			}
		}(i)
	}
	wg.Wait()
	cpu := cpuTime() - cpu0
	elapsed := time.Duration(seconds) * time.Second
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))]
	}
	t.Logf("%d conversations, %d sent, %d relayed in %s: %.0f messages/s; relay latency p50 %s p90 %s p99 %s max %s",
		convs, sent.Load(), got.Load(), elapsed, float64(got.Load())/elapsed.Seconds(),
		pct(0.5), pct(0.9), pct(0.99), pct(1))
	if n := got.Load(); n > 0 {
		per := cpu / time.Duration(n)
		t.Logf("CPU (switchboard and load generator in this process): %s, %s per relayed message: one idle core would relay about %.0f messages/s with its generator",
			cpu.Round(time.Millisecond), per, float64(time.Second)/float64(per))
	}
	if got.Load() < sent.Load() {
		t.Errorf("%d of %d messages not relayed", sent.Load()-got.Load(), sent.Load())
	}
}
