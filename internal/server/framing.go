package server

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Request framing guard (RFC 9112 §6.3 rule 3). A request carrying both
// Content-Length and Transfer-Encoding is ambiguous: a proxy that frames by
// Content-Length and a server that frames by chunked coding disagree about
// where the next request starts, which is request smuggling. The RFC lets a
// server reject such a request or read it as chunked, "regardless, the
// server MUST close the connection after responding".
//
// What Go's net/http does (go1.26, net/http/transfer.go fixLength): it reads
// the request as chunked, deletes the Content-Length header, and keeps the
// connection open. The handler cannot tell the request was ambiguous (the
// header is gone, r.ContentLength is -1 as for any chunked request), and the
// bytes after the chunked body run as the next request. Go also answers
// "OPTIONS *" itself and keeps the connection open after it. Go already
// refuses, with 400 and a close, what else RFC 9112 asks: differing
// repeated Content-Lengths, a Transfer-Encoding other than one "chunked",
// malformed chunk sizes.
//
// So every listener wraps its connections in a framedConn that follows the
// HTTP/1.x framing of the bytes Go reads (header blocks, Content-Length and
// chunked bodies) and records which request on the connection carried both
// headers. The guard handler, first in every chain, answers that request
// with 400 and "Connection: close", which makes Go close the connection
// without reading what follows. Should the tracker ever lose the framing
// (input Go itself refuses next), every later request on that connection is
// answered with "Connection: close" as a precaution.

// framingListener wraps every accepted connection in a framedConn.
type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framedConn{Conn: c, fr: framer{bad: -1, lost: -1}}, nil
}

// A request line without an HTTP version. pidgin 2.2.2 (MSNP9) opens
// Passport 1.4 with exactly "GET /rdr/pprdr.asp\r\n\r\n" to
// nexus.passport.com:443: no version, no Host (nexus.c
// nexus_connect_cb; NS_CLIENT_FACTS.md "Passport 1.4"). Go's net/http
// answers such a line 400 before any handler runs, after which the client
// hangs. So the first line of a connection, when it is "GET <target>" and
// nothing else, is read as "GET <target> HTTP/1.0": an HTTP/1.0 request
// needs no Host, is answered by the handlers like any other (http11 gives
// it the "HTTP/1.1" status line pidgin looks for) and closes the
// connection after the answer, as a version-less request expects.

// maxFirstLine bounds how much of a connection's first line is held back
// to look for a missing version; a longer line passes through as read.
const maxFirstLine = 8 << 10

// versionless reports whether line (without its line end) is a GET request
// line with no HTTP version: "GET" and one request target.
func versionless(line []byte) bool {
	f := strings.Fields(string(line))
	return len(f) == 2 && f[0] == "GET" && strings.HasPrefix(f[1], "/")
}

// readFirstLine reads the connection's first line (up to maxFirstLine
// bytes) and keeps it, with the HTTP/1.0 version added when it has none,
// as the first bytes Read returns. It runs in the first Read, on the
// serving goroutine, before Go starts any background read.
func (c *framedConn) readFirstLine() {
	c.firstRead = true
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for {
		n, err := c.Conn.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := indexByte(buf, '\n'); i >= 0 {
			line := buf[:i]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			if versionless(line) {
				fixed := append(append([]byte(nil), line...), " HTTP/1.0\r\n"...)
				buf = append(fixed, buf[i+1:]...)
			}
			c.pending, c.pendingErr = buf, err
			return
		}
		if err != nil || len(buf) >= maxFirstLine {
			c.pending, c.pendingErr = buf, err
			return
		}
	}
}

// tlsFraming serves TLS by hand (instead of http.Server.ServeTLS) so the
// framing tracker sees the decrypted bytes; conf is the TLS profile's
// configuration (tls.go), completed here with the certificate. HTTP/2 is
// not offered: no 2006–2009 client speaks it, and its framing has no such
// ambiguity.
func tlsFraming(ln net.Listener, conf *tls.Config, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	conf.Certificates = []tls.Certificate{cert}
	conf.NextProtos = []string{"http/1.1"}
	return tls.NewListener(ln, conf), nil
}

