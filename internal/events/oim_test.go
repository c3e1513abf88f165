package events

import (
	"strings"
	"testing"
	"time"
)

func TestMailDataPayloads(t *testing.T) {
	m := MailMessage{ID: "A3D2B9C8-6F1E-4D7A-8B0C-9E8F7A6B5C4D", SenderEmail: "bob@example.com", SenderName: "=?utf-8?B?Qm9i?=",
		Received: time.Date(2008, 8, 10, 15, 20, 6, 423_000_000, time.UTC), Size: 553}
	t.Run("oim notification is ESC's form of PROTOCOL.md 7.2", func(t *testing.T) {
		want := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsoimnotification; charset=UTF-8\r\n\r\n" +
			"Mail-Data: <MD><M><T>11</T><S>6</S><RS>0</RS><SZ>553</SZ><E>bob@example.com</E><I>A3D2B9C8-6F1E-4D7A-8B0C-9E8F7A6B5C4D</I><F>.!!OIM</F><N>=?utf-8?B?Qm9i?=</N></M><SU> </SU></MD>\r\n"
		if got := OIMNotificationPayload(m); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	})
	t.Run("initial mail data is inline up to 25 messages", func(t *testing.T) {
		want := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\n" +
			"Mail-Data: <MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q>" +
			"<M><T>11</T><S>6</S><RT>2008-08-10T15:20:06.423Z</RT><RS>0</RS><SZ>553</SZ><E>bob@example.com</E><I>A3D2B9C8-6F1E-4D7A-8B0C-9E8F7A6B5C4D</I><F>00000000-0000-0000-0000-000000000009</F><N>=?utf-8?B?Qm9i?=</N><SU> </SU></M></MD>\r\n"
		if got := InitialMailDataPayload([]MailMessage{m}); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
		list := make([]MailMessage, MailDataInlineMax)
		for i := range list {
			list[i] = m
		}
		if got := InitialMailDataPayload(list); strings.Count(got, "<M>") != MailDataInlineMax {
			t.Errorf("25 messages not inline: %q", got)
		}
		if got := InitialMailDataPayload(append(list, m)); !strings.HasSuffix(got, "\r\n\r\nMail-Data: too-large\r\n") {
			t.Errorf("26 messages: %q", got)
		}
		if got := InitialMailDataPayload(nil); !strings.Contains(got, "</Q></MD>\r\n") {
			t.Errorf("empty box: %q", got)
		}
	})
	t.Run("text is escaped", func(t *testing.T) {
		odd := m
		odd.SenderEmail = "a&b<c>@example.com"
		if got := MailDataXML([]MailMessage{odd}); !strings.Contains(got, "<E>a&amp;b&lt;c&gt;@example.com</E>") {
			t.Errorf("%s", got)
		}
	})
	t.Run("events carry MSG Hotmail Hotmail", func(t *testing.T) {
		ev := OIMStored(Party{Email: "alice@example.com"}, Party{Email: "bob@example.com"}, m)
		if ev.Type != TypeOIMStored || ev.NS[0].Command != "MSG" || ev.NS[0].Args != "Hotmail Hotmail" || ev.NS[0].Payload != OIMNotificationPayload(m) {
			t.Errorf("%+v", ev)
		}
		del := OIMDeleted(Party{Email: "alice@example.com"}, []string{"X", "Y"})
		if del.Type != TypeOIMDeleted || !strings.HasSuffix(del.NS[0].Payload, "Message-Delta: 2\r\n") {
			t.Errorf("%+v", del)
		}
	})
}
