//go:build !unix

package sb

import (
	"errors"
	"syscall"
)

// directWrites: every write goes through the writer goroutine here.
const directWrites = false

func writeNow(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("sb: direct writes not supported")
}
