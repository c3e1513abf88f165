package ab

import (
	"container/list"
	"sync"
)

// bookCache keeps the rendered full answer of each account's latest
// revision, least recently used first out when over its byte budget.
// Every change to a book bumps its account revision, and the ticket check
// already loads that revision (auth.Principal.Revision), so a cached body is
// valid exactly while its revision is the account's: no invalidation is
// ever needed (DESIGN.md "Revisions and delta sync").
type bookCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used
	items map[cacheID]*list.Element
}

type cacheID struct {
	account int64
	form    findForm
}

type cacheEntry struct {
	id   cacheID
	rev  int64
	body []byte
}

func newBookCache(maxBytes int) *bookCache {
	return &bookCache{max: maxBytes, order: list.New(), items: map[cacheID]*list.Element{}}
}

// get returns the body cached for account at exactly rev.
func (c *bookCache) get(account int64, form findForm, rev int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[cacheID{account, form}]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if e.rev != rev {
		return nil
	}
	c.order.MoveToFront(el)
	return e.body
}

// put stores body for account at rev, unless a newer revision is cached.
// The body must never be modified afterwards.
func (c *bookCache) put(account int64, form findForm, rev int64, body []byte) {
	if len(body) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := cacheID{account, form}
	if el, ok := c.items[id]; ok {
		e := el.Value.(*cacheEntry)
		if e.rev > rev {
			return
		}
		c.size += len(body) - len(e.body)
		e.rev, e.body = rev, body
		c.order.MoveToFront(el)
	} else {
		c.items[id] = c.order.PushFront(&cacheEntry{id: id, rev: rev, body: body})
		c.size += len(body)
	}
	for c.size > c.max {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.items, e.id)
		c.size -= len(e.body)
	}
}
