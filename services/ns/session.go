package ns

import (
	"errors"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/abch-im/abch/services/ns/msnp"
)

// session is one client connection. One goroutine (run) reads and handles
// commands; everything written goes through the outbound queue to the
// writer goroutine, so a slow client never blocks the reader, another
// session or the event dispatcher: when more than Config.QueueBytes wait,
// the client is cut off. The queue is a slice that holds nothing while
// idle (no per-session buffer sized for the worst case).
type session struct {
	srv  *Server
	conn net.Conn
	id   uint64
	done chan struct{} // closed when the connection is closed
	once sync.Once

	qmu    sync.Mutex
	qbufs  [][]byte // queued writes, under qmu
	qbytes int      // their size, under qmu
	qclose bool     // close once the queue is written, under qmu
	// writing says a writer goroutine is running, under qmu. The writer
	// exists only while there is something to write, so an idle session
	// costs one goroutine (the reader), not two.
	writing bool

	// Reader-goroutine state.
	ver      int    // negotiated protocol (8–13, 15; msnp.Versions); 0 before VER
	email    string // from USR … I
	method   string // "TWN" or "SSO"
	nonce    string // USR SSO S nonce
	u        *user  // set once signed in
	chlMu    sync.Mutex
	chl      string // pending server challenge (CHL), "" when none; under chlMu
	chlTimer *time.Timer
	flushing bool // the reader asked for close-after-flush
	// listVer is the SYN list version the MSNP8–9 client holds: set by
	// SYN, moved by every list answer and pushed ADD/REM (any goroutine).
	listVer atomic.Int64
	// synVer is the list version of the session's last SYN answer: events
	// at or below it are already in the client's list (lists_legacy.go).
	synVer atomic.Int64
	// view is what the MSNP8–12 client was told of its lists (lists_view.go):
	// set by SYN, used on the user's worker only.
	view *listView
}

func newSession(s *Server, c net.Conn) *session {
	return &session{
		srv: s, conn: c, id: s.seq.Add(1),
		done: make(chan struct{}),
	}
}

// run is the reader goroutine: it reads commands until the client leaves,
// breaks the protocol or the session is cut off. A panic ends only this
// session.
func (ss *session) run() {
	defer ss.finish()
	defer func() {
		if r := recover(); r != nil {
			ss.srv.cfg.Log.Error("ns: session panic", "panic", r, "stack", string(debug.Stack()))
			ss.kill()
		}
	}()
	rd := msnp.NewReader(ss.conn, readerLimits)
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
			if line := pe.LineFor(ss.ver); line != nil {
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

// readerLimits keep the per-session line buffer at 4 KiB: the longest
// client lines (USR SSO S with a compact ticket and its answer, PRP MFN
// with a 387-byte name URL-encoded) stay well under it.
var readerLimits = msnp.Limits{MaxLine: 4094, MaxPayload: msnp.DefaultLimits.MaxPayload}

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

// writer writes what is queued (one write per batch) and exits when the
// queue is empty; send starts it again.
func (ss *session) writer() {
	var spare [][]byte
	for {
		ss.qmu.Lock()
		bufs, closing := ss.qbufs, ss.qclose
		ss.qbufs, ss.qbytes = spare, 0
		if len(bufs) == 0 {
			ss.qbufs = bufs
			ss.writing = false
			ss.qmu.Unlock()
			if closing {
				ss.kill()
			}
			return
		}
		ss.qmu.Unlock()
		_ = ss.conn.SetWriteDeadline(time.Now().Add(ss.srv.cfg.WriteTimeout))
		if _, err := ss.conn.Write(joined(bufs)); err != nil {
			ss.kill()
			return
		}
		clear(bufs)
		spare = nil
		if cap(bufs) <= 64 {
			spare = bufs[:0] // reuse a small batch array; drop a big one
		}
	}
}

// joined returns the batch as one buffer: one write per batch, without the
// writev iovec array the runtime would keep per connection.
func joined(bufs [][]byte) []byte {
	if len(bufs) == 1 {
		return bufs[0]
	}
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	out := make([]byte, 0, n)
	for _, b := range bufs {
		out = append(out, b...)
	}
	return out
}

// send queues b for the client. A client whose queue holds more than
// QueueBytes does not read: it is disconnected (the caller never waits).
// It reports whether b was queued.
func (ss *session) send(b []byte) bool {
	select {
	case <-ss.done:
		return false
	default:
	}
	ss.qmu.Lock()
	if ss.qbytes+len(b) > ss.srv.cfg.QueueBytes {
		ss.qmu.Unlock()
		ss.srv.cfg.Log.Warn("ns: outbound queue full, disconnecting", "email", ss.email)
		ss.kill()
		return false
	}
	ss.qbufs = append(ss.qbufs, b)
	ss.qbytes += len(b)
	ss.startWriter()
	ss.qmu.Unlock()
	return true
}

// startWriter starts the writer goroutine unless it runs; qmu is held.
func (ss *session) startWriter() {
	if !ss.writing {
		ss.writing = true
		go ss.writer()
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

// fail queues the error line "<code> <trid>" in the form the session's
// clients frame (msnp.AppendErrorFor: MSNP13 gets a trailing " 0", as
// pidgin 2.4.3 reads the last number of an error line as a payload length,
// command.c msn_set_payload_len).
func (ss *session) fail(code int, trid string) bool {
	return ss.send(msnp.AppendErrorFor(nil, code, trid, ss.ver))
}

// closeAfterFlush closes the connection once everything queued so far is
// written.
func (ss *session) closeAfterFlush() {
	ss.flushing = true
	ss.queueClose()
}

// queueClose closes the connection once everything queued is written
// (any goroutine).
func (ss *session) queueClose() {
	ss.qmu.Lock()
	ss.qclose = true
	ss.startWriter()
	ss.qmu.Unlock()
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