type framedConnKey struct{}

// framingConnContext is http.Server.ConnContext: it hands the connection's
// tracker to the guard.
func framingConnContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framedConn); ok {
		return context.WithValue(ctx, framedConnKey{}, fc)
	}
	return ctx
}

// framingGuard answers a request that carried both Content-Length and
// Transfer-Encoding with 400 and closes the connection; h never sees it.
// NS API paths (/ns/...) get the API's JSON error shape, the rest plain text.
func framingGuard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fc, _ := r.Context().Value(framedConnKey{}).(*framedConn)
		if fc != nil {
			ambiguous, unsure := fc.next()
			if ambiguous {
				w.Header().Set("Connection", "close")
				ctype, body := "text/plain; charset=utf-8", "Content-Length together with Transfer-Encoding is not accepted\n"
				if strings.HasPrefix(r.URL.Path, "/ns/") {
					ctype, body = "application/json; charset=utf-8", `{"error":"bad_request","message":"Content-Length together with Transfer-Encoding is not accepted"}`
				}
				w.Header().Set("Content-Type", ctype)
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(body))
				return
			}
			if unsure {
				w.Header().Set("Connection", "close")
			}
		}
		h.ServeHTTP(w, r)
	})
}

// framedConn passes reads through, feeding them to the framing tracker.
// Reads come from the serving goroutine and Go's background read, so the
// tracker is locked.
type framedConn struct {
	net.Conn
	mu     sync.Mutex
	fr     framer
	served int // requests handed to the guard so far

	// The first line as readFirstLine left it, not yet returned by Read,
	// and the error that ended its reading.
	firstRead  bool
	pending    []byte
	pendingErr error
}

