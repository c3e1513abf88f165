//go:build !unix

package sb

import (
	"errors"
	"syscall"
)

// directWrites: every write goes through the writer goroutine here.
const directWrites = false

type directWriter struct{}

func newDirectWriter(syscall.RawConn) *directWriter { return nil }

func (*directWriter) writeNow([]byte) (int, error) {
	return 0, errors.New("sb: direct writes not supported")
}
