// Package answercache keeps rendered answers (the Address Book's full
// ABFindAll, Sharing's full FindMembership) so an unchanged book is not
// read and rendered again.
//
// An answer is stored under a key (account and answer variant) with the
// account revision it describes. Entries never go stale: every change bumps
// the account's revision (DESIGN.md "Revisions and delta sync"), and the
// ticket check already loads that revision, so a cached body is valid
// exactly while its revision is the account's and no invalidation is ever
// needed. Only the newest revision of a key is kept, so a busy account does
// not crowd others out with answers nobody will ask for again.
package answercache

import (
	"container/list"
	"sync"
)

// Cache is a byte-bounded LRU of answers, safe for concurrent use. The
// zero value is not usable; call New.
type Cache[K comparable] struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used; values are *entry[K]
	items map[K]*list.Element
}

type entry[K comparable] struct {
	key  K
	rev  int64
	body []byte
}

// New returns a Cache holding at most maxBytes of answer bodies.
func New[K comparable](maxBytes int) *Cache[K] {
	return &Cache[K]{max: maxBytes, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the answer cached for key at exactly rev. Callers must not
// modify it.
func (c *Cache[K]) Get(key K, rev int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*entry[K])
	if e.rev != rev {
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.body, true
}

// Holds reports whether an answer for key is kept at any revision: a
// caller with none can skip reading the current revision before reading
// the answer's data.
func (c *Cache[K]) Holds(key K) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.items[key]
	return ok
}

// Put stores body for key at rev, replacing an older revision, unless a
// newer revision is already kept (a late writer). Least recently used
// answers are evicted past the byte bound; an answer larger than the whole
// bound is not kept. The body must never be modified afterwards.
//
// The bound counts what the bodies hold in memory, their capacity: a
// renderer sizes its buffer from an upper estimate (a third more than the
// answer for a typical book), so a body with more than 1/16 spare capacity
// is kept as an exact copy instead; otherwise a 64 MiB cache would hold
// up to 85 MiB. The entry itself (list element, map slot) adds about
// 150 bytes, 0.05 % of a 300-contact book (TestCacheHoldsWhatItCounts).
func (c *Cache[K]) Put(key K, rev int64, body []byte) {
	if len(body) > c.max {
		return
	}
	if cap(body)-len(body) > len(body)/16 {
		body = append(make([]byte, 0, len(body)), body...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry[K])
		if e.rev > rev {
			return
		}
		c.size += cap(body) - cap(e.body)
		e.rev, e.body = rev, body
		c.order.MoveToFront(el)
	} else {
		c.items[key] = c.order.PushFront(&entry[K]{key: key, rev: rev, body: body})
		c.size += cap(body)
	}
	for c.size > c.max {
		el := c.order.Back()
		e := el.Value.(*entry[K])
		c.order.Remove(el)
		delete(c.items, e.key)
		c.size -= cap(e.body)
	}
}

// Size is the number of body bytes held (their capacity).
func (c *Cache[K]) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