func (c *framedConn) Read(p []byte) (int, error) {
	if !c.firstRead {
		c.readFirstLine()
	}
	if len(c.pending) > 0 || c.pendingErr != nil {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		var err error
		if len(c.pending) == 0 {
			err, c.pendingErr = c.pendingErr, nil
		}
		if n > 0 {
			c.mu.Lock()
			c.fr.feed(p[:n])
			c.mu.Unlock()
		}
		return n, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.fr.feed(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// CloseWrite lets Go half-close before closing (so a client still sending
// reads the 400 instead of a reset).
func (c *framedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// next reports on the next request of this connection: Go serves a
// connection's requests one at a time and in order, and parses a request's
// header block before its handler runs, so the n-th guard call is the n-th
// header block the tracker saw.
func (c *framedConn) next() (ambiguous, unsure bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.served
	c.served++
	return c.fr.bad == i, c.fr.lost >= 0 && i >= c.fr.lost
}

type framerState int

const (
	stHead      framerState = iota // request line and header fields
	stFixed                        // Content-Length body
	stChunkSize                    // chunk-size line
	stChunkData                    // chunk data
	stChunkCRLF                    // CRLF after chunk data
	stTrailer                      // trailer fields after the last chunk
	stLost                         // framing not followed any more
)

// maxTrackedLine is how much of a line the tracker keeps: enough for a
// field name and a Content-Length or Transfer-Encoding value; the rest of a
// longer line is skipped (Go refuses such lines anyway).
const maxTrackedLine = 1024

// framer follows HTTP/1.x request framing over a byte stream.
type framer struct {
	state  framerState
	line   []byte
	blocks int   // header blocks completed
	bad    int   // index of the first block with both headers, or -1
	lost   int   // index from which framing is unknown, or -1
	remain int64 // bytes left in a fixed body or chunk
	crlf   int   // bytes of the CRLF after chunk data seen

	// The header block being read.
	started bool // request line seen
	http10  bool
	cl      []string
	te      []string
}

func (f *framer) feed(p []byte) {
	for len(p) > 0 {
		switch f.state {
		case stLost:
			return
		case stFixed, stChunkData:
			k := int64(len(p))
			if k > f.remain {
				k = f.remain
			}
			f.remain -= k
			p = p[k:]
			if f.remain == 0 {
				if f.state == stFixed {
					f.state = stHead
				} else {
					f.state, f.crlf = stChunkCRLF, 0
				}
			}
		case stChunkCRLF:
			if p[0] != "\r\n"[f.crlf] {
				f.loseAt(f.blocks)
				return
			}
			p = p[1:]
			if f.crlf++; f.crlf == 2 {
				f.state = stChunkSize
			}
		default: // line-based states
			i := indexByte(p, '\n')
			chunk := p
			if i >= 0 {
				chunk = p[:i]
			}
			if room := maxTrackedLine - len(f.line); room > 0 {
				if len(chunk) > room {
					chunk = chunk[:room]
				}
				f.line = append(f.line, chunk...)
			}
			if i < 0 {
				return
			}
			p = p[i+1:]
			line := strings.TrimSuffix(string(f.line), "\r")
			f.line = f.line[:0]
			f.onLine(line)
		}
	}
}

func indexByte(p []byte, b byte) int {
	for i, c := range p {
		if c == b {
			return i
		}
	}
	return -1
}

func (f *framer) loseAt(block int) {
	if f.lost < 0 {
		f.lost = block
	}
	f.state = stLost
}

func (f *framer) onLine(line string) {
	switch f.state {
	case stChunkSize:
		s := line
		if j := strings.IndexByte(s, ';'); j >= 0 {
			s = s[:j]
		}
		size, err := strconv.ParseUint(strings.TrimSpace(s), 16, 63)
		if err != nil {
			// The previous request's body is malformed: Go fails reading it
			// and closes; count it as the next block's problem too.
			f.loseAt(f.blocks)
			return
		}
		if size == 0 {
			f.state = stTrailer
			return
		}
		f.remain, f.state = int64(size), stChunkData
	case stTrailer:
		if line == "" {
			f.state = stHead
		}
	case stHead:
		if !f.started {
			if line == "" {
				return // stray CRLF between requests
			}
			f.started = true
			f.http10 = strings.HasSuffix(line, " HTTP/1.0")
			return
		}
		if line != "" {
			if line[0] == ' ' || line[0] == '\t' {
				return // obsolete line folding continues a value; names are what count
			}
			name, value, _ := strings.Cut(line, ":")
			switch {
			case strings.EqualFold(strings.TrimSpace(name), "Content-Length"):
				f.cl = append(f.cl, strings.TrimSpace(value))
			case strings.EqualFold(strings.TrimSpace(name), "Transfer-Encoding"):
				f.te = append(f.te, strings.TrimSpace(value))
			}
			return
		}
		f.endBlock()
	}
}

// endBlock decides how the body of the block just read is framed, as Go
// does (net/http/transfer.go): Transfer-Encoding is ignored on HTTP/1.0,
// must otherwise be exactly one "chunked"; Content-Length values must agree.
func (f *framer) endBlock() {
	idx := f.blocks
	f.blocks++
	cl, te, http10 := f.cl, f.te, f.http10
	f.started, f.http10, f.cl, f.te = false, false, nil, nil
	switch {
	case len(cl) > 0 && len(te) > 0:
		if f.bad < 0 {
			f.bad = idx
		}
		f.loseAt(idx + 1) // the connection closes after this request
	case len(te) > 0 && !http10:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			f.loseAt(idx)
			return
		}
		f.state = stChunkSize
	case len(cl) > 0:
		for _, v := range cl[1:] {
			if v != cl[0] {
				f.loseAt(idx)
				return
			}
		}
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 {
			f.loseAt(idx)
			return
		}
		if n > 0 {
			f.remain, f.state = n, stFixed
		}
	}
}
