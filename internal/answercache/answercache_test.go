package answercache

import (
	"bytes"
	"runtime"
	"testing"
)

type key struct {
	account int64
	variant bool
}

func TestCacheIsBoundedLRU(t *testing.T) {
	c := New[key](100)
	k := func(id int64) key { return key{account: id, variant: true} }
	c.Put(k(1), 7, bytes.Repeat([]byte("a"), 40))
	c.Put(k(2), 7, bytes.Repeat([]byte("b"), 40))
	if _, ok := c.Get(k(1), 7); !ok { // 1 is now the most recently used
		t.Fatal("entry 1 missing")
	}
	c.Put(k(3), 7, bytes.Repeat([]byte("c"), 40)) // 120 bytes > 100: evicts 2
	if _, ok := c.Get(k(2), 7); ok {
		t.Error("least recently used entry kept past the bound")
	}
	for _, id := range []int64{1, 3} {
		if _, ok := c.Get(k(id), 7); !ok {
			t.Errorf("entry %d evicted", id)
		}
	}
	if c.Size() != 80 {
		t.Errorf("size %d, want 80", c.Size())
	}
	c.Put(k(4), 7, bytes.Repeat([]byte("d"), 101)) // larger than the bound: not kept
	if _, ok := c.Get(k(4), 7); ok || c.Size() != 80 {
		t.Error("oversized answer cached")
	}
	if _, ok := c.Get(k(1), 8); ok {
		t.Error("another revision hit the cache")
	}
}

func TestCacheKeepsOnlyTheNewestRevision(t *testing.T) {
	c := New[key](1000)
	c.Put(key{1, true}, 5, []byte("old"))
	c.Put(key{1, false}, 5, []byte("other variant"))
	c.Put(key{1, true}, 6, []byte("new"))
	if _, ok := c.Get(key{1, true}, 5); ok {
		t.Error("older revision kept")
	}
	if b, ok := c.Get(key{1, true}, 6); !ok || string(b) != "new" {
		t.Error("newest revision missing")
	}
	if _, ok := c.Get(key{1, false}, 5); !ok {
		t.Error("other variant dropped")
	}
	// A late writer with an older revision does not replace the newer one.
	c.Put(key{1, true}, 4, []byte("late"))
	if _, ok := c.Get(key{1, true}, 4); ok {
		t.Error("older answer stored over a newer one")
	}
	if b, _ := c.Get(key{1, true}, 6); string(b) != "new" {
		t.Error("newer answer lost to a late writer")
	}
	if c.Size() != len("new")+len("other variant") {
		t.Errorf("size %d", c.Size())
	}
}

func TestCacheSameRevisionAgainReplacesTheBody(t *testing.T) {
	c := New[key](1000)
	c.Put(key{1, true}, 5, []byte("first"))
	c.Put(key{1, true}, 5, []byte("second!"))
	if b, ok := c.Get(key{1, true}, 5); !ok || string(b) != "second!" || c.Size() != len("second!") {
		t.Errorf("got %q %v, size %d", b, ok, c.Size())
	}
}

// TestCacheHoldsWhatItCounts measures the heap a full cache holds: bodies
// written into buffers a third larger than they are (as the renderers
// size them) are kept at their own size, and the entries add next to
// nothing, so a cache bounded at 16 MiB holds 16 MiB, not 21.
func TestCacheHoldsWhatItCounts(t *testing.T) {
	const max = 16 << 20
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	c := New[key](max)
	for i := int64(0); i < 200; i++ {
		body := make([]byte, 300_000, 400_000) // a 300-contact book in a renderer's buffer
		body[0] = byte(i)
		c.Put(key{account: i}, 1, body)
		runtime.GC() // let the renderer's buffer go, as the response would
	}
	held := heap() - before
	if c.Size() > max {
		t.Fatalf("Size %d over the bound %d", c.Size(), max)
	}
	if n := len(c.items); n != max/300_000 {
		t.Fatalf("%d answers of 300,000 bytes kept in %d bytes, want %d", n, max, max/300_000)
	}
	t.Logf("bound %d B, Size %d B, heap held %d B (%.3f of the bound)", max, c.Size(), held, float64(held)/max)
	if held > max+max/50 {
		t.Fatalf("a cache bounded at %d B holds %d B of heap", max, held)
	}
	runtime.KeepAlive(c)
}

// TestHolds: Holds is true while an answer for the key is kept, at any
// revision, and false once it is evicted.
func TestHolds(t *testing.T) {
	c := New[key](100)
	if c.Holds(key{account: 1}) {
		t.Fatal("an empty cache holds an answer")
	}
	c.Put(key{account: 1}, 7, bytes.Repeat([]byte("a"), 60))
	if !c.Holds(key{account: 1}) || c.Holds(key{account: 1, variant: true}) {
		t.Fatal("Holds does not follow the key")
	}
	c.Put(key{account: 2}, 3, bytes.Repeat([]byte("b"), 60)) // evicts 1
	if c.Holds(key{account: 1}) || !c.Holds(key{account: 2}) {
		t.Fatal("Holds after an eviction")
	}
}
