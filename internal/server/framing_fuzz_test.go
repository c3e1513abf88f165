package server

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// FuzzFramer: the framing tracker never panics, gives the same verdicts
// however the stream is split into reads, and keeps pace with Go's own
// request parser: every request net/http reads from the stream is a header
// block the tracker saw, unless the tracker already gave up on (or flagged)
// an earlier one, after which the guard closes the connection.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: x\r\n\r\n"), uint16(5))
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), uint16(17))
	f.Add([]byte("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"), uint16(1))
	f.Add([]byte("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\n\r\n"), uint16(3))
	f.Add([]byte("POST /a HTTP/1.1\nHost: x\nContent-Length: 1\n\nzPOST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n"), uint16(9))
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		whole := framer{bad: -1, lost: -1}
		whole.feed(stream)
		parts := framer{bad: -1, lost: -1}
		step := int(split%64) + 1
		for i := 0; i < len(stream); i += step {
			parts.feed(stream[i:min(i+step, len(stream))])
		}
		if whole.blocks != parts.blocks || whole.bad != parts.bad || whole.lost != parts.lost {
			t.Fatalf("split into %d-byte reads: blocks %d/%d bad %d/%d lost %d/%d", step, whole.blocks, parts.blocks, whole.bad, parts.bad, whole.lost, parts.lost)
		}
		br := bufio.NewReader(bytes.NewReader(stream))
		for i := 0; ; i++ {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if whole.lost >= 0 && whole.lost <= i || whole.bad >= 0 && whole.bad <= i {
				return // the guard closes the connection at or before this request
			}
			if i >= whole.blocks {
				t.Fatalf("net/http read request %d (%s %s), the tracker saw %d header blocks", i, req.Method, req.URL, whole.blocks)
			}
			if _, err := io.Copy(io.Discard, req.Body); err != nil {
				return
			}
			if req.Close {
				return
			}
		}
	})
}
