//go:build unix

package sb

import (
	"errors"
	"os"
	"syscall"
)

// directWrites: senders may write to a participant's socket themselves.
const directWrites = true

// directWriter makes non-blocking writes to one socket. Its callback is
// made once, with the connection: a closure per write would be an
// allocation per relayed message. Not safe for concurrent use (conn.send
// holds wmu).
type directWriter struct {
	rc   syscall.RawConn
	b    []byte
	n    int
	werr error
	fn   func(fd uintptr) bool
}

func newDirectWriter(rc syscall.RawConn) *directWriter {
	w := &directWriter{rc: rc}
	w.fn = w.write
	return w
}

func (w *directWriter) write(fd uintptr) bool {
	for {
		w.n, w.werr = syscall.Write(int(fd), w.b)
		if w.werr != syscall.EINTR {
			return true
		}
	}
}

// writeNow makes one non-blocking write of b to the socket (Go keeps its
// sockets non-blocking) and returns how much the kernel took: all of it
// unless the socket buffer is full (then 0 or a part, and the rest is the
// writer goroutine's). An expired write deadline left by the writer also
// leaves everything to the writer, which moves it; other errors mean the
// connection is gone.
func (w *directWriter) writeNow(b []byte) (int, error) {
	w.b, w.n, w.werr = b, 0, nil
	err := w.rc.Write(w.fn)
	n, werr := w.n, w.werr
	w.b = nil
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, err
	case werr == syscall.EAGAIN:
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return max(n, 0), nil
}
