package sharing

import (
	"container/list"
	"sync"
)

// cacheKey names one rendered full FindMembership answer.
type cacheKey struct {
	account   int64
	revision  int64
	messenger bool
}

// answerCache is a byte-bounded LRU of rendered answers. Entries never go
// stale: a change bumps the account's revision, so the old key is not asked
// for again. Only the newest revision of an (account, variant) is kept, so a
// busy account does not crowd others out with answers nobody will ask for.
type answerCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used; values are *cacheEntry
	byKey map[cacheKey]*list.Element
	// latest maps (account, variant) — revision 0 — to its one entry.
	latest map[cacheKey]*list.Element
}

type cacheEntry struct {
	key  cacheKey
	body []byte
}

func newAnswerCache(maxBytes int) *answerCache {
	return &answerCache{max: maxBytes, order: list.New(), byKey: map[cacheKey]*list.Element{}, latest: map[cacheKey]*list.Element{}}
}

// get returns the cached answer for k. Callers must not modify it.
func (c *answerCache) get(k cacheKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).body, true
}

// put stores body under k, evicting least recently used answers past the
// byte bound. An answer larger than the whole bound is not kept.
func (c *answerCache) put(k cacheKey, body []byte) {
	if len(body) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		c.order.MoveToFront(el)
		return
	}
	variant := cacheKey{account: k.account, messenger: k.messenger}
	if old, ok := c.latest[variant]; ok {
		if old.Value.(*cacheEntry).key.revision > k.revision {
			return // a newer answer is already kept
		}
		c.remove(old)
	}
	el := c.order.PushFront(&cacheEntry{key: k, body: body})
	c.byKey[k] = el
	c.latest[variant] = el
	c.size += len(body)
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

func (c *answerCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.order.Remove(el)
	delete(c.byKey, e.key)
	delete(c.latest, cacheKey{account: e.key.account, messenger: e.key.messenger})
	c.size -= len(e.body)
}
