package sb

import (
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/abch-im/abch/services/ns/msnp"
)

// MaxMessage is the largest MSG payload a client may send: 1664 bytes,
// headers included. pidgin cuts its messages to it (msg.c) and the
// switchboard closes a connection that sends more, after the error line
// (hypothetic.org switchboard messages: "If it is any longer, the
// switchboard will close the connection").
const MaxMessage = 1664

// limits are the switchboard's framing limits.
var limits = msnp.Limits{MaxLine: 2048, MaxPayload: MaxMessage}

// conn is one client connection to the switchboard. Its reader goroutine
// runs the commands. What is sent to it is written at once by the sending
// goroutine when nothing is waiting and the socket takes it all without
// blocking (one non-blocking write: the common case, which costs no
// goroutine hand-off); otherwise it goes through the bounded queue to the
// writer goroutine, in order. So a participant that does not read never
// holds up the others: when its queue is full it is cut off. The queue is a
// slice under wmu, nil while nothing waits: a channel of QueueLen entries
// was 12 KiB per connection, allocated up front and scanned by every
// garbage collection (24 MiB for 2,000 connections, most of the
// switchboard's heap, which made each collection long enough to show in
// the relay's p99).
type conn struct {
	srv  *Server
	nc   net.Conn
	raw  *directWriter // nil: every write goes through the queue
	done chan struct{} // closed with the socket
	once sync.Once

	// wmu orders the writes: pending are the writes waiting for the writer
	// goroutine (woken through wake), queued counts those and the ones it
	// is writing (a direct write may only go out when it is 0); closing is
	// set once the close is queued (nothing is sent after it, the writer
	// closes the connection when it has written what came before).
	wmu     sync.Mutex
	pending [][]byte
	queued  int
	closing bool
	wake    chan struct{} // capacity 1

	me    atomic.Pointer[member] // set by USR/ANS
	board atomic.Pointer[board]
	// name is me.Name URL-encoded, as MSG/JOI/IRO carry it.
	name string
	// idle: the read timed out; BYE carries the idle flag.
	idle bool
	// scratch is the reader goroutine's buffer for what it relays and
	// answers (sendCopy): the common case, a write the socket takes at
	// once, allocates nothing.
	scratch []byte
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if sc, ok := nc.(syscall.Conn); ok && directWrites {
		if rc, err := sc.SyscallConn(); err == nil {
			c.raw = newDirectWriter(rc)
		}
	}
	return c
}

// ver is the client's protocol version (0 before USR/ANS).
func (c *conn) ver() int {
	if m := c.me.Load(); m != nil {
		return m.Ver
	}
	return 0
}

