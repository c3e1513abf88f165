package events_test

import (
	"encoding/xml"
	"testing"

	"github.com/abch-im/abch/internal/events"
)

func TestListPayload(t *testing.T) {
	cases := []struct {
		name, email, friendly string
		network, list         int
		want                  string
	}{
		{"reverse add with friendly name (PROTOCOL.md §5.1)", "xuser@example.com", "X friendly name", 1, 8,
			`<ml><d n="example.com"><c n="xuser" t="1" l="8" f="X%20friendly%20name" /></d></ml>`},
		{"removal carries no f=", "bob@example.com", "", 1, 8,
			`<ml><d n="example.com"><c n="bob" t="1" l="8" /></d></ml>`},
		{"friendly name bytes are URL-encoded, UTF-8 per byte", "a@b.c", "Zoë & <Co>", 1, 8,
			`<ml><d n="b.c"><c n="a" t="1" l="8" f="Zo%C3%AB%20%26%20%3CCo%3E" /></d></ml>`},
		{"markup in the address is escaped", `o"k&@x.y`, "", 32, 8,
			`<ml><d n="x.y"><c n="o&quot;k&amp;" t="32" l="8" /></d></ml>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := events.ListPayload(c.email, c.network, c.list, c.friendly); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	if got := events.Subject(-2578586469383563638); got != "abch.events.-2578586469383563638" {
		t.Errorf("negative CID: %s", got)
	}
	if got := events.Subject(42); got != "abch.events.42" {
		t.Errorf("positive CID: %s", got)
	}
}

func TestNotifyPayloadPid(t *testing.T) {
	p := events.Party{Email: "me@example.com", CID: -1234567890123456789, PUID: 0x0003_0000_a42954bf}
	got := events.NotifyPayload(p, "2026-01-02T03:04:05.0000000Z")
	want := `<NOTIFICATION id="0" siteid="45705" siteurl="http://contacts.msn.com"><TO pid="0xa42954bf:0x00030000" name="me@example.com"><VIA agent="messenger" /></TO><MSG id="0"><SUBSCR url="s.htm" /><ACTION url="a.htm" /><BODY>&lt;NotificationData xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"&gt;&lt;Service&gt;ABCHInternal&lt;/Service&gt;&lt;CID&gt;-1234567890123456789&lt;/CID&gt;&lt;LastModifiedDate&gt;2026-01-02T03:04:05.0000000Z&lt;/LastModifiedDate&gt;&lt;HasNewItem&gt;false&lt;/HasNewItem&gt;&lt;/NotificationData&gt;</BODY></MSG></NOTIFICATION>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestNotifyPayloadIsOneWellFormedDocument(t *testing.T) {
	// MSNPSharp parses the NOT body with an XML parser and then the BODY
	// text as a second document: both must survive markup in the address.
	p := events.Party{Email: `o"k&<x>@example.com`, CID: 7}
	got := events.NotifyPayload(p, "2026-01-02T03:04:05.0000000Z")
	var n struct {
		TO struct {
			Name string `xml:"name,attr"`
		}
		Body string `xml:"MSG>BODY"`
	}
	if err := xml.Unmarshal([]byte(got), &n); err != nil {
		t.Fatalf("%v:\n%s", err, got)
	}
	if n.TO.Name != p.Email {
		t.Errorf("TO name %q", n.TO.Name)
	}
	var inner struct {
		Service string
		CID     int64
	}
	if err := xml.Unmarshal([]byte(n.Body), &inner); err != nil || inner.Service != "ABCHInternal" || inner.CID != 7 {
		t.Errorf("BODY %q: %+v %v", n.Body, inner, err)
	}
}
