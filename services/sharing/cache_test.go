package sharing

import (
	"bytes"
	"testing"
)

func TestAnswerCacheIsBoundedLRU(t *testing.T) {
	c := newAnswerCache(100)
	k := func(id int64) cacheKey { return cacheKey{account: id, revision: 7, messenger: true} }
	c.put(k(1), bytes.Repeat([]byte("a"), 40))
	c.put(k(2), bytes.Repeat([]byte("b"), 40))
	if _, ok := c.get(k(1)); !ok { // 1 is now the most recently used
		t.Fatal("entry 1 missing")
	}
	c.put(k(3), bytes.Repeat([]byte("c"), 40)) // 120 bytes > 100: evicts 2
	if _, ok := c.get(k(2)); ok {
		t.Error("least recently used entry kept past the bound")
	}
	for _, id := range []int64{1, 3} {
		if _, ok := c.get(k(id)); !ok {
			t.Errorf("entry %d evicted", id)
		}
	}
	if c.size != 80 {
		t.Errorf("size %d, want 80", c.size)
	}
	c.put(k(4), bytes.Repeat([]byte("d"), 101)) // larger than the bound: not kept
	if _, ok := c.get(k(4)); ok || c.size != 80 {
		t.Error("oversized answer cached")
	}
	if _, ok := c.get(cacheKey{account: 1, revision: 8, messenger: true}); ok {
		t.Error("another revision hit the cache")
	}
}

func TestAnswerCacheKeepsOnlyTheNewestRevision(t *testing.T) {
	c := newAnswerCache(1000)
	c.put(cacheKey{account: 1, revision: 5, messenger: true}, []byte("old"))
	c.put(cacheKey{account: 1, revision: 5, messenger: false}, []byte("other variant"))
	c.put(cacheKey{account: 1, revision: 6, messenger: true}, []byte("new"))
	if _, ok := c.get(cacheKey{account: 1, revision: 5, messenger: true}); ok {
		t.Error("older revision kept")
	}
	if b, ok := c.get(cacheKey{account: 1, revision: 6, messenger: true}); !ok || string(b) != "new" {
		t.Error("newest revision missing")
	}
	if _, ok := c.get(cacheKey{account: 1, revision: 5, messenger: false}); !ok {
		t.Error("other variant dropped")
	}
	// A late writer with an older revision does not replace the newer one.
	c.put(cacheKey{account: 1, revision: 4, messenger: true}, []byte("late"))
	if _, ok := c.get(cacheKey{account: 1, revision: 4, messenger: true}); ok {
		t.Error("older answer stored over a newer one")
	}
	if c.size != len("new")+len("other variant") {
		t.Errorf("size %d", c.size)
	}
}