// run reads and handles commands until the client leaves, breaks the
// protocol or goes idle; a panic ends only this connection.
func (c *conn) run() {
	defer func() {
		if r := recover(); r != nil {
			c.srv.cfg.Log.Error("sb: connection panic", "panic", r, "stack", string(debug.Stack()))
		}
		c.leave(c.idle)
		select {
		case <-c.done:
		case <-time.After(c.srv.cfg.WriteTimeout):
			c.kill()
		}
	}()
	go c.writer()
	rd := msnp.NewReader(c.nc, limits)
	rd.ReusePayload = true // no command handler keeps a payload (cmdMSG copies it)
	var armed time.Time    // when the read deadline was last moved
	authed := false
	for {
		// Moving the deadline costs a timer update: while messages flow,
		// do it when a quarter of the timeout (at most a second) has gone.
		limit := c.srv.cfg.LoginTimeout
		if c.me.Load() != nil {
			limit = c.srv.cfg.IdleTimeout
		}
		if now := time.Now(); now.Sub(armed) > min(limit/4, time.Second) || authed != (c.me.Load() != nil) {
			authed = c.me.Load() != nil
			_ = c.nc.SetReadDeadline(now.Add(limit))
			armed = now
		}
		cmd, err := rd.Read()
		if err != nil {
			var pe *msnp.Error
			if errors.As(err, &pe) {
				if pe.TrID != "" {
					c.send(errorLine(pe.Code, pe.TrID, c.ver()))
				}
				if !pe.Fatal {
					continue
				}
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && c.me.Load() != nil {
				c.idle = true
			}
			return
		}
		if !c.handle(cmd) {
			return
		}
	}
}

// writer writes queued bytes, up to 64 writes in one writev. The write
// deadline is moved at most every quarter of WriteTimeout (a timer update
// per write costs as much as the rest of a relay), so a write may block for
// between 3/4 of it and all of it.
func (c *conn) writer() {
	const batch = 64
	var backing net.Buffers // made at the first queued write; WriteTo consumes the slice it is given
	var armed time.Time
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			c.wmu.Lock()
			n := min(len(c.pending), batch)
			if n == 0 {
				closing := c.closing
				c.pending = nil // nothing kept while idle
				c.wmu.Unlock()
				if closing {
					c.kill()
					return
				}
				break
			}
			if backing == nil {
				backing = make(net.Buffers, batch)
			}
			bufs := append(backing[:0], c.pending[:n]...)
			clear(c.pending[:n])
			c.pending = c.pending[n:]
			c.wmu.Unlock()
			if now := time.Now(); now.Sub(armed) > c.srv.cfg.WriteTimeout/4 {
				_ = c.nc.SetWriteDeadline(now.Add(c.srv.cfg.WriteTimeout))
				armed = now
			}
			_, err := bufs.WriteTo(c.nc)
			clear(backing[:n])
			if err != nil {
				c.kill()
				return
			}
			c.wmu.Lock()
			c.queued -= n
			c.wmu.Unlock()
		}
	}
}

// send writes b, or queues what the socket did not take at once; a full
// queue cuts the client off. It reports whether b was written or queued
// (not after the connection closed or queued its close). b is not kept
// once written, but may be when queued: the caller must not change it.
func (c *conn) send(b []byte) bool { return c.sendv(b, false) }

// sendCopy is send for a buffer the caller reuses (its scratch): what has
// to be queued is copied first.
func (c *conn) sendCopy(b []byte) bool { return c.sendv(b, true) }

func (c *conn) sendv(b []byte, reused bool) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closing {
		return false
	}
	if c.queued == 0 && c.raw != nil {
		n, err := c.raw.writeNow(b)
		if err != nil {
			c.kill()
			return false
		}
		if n == len(b) {
			return true
		}
		b = b[n:]
	}
	if len(c.pending) >= c.srv.cfg.QueueLen {
		c.srv.cfg.Log.Warn("sb: outbound queue full, disconnecting")
		c.kill()
		return false
	}
	if reused {
		b = append([]byte(nil), b...)
	}
	c.pending = append(c.pending, b)
	c.queued++
	c.signal()
	return true
}

// signal wakes the writer (it may be awake already).
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// line queues "NAME args…\r\n".
func (c *conn) line(name string, args ...string) bool {
	return c.send(msnp.AppendLine(nil, name, args...))
}

// fail queues an error line.
func (c *conn) fail(code int, trid string) bool {
	return c.send(errorLine(code, trid, c.ver()))
}

// queueClose closes the connection once what is queued is written.
func (c *conn) queueClose() {
	c.wmu.Lock()
	c.closing = true
	c.wmu.Unlock()
	c.signal()
}

// kill closes the connection now.
func (c *conn) kill() {
	c.once.Do(func() {
		close(c.done)
		_ = c.nc.Close()
	})
}

// leave takes the participant out of its conversation: the others get
// "BYE email" ("BYE email 1" when it timed out idle), once, and the
// connection closes after its queue.
func (c *conn) leave(idle bool) {
	if b := c.board.Load(); b != nil {
		b.leave(c, idle)
	}
	c.queueClose()
}
