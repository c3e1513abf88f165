package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

// writeLargeDump writes a lists-format dump of n accounts in which each
// account has the 10 next accounts (mod n) on FL+AL+RL and is on theirs, so
// every account has 20 entries (n×20 contact rows, all FL⇔RL consistent),
// three groups with the forward contacts spread over them.
func writeLargeDump(tb testing.TB, path string, n int) int {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rows := 0
	const hash = "pbkdf2_sha256$24000$95b4383b08fc06e$iwJRy0DxV//lhIQPfF/zYgiR5vORYgFt03ZjQfpGlQQ="
	addr := func(i int) string { return "user" + strconv.Itoa(i) + "@bench.example.com" }
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, `{"v":1,"email":%q,"display_name":"User %d","password_hash":%q,"created":"2015-01-02T03:04:05Z","blp":"AL","gtc":"A","groups":[{"name":"Friends"},{"name":"Work"},{"name":"Family"}],"contacts":[`, addr(i), i, hash)
		for k := 1; k <= 10; k++ {
			if k > 1 {
				w.WriteString(",")
			}
			g := [...]string{"Friends", "Work", "Family"}[k%3]
			fmt.Fprintf(w, `{"email":%q,"lists":11,"display_name":"User %d","groups":[%q]}`, addr((i+k)%n), (i+k)%n, g)
			fmt.Fprintf(w, `,{"email":%q,"lists":11,"display_name":"User %d"}`, addr((i-k+n)%n), (i-k+n)%n)
			rows += 2
		}
		w.WriteString("]}\n")
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return rows
}

// BenchmarkImportLarge imports a generated dump into Postgres once and
// reports accounts/s, rows/s and peak memory. It runs only with
// ABCH_BENCH_LARGE=<accounts> (for example 100000) and ABCH_TEST_DATABASE_URL:
//
//	ABCH_BENCH_LARGE=100000 go test ./internal/importer -run XXX -bench BenchmarkImportLarge -benchtime 1x
func BenchmarkImportLarge(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("ABCH_BENCH_LARGE"))
	if n <= 0 {
		b.Skip("set ABCH_BENCH_LARGE=<accounts> to run")
	}
	path := filepath.Join(b.TempDir(), "dump.jsonl")
	rows := writeLargeDump(b, path, n)
	fi, _ := os.Stat(path)
	cfg := testenv.Config(b, testenv.DB{Name: store.DialectPostgres})
	st, err := store.Open(context.Background(), cfg, testenv.Logger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	src, done, err := OpenLists(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer done()

	var peakHeap, peakSys atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			if ms.Sys > peakSys.Load() {
				peakSys.Store(ms.Sys)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	b.ResetTimer()
	start := time.Now()
	sum, err := Run(context.Background(), st, src, Options{Progress: os.Stderr})
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	if err != nil {
		b.Fatal(err)
	}
	if sum.Created != n || sum.Skipped != 0 || len(sum.Inconsistencies) != 0 {
		b.Fatalf("summary %+v", sum)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	secs := elapsed.Seconds()
	b.ReportMetric(float64(n)/secs, "accounts/s")
	b.ReportMetric(float64(rows)/secs, "rows/s")
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
	fmt.Fprintf(os.Stderr, "import of %d accounts / %d contact rows (%d MiB dump): %s, %.0f accounts/s, %.0f rows/s, peak heap %d MiB, runtime Sys %d MiB, maxrss %d MiB; memberships %d, contacts %d\n",
		n, rows, fi.Size()>>20, elapsed.Round(time.Second), float64(n)/secs, float64(rows)/secs,
		peakHeap.Load()>>20, peakSys.Load()>>20, ru.Maxrss/1024, sum.MembersAdded, sum.ContactsAdded)
}
