package sb

import (
	"errors"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
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
// runs the commands; everything written goes through the bounded queue q
// to the writer goroutine, so a participant that does not read never holds
// up the others: when its queue is full it is cut off.
type conn struct {
	srv  *Server
	nc   net.Conn
	q    chan []byte   // nil entry: close after what came before
	done chan struct{} // closed with the socket
	once sync.Once

	me    atomic.Pointer[member] // set by USR/ANS
	board atomic.Pointer[board]
	// name is me.Name URL-encoded, as MSG/JOI/IRO carry it.
	name string
	// idle: the read timed out; BYE carries the idle flag.
	idle bool
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{srv: s, nc: nc, q: make(chan []byte, s.cfg.QueueLen), done: make(chan struct{})}
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
	var armed time.Time // when the read deadline was last moved
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

// writer writes queued bytes, batching what is queued into one writev.
func (c *conn) writer() {
	bufs := make(net.Buffers, 0, 32)
	for {
		var b []byte
		select {
		case b = <-c.q:
		case <-c.done:
			return
		}
		closing := b == nil
		bufs = bufs[:0]
		if !closing {
			bufs = append(bufs, b)
		more:
			for len(bufs) < 64 {
				select {
				case n := <-c.q:
					if n == nil {
						closing = true
						break more
					}
					bufs = append(bufs, n)
				default:
					break more
				}
			}
		}
		if len(bufs) > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
			if _, err := bufs.WriteTo(c.nc); err != nil {
				c.kill()
				return
			}
		}
		if closing {
			c.kill()
			return
		}
	}
}

// send queues b; a full queue cuts the client off. It reports whether b
// was queued.
func (c *conn) send(b []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.q <- b:
		return true
	default:
		c.srv.cfg.Log.Warn("sb: outbound queue full, disconnecting")
		c.kill()
		return false
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
	select {
	case c.q <- nil:
	case <-c.done:
	default:
		c.kill()
	}
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
