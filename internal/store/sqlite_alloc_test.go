package store

import (
	"os"
	"runtime"
	"syscall"
	"testing"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
)

// TestAllocatorKeepsPages: with keepAllocatorPages done (Open does it for
// the embedded database), allocating and freeing a block the size of a
// stored answer's body again and again reuses one mapping: no page faults
// per cycle. Without the kept blocks every cycle maps a fresh 1 MiB and
// faults its pages in: NOKEEP=1 (this test only) skips keepAllocatorPages
// and shows it, measured 8, 25 and 50 faults per allocation of 30, 100 and
// 200 KB, against none with the blocks kept.
func TestAllocatorKeepsPages(t *testing.T) {
	if os.Getenv("NOKEEP") == "" {
		keepAllocatorPages()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tls := libc.NewTLS()
	defer tls.Close()
	const cycles = 500
	for _, size := range []int{30 << 10, 100 << 10, 200 << 10} {
		faults := func() int64 {
			var ru syscall.Rusage
			if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
				t.Fatal(err)
			}
			return ru.Minflt
		}
		touch := func(p uintptr) {
			b := (*[1 << 30]byte)(cptr(p))[:size:size]
			for i := 0; i < size; i += 4096 {
				b[i] = 1
			}
		}
		// Warm up: the allocator hands out each slot of its mapping once
		// before it reuses freed ones (~30 slots of 32 KB in 1 MiB), and
		// a slot's first use faults its pages in.
		for i := 0; i < 100; i++ {
			p := libc.Xmalloc(tls, types.Size_t(size))
			touch(p)
			libc.Xfree(tls, p)
		}
		before := faults()
		for i := 0; i < cycles; i++ {
			p := libc.Xmalloc(tls, types.Size_t(size))
			if p == 0 {
				t.Fatal("out of memory")
			}
			touch(p)
			libc.Xfree(tls, p)
		}
		n := faults() - before
		t.Logf("%d KB blocks: %d page faults in %d allocations", size>>10, n, cycles)
		if n > cycles/50 {
			t.Errorf("%d KB blocks: %d page faults in %d allocations (a mapping per allocation)", size>>10, n, cycles)
		}
	}
}
