// Package msnpserver is the part of an MSNP server that the Notification
// Server (services/ns) and the switchboard (services/sb) share: the
// listeners, the accept loop, the set of open connections and a shutdown
// that lets them drain before it cuts them off. What a connection does is
// the server's own business; the tracker only starts, counts and ends it.
package msnpserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Tracker accepts connections and keeps the open ones; C is the server's
// connection type. Set New, Run and Kill before Serve; the zero value is
// otherwise ready.
type Tracker[C comparable] struct {
	// Name prefixes the tracker's errors ("ns", "sb").
	Name string
	// New wraps an accepted connection.
	New func(net.Conn) C
	// Run serves a connection until it ends; the tracker forgets the
	// connection when Run returns.
	Run func(C)
	// Kill cuts a connection off at once (Drain past its deadline).
	Kill func(C)

	mu      sync.Mutex
	conns   map[C]struct{}
	lns     []net.Listener
	closing bool
	wg      sync.WaitGroup // connections and Go functions
}

// Serve accepts connections on ln until Close, running each with Run in
// its own goroutine. Temporary accept errors back off up to a second.
func (t *Tracker[C]) Serve(ln net.Listener) error {
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		ln.Close()
		return errors.New(t.Name + ": server closed")
	}
	t.lns = append(t.lns, ln)
	t.mu.Unlock()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if t.isClosing() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		t.start(nc)
	}
}

func (t *Tracker[C]) isClosing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// start registers and runs a connection for nc (or closes nc when the
// tracker is closing).
func (t *Tracker[C]) start(nc net.Conn) {
	c := t.New(nc)
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		nc.Close()
		return
	}
	if t.conns == nil {
		t.conns = map[C]struct{}{}
	}
	t.conns[c] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.ended(c)
		t.Run(c)
	}()
}

// ended forgets a finished connection.
func (t *Tracker[C]) ended(c C) {
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
	t.wg.Done()
}

// Go runs f in a goroutine that Drain waits for too (a server's
// dispatcher or sweeper, which ends when the server stops).
func (t *Tracker[C]) Go(f func()) {
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
}

// Len is the number of open connections.
func (t *Tracker[C]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// Open returns the open connections (a snapshot).
func (t *Tracker[C]) Open() []C {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.open()
}

func (t *Tracker[C]) open() []C {
	open := make([]C, 0, len(t.conns))
	for c := range t.conns {
		open = append(open, c)
	}
	return open
}

// Close stops accepting (connections accepted from now on are closed at
// once) and returns the connections open at that moment, for the server
// to say goodbye to before Drain.
func (t *Tracker[C]) Close() []C {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for _, ln := range t.lns {
		ln.Close()
	}
	return t.open()
}

// Drain waits until every connection and Go function has ended, or until
// ctx ends: then it Kills the connections in open and returns ctx's error.
func (t *Tracker[C]) Drain(ctx context.Context, open []C) error {
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range open {
			t.Kill(c)
		}
		return ctx.Err()
	}
}
