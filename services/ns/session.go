package ns

import (
	"errors"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/abch-im/abch/services/ns/msnp"
)

// session is one client connection. One goroutine (run) reads and handles
// commands; everything written goes through the bounded queue q to the
// writer goroutine, so a slow client never blocks the reader, another
// session or the event dispatcher: when q is full the client is cut off.
type session struct {
	srv  *Server
	conn net.Conn
	id   uint64
	q    chan []byte   // outbound writes; a nil entry means "close after this"
	done chan struct{} // closed when the connection is closed
	once sync.Once

	// Reader-goroutine state.
	ver      int    // negotiated protocol (13, 15); 0 before VER
	email    string // from USR … I
	method   string // "TWN" or "SSO"
	nonce    string // USR SSO S nonce
	u        *user  // set once signed in
	chlMu    sync.Mutex
	chl      string // pending server challenge (CHL), "" when none; under chlMu
	chlTimer *time.Timer
	flushing bool // the reader asked for close-after-flush
}

func newSession(s *Server, c net.Conn) *session {
	return &session{
		srv: s, conn: c, id: s.seq.Add(1),
		q: make(chan []byte, s.cfg.QueueLen), done: make(chan struct{}),
	}
}

// run is the reader goroutine: it reads commands until the client leaves,
// breaks the protocol or the session is cut off. A panic ends only this
// session.
func (ss *session) run() {
	defer ss.srv.ended(ss)
	defer ss.finish()
	defer func() {
		if r := recover(); r != nil {
			ss.srv.cfg.Log.Error("ns: session panic", "panic", r, "stack", string(debug.Stack()))
			ss.kill()
		}
	}()
	go ss.writer()
	rd := msnp.NewReader(ss.conn, msnp.DefaultLimits)
	for {
		limit := ss.srv.cfg.LoginTimeout
		if ss.u != nil {
			limit = ss.srv.cfg.IdleTimeout
		}
		_ = ss.conn.SetReadDeadline(time.Now().Add(limit))
		cmd, err := rd.Read()
		if err != nil {
			var pe *msnp.Error
			if !errors.As(err, &pe) {
				return // closed, timed out, or cut off
			}
			if line := pe.Line(); line != nil {
				ss.send(line)
			}
			if pe.Fatal {
				ss.closeAfterFlush()
				return
			}
			continue
		}
		if !ss.handle(cmd) {
			ss.closeAfterFlush()
			return
		}
	}
}

// finish signs the user out (FLN to watchers, NATS subscriptions dropped)
// and waits briefly for queued writes before closing the socket.
func (ss *session) finish() {
	if ss.chlTimer != nil {
		ss.chlTimer.Stop()
	}
	if ss.u != nil {
		ss.srv.signOut(ss.u, ss)
	}
	if !ss.flushing {
		ss.kill()
	}
	select {
	case <-ss.done:
	case <-time.After(ss.srv.cfg.WriteTimeout):
		ss.kill()
	}
}

// writer writes queued bytes in batches (one writev per batch) until the
// session ends.
func (ss *session) writer() {
	bufs := make(net.Buffers, 0, 16)
	for {
		var b []byte
		select {
		case b = <-ss.q:
		case <-ss.done:
			return
		}
		var closing bool
		bufs, closing = ss.batch(append(bufs[:0], b))
		if len(bufs) > 0 {
			_ = ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.cfg.WriteTimeout))
			if _, err := bufs.WriteTo(ss.conn); err != nil {
				ss.kill()
				return
			}
		}
		if closing {
			ss.kill()
			return
		}
	}
}

// batch takes what else is queued (up to 64 writes) and reports whether a
// close marker was met; bufs holds the writes before it.
func (ss *session) batch(first net.Buffers) (net.Buffers, bool) {
	bufs := first
	if bufs[0] == nil {
		return bufs[:0], true
	}
	for len(bufs) < 64 {
		select {
		case b := <-ss.q:
			if b == nil {
				return bufs, true
			}
			bufs = append(bufs, b)
		default:
			return bufs, false
		}
	}
	return bufs, false
}

// send queues b for the client. A full queue means the client does not
// read: it is disconnected (it never blocks the caller). It reports whether
// b was queued.
func (ss *session) send(b []byte) bool {
	select {
	case <-ss.done:
		return false
	default:
	}
	select {
	case ss.q <- b:
		return true
	default:
		ss.srv.cfg.Log.Warn("ns: outbound queue full, disconnecting", "email", ss.email)
		ss.kill()
		return false
	}
}

// out queues a string.
func (ss *session) out(s string) bool { return ss.send([]byte(s)) }

// line queues "NAME args…\r\n".
func (ss *session) line(name string, args ...string) bool {
	return ss.send(msnp.AppendLine(nil, name, args...))
}

// payload queues "NAME args… len\r\npayload".
func (ss *session) payload(name string, args []string, p []byte) bool {
	return ss.send(msnp.AppendPayload(nil, name, args, p))
}

// fail queues "<code> <trid>".
func (ss *session) fail(code int, trid string) bool {
	return ss.send(msnp.AppendError(nil, code, trid))
}

// closeAfterFlush closes the connection once everything queued so far is
// written.
func (ss *session) closeAfterFlush() {
	ss.flushing = true
	ss.queueClose()
}

// queueClose queues the close marker (any goroutine).
func (ss *session) queueClose() {
	select {
	case ss.q <- nil:
	case <-ss.done:
	default:
		ss.kill()
	}
}

// sessionName names the session across NS processes (kick messages).
func (ss *session) sessionName() string {
	return ss.srv.id + "." + strconv.FormatUint(ss.id, 10)
}

// kill closes the connection now.
func (ss *session) kill() {
	ss.once.Do(func() {
		close(ss.done)
		_ = ss.conn.Close()
	})
}
