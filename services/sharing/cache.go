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
// stale: a change bumps the account's revision, so the old key is simply
// not asked for again and ages out.
type answerCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used; values are *cacheEntry
	byKey map[cacheKey]*list.Element
}

type cacheEntry struct {
	key  cacheKey
	body []byte
}

func newAnswerCache(maxBytes int) *answerCache {
	return &answerCache{max: maxBytes, order: list.New(), byKey: map[cacheKey]*list.Element{}}
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
	c.byKey[k] = c.order.PushFront(&cacheEntry{key: k, body: body})
	c.size += len(body)
	for c.size > c.max {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.byKey, e.key)
		c.size -= len(e.body)
	}
}
