package sb

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/abch-im/abch/services/ns/sbwire"
)

// BenchmarkRelay measures the relay path alone over loopback TCP: P
// two-party conversations, already joined, each with one side sending
// pidgin's acked text messages (at most 32 not yet read by the other side,
// whose queue would otherwise grow) and the other reading them; ns/op is the wall time per relayed message with everything
// (switchboard and clients) sharing GOMAXPROCS, allocs/op the whole
// process's allocations per message.
//
//	go test -run '^$' -bench BenchmarkRelay -benchmem -count 3 ./services/sb/
func BenchmarkRelay(b *testing.B) {
	for _, convs := range []int{1, 64} {
		b.Run("conversations="+strconv.Itoa(convs), func(b *testing.B) { benchRelay(b, convs) })
	}
}

func benchRelay(b *testing.B, convs int) {
	s := &Server{cfg: Config{}, boards: map[string]*board{}}
	s.cfg.defaults()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	// join connects a client and makes its server side a participant of bd.
	join := func(bd *board, email string) net.Conn {
		cl, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		nc, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		c := newConn(s, nc)
		c.signedIn(member{Member: sbwire.Member{Email: email, Name: "Bench User", Ver: 13}}, bd)
		bd.mu.Lock()
		bd.members = append(bd.members[:len(bd.members):len(bd.members)], c)
		bd.mu.Unlock()
		go c.run()
		return cl
	}
	type pair struct{ from, to net.Conn }
	pairs := make([]pair, convs)
	for i := range pairs {
		bd := &board{id: strconv.Itoa(i + 1), srv: s, calling: map[string]bool{}}
		s.boards[bd.id] = bd
		pairs[i] = pair{join(bd, "a"+strconv.Itoa(i)+"@example.com"), join(bd, "b"+strconv.Itoa(i)+"@example.com")}
	}
	defer func() {
		for _, p := range pairs {
			p.from.Close()
			p.to.Close()
		}
	}()
	const body = "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nUser-Agent: pidgin/2.4.3\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=1;PF=0\r\n\r\nthe quick brown fox jumps over the lazy dog"
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	var wg sync.WaitGroup
	for i, p := range pairs {
		n := b.N / convs
		if i < b.N%convs {
			n++
		}
		if n == 0 {
			continue
		}
		wg.Add(3)
		window := make(chan struct{}, 32)
		go func() { // sender
			defer wg.Done()
			msg := make([]byte, 0, 64+len(body))
			for k := 1; k <= n; k++ {
				window <- struct{}{}
				msg = append(strconv.AppendInt(append(msg[:0], "MSG "...), int64(k), 10), " A "...)
				msg = append(append(strconv.AppendInt(msg, int64(len(body)), 10), "\r\n"...), body...)
				if _, err := p.from.Write(msg); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		go func() { // the sender's ACKs
			defer wg.Done()
			r := bufio.NewReader(p.from)
			for k := 0; k < n; k++ {
				_ = p.from.SetReadDeadline(time.Now().Add(10 * time.Second))
				line, err := r.ReadSlice('\n')
				if err != nil || !bytes.HasPrefix(line, []byte("ACK ")) {
					b.Errorf("ack %d: %q %v", k, line, err)
					return
				}
			}
		}()
		go func() { // receiver
			defer wg.Done()
			r := bufio.NewReader(p.to)
			buf := make([]byte, len(body))
			for k := 0; k < n; k++ {
				_ = p.to.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := r.ReadSlice('\n'); err != nil {
					b.Errorf("msg %d: %v", k, err)
					return
				}
				if _, err := io.ReadFull(r, buf); err != nil {
					b.Errorf("msg %d: %v", k, err)
					return
				}
				<-window
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time (user and system) this process has used: the
// figure to compare on a machine whose load varies, wall time per message
// being mostly the other processes' share.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
