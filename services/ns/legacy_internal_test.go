package ns

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/abch-im/abch/nsclient"
)

// TestLegacyEventNotices: an MSNP9 session gets an event's NOT notices,
// framed, but not the address book's ABCHInternal sync hint nor an OIM
// mail notification, and no list lines before its first SYN.
func TestLegacyEventNotices(t *testing.T) {
	srv := New(Config{})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	server, client := net.Pipe()
	defer client.Close()
	ss := newSession(srv, server)
	ss.ver = 9
	u := &user{srv: srv, ss: ss, email: "alice@example.com"}
	const hint = `<NOTIFICATION id="0" siteid="45705" siteurl="http://contacts.msn.com"><TO pid="0x1:0x2" name="alice@example.com"><VIA agent="messenger" /></TO><MSG id="0"><SUBSCR url="s.htm" /><ACTION url="a.htm" /><BODY>&lt;NotificationData&gt;&lt;Service&gt;ABCHInternal&lt;/Service&gt;&lt;/NotificationData&gt;</BODY></MSG></NOTIFICATION>`
	const notice = `<NOTIFICATION id="7" siteid="111100200"><TO pid="0x1:0x2" name="alice@example.com" /><MSG id="1"><ACTION url="a.htm" /><SUBSCR url="s.htm" /><BODY><TEXT>Happy birthday</TEXT></BODY></MSG></NOTIFICATION>`
	lists := 0
	orig := legacyListEvent // the list commands' hook: restored for the other tests
	defer func() { legacyListEvent = orig }()
	legacyListEvent = func(*user, nsclient.Event) [][]byte {
		lists++
		return [][]byte{[]byte("ADD 0 RL 2 bob@example.com Bob\r\n")}
	}
	ev := nsclient.Event{Type: "reverse.added", NS: []nsclient.NSCommand{
		{Command: "ADL", Args: "0", Payload: `<ml><d n="example.com"><c n="bob" t="1" l="8" /></d></ml>`},
		{Command: "NOT", Payload: hint},
		{Command: "NOT", Payload: notice},
		{Command: "MSG", Args: "Hotmail Hotmail", Payload: "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsoimnotification; charset=UTF-8\r\n\r\nMail-Data: x\r\n"},
	}}
	if !srv.writeLegacyEvent(u, ev) {
		t.Fatal("session refused the writes")
	}
	if lists != 0 {
		t.Fatal("list lines asked for before the first SYN")
	}
	ss.synVer.Store(1)
	if !srv.writeLegacyEvent(u, ev) {
		t.Fatal("session refused the writes")
	}
	want := "NOT " + strconv.Itoa(len(notice)) + "\r\n" + notice +
		"ADD 0 RL 2 bob@example.com Bob\r\n" + "NOT " + strconv.Itoa(len(notice)) + "\r\n" + notice
	got := make([]byte, len(want))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("%v after %q", err, got)
	}
	if string(got) != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	_ = client.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, _ := client.Read(make([]byte, 1)); n != 0 {
		t.Fatal("more was written")
	}
}
