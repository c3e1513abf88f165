package sb

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// socketPair is a connected loopback TCP pair with small kernel buffers,
// so a peer that does not read fills the server side quickly.
func socketPair(t *testing.T) (server, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan *net.TCPConn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			acc <- nil
			return
		}
		acc <- c.(*net.TCPConn)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client = c.(*net.TCPConn)
	server = <-acc
	if server == nil {
		t.Fatal("accept failed")
	}
	_ = server.SetWriteBuffer(4096)
	_ = client.SetReadBuffer(4096)
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// testConn is a switchboard connection on nc with its writer running.
func testConn(t *testing.T, nc net.Conn, queue int) *conn {
	t.Helper()
	s := &Server{cfg: Config{QueueLen: queue, WriteTimeout: 5 * time.Second}}
	s.cfg.defaults()
	c := newConn(s, nc)
	go c.writer()
	t.Cleanup(c.kill)
	return c
}

// TestSendOrder: what senders write directly and what the writer goroutine
// writes once the socket is full leave in the order sent, byte for byte,
// and a peer that is slow to read never blocks a sender.
func TestSendOrder(t *testing.T) {
	// sendCopy is the relay's path: one scratch buffer, overwritten by the
	// next message as soon as sendCopy returns, so what is queued must
	// have been copied.
	for _, reuse := range []bool{false, true} {
		name := "a full socket hands the rest to the writer, in order, without blocking the sender"
		if reuse {
			name += " (sendCopy from one reused buffer)"
		}
		t.Run(name, func(t *testing.T) { testSendOrderFull(t, reuse) })
	}
	t.Run("a peer that does not read is cut off when its queue overflows", func(t *testing.T) {
		server, client := socketPair(t)
		c := testConn(t, server, 8)
		big := []byte("MSG a@example.com A 1600\r\n" + strings.Repeat("y", 1600))
		refused := -1
		for i := 0; i < 10000; i++ {
			if !c.send(big) {
				refused = i
				break
			}
		}
		if refused < 0 {
			t.Fatal("16 MB accepted for a peer that does not read")
		}
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection was not closed")
		}
		if c.send([]byte("ACK 1\r\n")) {
			t.Error("a closed connection accepted a write")
		}
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, client); err != nil && !strings.Contains(err.Error(), "reset") {
			t.Errorf("the peer's socket did not end: %v", err)
		}
	})
	t.Run("nothing is sent after the close is queued", func(t *testing.T) {
		server, client := socketPair(t)
		c := testConn(t, server, 16)
		if !c.send([]byte("USR 1 OK a@example.com A\r\n")) {
			t.Fatal("first line refused")
		}
		c.queueClose()
		if c.send([]byte("BYE b@example.com\r\n")) {
			t.Error("a line was accepted after the close was queued")
		}
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, _ := io.ReadAll(client)
		if string(got) != "USR 1 OK a@example.com A\r\n" {
			t.Errorf("peer read %q", got)
		}
	})
}

func testSendOrderFull(t *testing.T, reuse bool) {
	server, client := socketPair(t)
	c := testConn(t, server, 512)
	if c.raw == nil && directWrites {
		t.Fatal("no direct writes on a TCP connection")
	}
	const n = 100
	body := strings.Repeat("x", 900)
	var scratch []byte
	start := time.Now()
	for i := 0; i < n; i++ {
		msg := fmt.Sprintf("MSG a@example.com A %d\r\n%05d%s", len(body)+5, i, body)
		ok := false
		if reuse {
			scratch = append(scratch[:0], msg...)
			ok = c.sendCopy(scratch)
			for j := range scratch {
				scratch[j] = '!' // what the relay's next message does to it
			}
		} else {
			ok = c.send([]byte(msg))
		}
		if !ok {
			t.Fatalf("message %d refused", i)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("sending to a peer that does not read took %s", d)
	}
	c.wmu.Lock()
	queued := c.queued
	c.wmu.Unlock()
	if queued == 0 {
		t.Errorf("90 KB went out without the queue: the test did not fill the socket")
	}
	r := bufio.NewReader(client)
	_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i := 0; i < n; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		f := strings.Fields(line)
		size, _ := strconv.Atoi(f[len(f)-1])
		p := make([]byte, size)
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := fmt.Sprintf("%05d%s", i, body); string(p) != want {
			t.Fatalf("message %d out of order or damaged: %.20q", i, p)
		}
	}
	// Once drained, writes go out directly again.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.wmu.Lock()
		queued = c.queued
		c.wmu.Unlock()
		if queued == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if queued != 0 {
		t.Fatalf("%d writes still queued after the peer read everything", queued)
	}
}
