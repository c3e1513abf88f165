//go:build unix

package sb

import (
	"errors"
	"os"
	"syscall"
)

// directWrites: senders may write to a participant's socket themselves.
const directWrites = true

// writeNow makes one non-blocking write of b to the socket (Go keeps its
// sockets non-blocking) and returns how much the kernel took: all of it
// unless the socket buffer is full (then 0 or a part, and the rest is the
// writer goroutine's). An expired write deadline left by the writer also
// leaves everything to the writer, which moves it; other errors mean the
// connection is gone.
func writeNow(rc syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if werr != syscall.EINTR {
				return true
			}
		}
	})
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
