package msnpserver_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/abch-im/abch/services/ns/msnpserver"
)

// echo is a connection that echoes until the client closes or it is
// killed.
type echo struct {
	c net.Conn
}

func newTracker() *msnpserver.Tracker[*echo] {
	return &msnpserver.Tracker[*echo]{
		Name: "test",
		New:  func(c net.Conn) *echo { return &echo{c: c} },
		Run:  func(e *echo) { _, _ = io.Copy(e.c, e.c); e.c.Close() },
		Kill: func(e *echo) { e.c.Close() },
	}
}

func serve(t *testing.T, tr *msnpserver.Tracker[*echo]) (string, chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- tr.Serve(ln) }()
	return ln.Addr().String(), served
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo: %v", err)
	}
	return c
}

func TestTracker(t *testing.T) {
	t.Run("counts open connections and forgets ended ones", func(t *testing.T) {
		tr := newTracker()
		addr, _ := serve(t, tr)
		a := dial(t, addr)
		dial(t, addr)
		if n := tr.Len(); n != 2 {
			t.Fatalf("Len = %d, want 2", n)
		}
		a.Close()
		for deadline := time.Now().Add(5 * time.Second); tr.Len() != 1; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("Len = %d after one client left, want 1", tr.Len())
			}
		}
	})
	t.Run("close stops accepting and drain waits for connections and Go functions", func(t *testing.T) {
		tr := newTracker()
		addr, served := serve(t, tr)
		c := dial(t, addr)
		stop := make(chan struct{})
		tr.Go(func() { <-stop })
		open := tr.Close()
		if len(open) != 1 {
			t.Fatalf("Close returned %d connections, want 1", len(open))
		}
		if err := <-served; err != nil {
			t.Fatalf("Serve after Close: %v", err)
		}
		if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			t.Fatal("a new connection was accepted after Close")
		}
		c.Close()
		close(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Drain(ctx, open); err != nil {
			t.Fatalf("Drain: %v", err)
		}
	})
	t.Run("drain past its deadline kills what is left", func(t *testing.T) {
		tr := newTracker()
		addr, _ := serve(t, tr)
		c := dial(t, addr)
		open := tr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := tr.Drain(ctx, open); err != context.DeadlineExceeded {
			t.Fatalf("Drain = %v, want DeadlineExceeded", err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("read after kill: %v, want EOF", err)
		}
	})
	t.Run("serve after close is refused", func(t *testing.T) {
		tr := newTracker()
		tr.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Serve(ln); err == nil || err.Error() != "test: server closed" {
			t.Fatalf("Serve = %v, want test: server closed", err)
		}
	})
}
