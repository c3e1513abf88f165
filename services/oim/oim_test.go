package oim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

const (
	actStore  = "http://messenger.msn.com/ws/2004/09/oim/Store"
	actStore2 = "http://messenger.live.com/ws/2006/09/oim/Store2"
	actRSI    = "http://www.hotmail.msn.com/ws/2004/09/oim/rsi/"
	oimPath   = "/OimWS/oim.asmx"
	rsiPath   = "/rsi/rsi.asmx"
	fakeKey   = "0c5a4b6e2d1f3a7b8c9d0e1f2a3b4c5d" // the lock key in the recorded requests
)

// storeClients are the recorded Store requests: file prefix, SOAPAction as
// the client sends it, and the ticket audience it puts in Ticket/@passport
// (RST_OIM.md §2.1).
var storeClients = []struct {
	dir, file, action string
	aud               auth.Audience
}{
	{"amsn", "Store2", actStore2, auth.AudMessengerSecure},
	{"bitlbee-3.0.3", "Store2", `"` + actStore2 + `"`, auth.AudMessengerSecure},
	{"emesene-1.6.3", "Store2", actStore2, auth.AudMessengerSecure},
	{"libpurple-2.4.0-msnp13", "Store", actStore, auth.AudMessenger},
	{"libpurple-2.5.0", "Store2", actStore2, auth.AudMessengerSecure},
	{"papyon", "Store2", actStore2, auth.AudMessengerSecure},
}

func TestStoreClientRequests(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		for i, c := range storeClients {
			t.Run(c.dir+" gets the challenge, then stores with the computed lock key", func(t *testing.T) {
				tk := e.Ticket(e.alice, c.aud)
				challenge := e.Deps.Tickets.LockKeyChallenge(tk.T)
				first := withTicket(readClientFile(t, "requests/"+c.dir+"/"+c.file+".xml"), tk, "")
				status, body := e.post("//OimWS/oim.asmx", c.action, first)
				if status != 500 || body != challengeFault(t, challenge) {
					t.Fatalf("empty lockkey: %d\n%s\nwant\n%s", status, body, challengeFault(t, challenge))
				}
				if i == 0 {
					golden(t, "store_challenge_fault.xml", strings.Replace(body, challenge, "CHALLENGE", 1))
				}
				keyed := readClientFile(t, "requests/"+c.dir+"/"+c.file+".WithLockKey.xml")
				status, body = e.post(oimPath, c.action, withTicket(keyed, tk, fakeKey))
				if status != 500 || body != challengeFault(t, challenge) {
					t.Fatalf("wrong lockkey: %d\n%s", status, body)
				}
				before := e.oims(e.bob)
				status, body = e.post(oimPath, c.action, withTicket(keyed, tk, e.lockKey(tk, appID(t, keyed))))
				if status != 200 || body != storeOK(1) {
					t.Fatalf("computed lockkey: %d\n%s", status, body)
				}
				if i == 0 {
					golden(t, "store_response.xml", body)
				}
				if got := e.oims(e.bob); got != before+1 {
					t.Errorf("stored messages %d, want %d", got, before+1)
				}
				// The same key stays good for the session (purple keeps it).
				status, _ = e.post(oimPath, c.action, withTicket(keyed, tk, strings.ToUpper(e.lockKey(tk, appID(t, keyed)))))
				if status != 200 {
					t.Errorf("second send with the same key: %d", status)
				}
			})
		}
		t.Run("stored text and run id are the senders'", func(t *testing.T) {
			list, err := e.Store.OfflineMessages(context.Background(), e.bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2*len(storeClients) {
				t.Fatalf("%d messages", len(list))
			}
			for _, m := range list {
				if m.Body != "Hello Bob, this is an offline message." || m.SenderEmail != "alice@example.com" || !strings.HasPrefix(m.RunID, "{") {
					t.Errorf("stored %+v", m)
				}
			}
		})
	})
}

func TestRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		ctx := context.Background()
		// Alice sends the MSNP13 purple form (Store, TWN ticket) and the
		// papyon form (Store2, MBI_SSL ticket).
		for _, c := range []struct{ dir, file, action string }{
			{"libpurple-2.4.0-msnp13", "Store", actStore}, {"papyon", "Store2", actStore2},
		} {
			aud := auth.AudMessengerSecure
			if c.file == "Store" {
				aud = auth.AudMessenger
			}
			tk := e.Ticket(e.alice, aud)
			body := readClientFile(t, "requests/"+c.dir+"/"+c.file+".WithLockKey.xml")
			if c.dir == "papyon" {
				body = strings.Replace(body, "SGVsbG8gQm9iLCB0aGlzIGlzIGFuIG9mZmxpbmUgbWVzc2FnZS4=", base64.StdEncoding.EncodeToString([]byte("Second <one> & \"quoted\" ünïcode")), 1)
			}
			if status, resp := e.post(oimPath, c.action, withTicket(body, tk, e.lockKey(tk, appID(t, body)))); status != 200 {
				t.Fatalf("%s: %d %s", c.dir, status, resp)
			}
		}
		list, err := e.Store.OfflineMessages(ctx, e.bob.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("stored: %v %v", list, err)
		}
		id1, id2 := list[0].GUID, list[1].GUID

		t.Run("Bob's NS gets one MSG Hotmail per message through the outbox", func(t *testing.T) {
			rows := e.outbox(e.bob)
			if len(rows) != 2 {
				t.Fatalf("%d outbox rows", len(rows))
			}
			for i, row := range rows {
				var ev events.Event
				if err := json.Unmarshal([]byte(row.Payload), &ev); err != nil {
					t.Fatal(err)
				}
				if row.Subject != events.Subject(e.bob.CID) || ev.Type != events.TypeOIMStored || ev.Recipient.Email != "bob@example.com" ||
					ev.Actor == nil || ev.Actor.Email != "alice@example.com" || len(ev.NS) != 1 {
					t.Fatalf("event %+v", ev)
				}
				cmd := ev.NS[0]
				if cmd.Command != "MSG" || cmd.Args != "Hotmail Hotmail" {
					t.Errorf("command %s %s", cmd.Command, cmd.Args)
				}
				want := events.OIMNotificationPayload(store.MailMessageOf(&list[i]))
				if cmd.Payload != want || !strings.Contains(cmd.Payload, "<I>"+list[i].GUID+"</I>") {
					t.Errorf("payload %q\nwant %q", cmd.Payload, want)
				}
				if i == 0 {
					golden(t, "ns_oimnotification.txt", cmd.Payload)
				}
			}
			if n := e.Count("outbox", "recipient_id <> ?", e.bob.ID); n != 0 {
				t.Errorf("%d events for others", n)
			}
		})

		t.Run("the NS API serves the initial Mail-Data", func(t *testing.T) {
			md := e.mailData(t, "bob@example.com", 200)
			if md.Count != 2 || !strings.Contains(md.Payload, "<I>"+id1+"</I>") || !strings.Contains(md.Payload, "<I>"+id2+"</I>") {
				t.Fatalf("maildata %+v", md)
			}
			golden(t, "ns_initialmdata.txt", md.Payload)
			e.mailData(t, "nobody@example.com", 404)
			req, _ := http.NewRequest(http.MethodGet, "http://"+e.NSAddr+"/ns/v1/users/bob@example.com/maildata", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("without the NS key: %d", resp.StatusCode)
			}
		})

		bobTk := e.Ticket(e.bob, auth.AudMessenger)
		t.Run("Bob lists them with every client's GetMetadata", func(t *testing.T) {
			for _, dir := range []string{"amsn", "emesene-1.6.3", "libpurple-2.5.0", "papyon"} {
				body := withCookie(readClientFile(t, "requests/"+dir+"/GetMetadata.xml"), bobTk)
				status, resp := e.post(rsiPath, actRSI+"GetMetadata", body)
				if status != 200 {
					t.Fatalf("%s: %d %s", dir, status, resp)
				}
				golden(t, "GetMetadata.resp.xml", resp)
				ms := metadataMessages(t, resp)
				if len(ms) != 2 || ms[0]["I"] != id1 || ms[1]["I"] != id2 || ms[0]["E"] != "alice@example.com" || ms[0]["RS"] != "0" {
					t.Errorf("%s: %v", dir, ms)
				}
			}
		})

		t.Run("Bob reads them with every client's GetMessage, as each parser needs", func(t *testing.T) {
			for _, dir := range []string{"amsn", "emesene-1.6.3", "libpurple-2.4.0-msnp13", "libpurple-2.5.0", "papyon"} {
				for i, id := range []string{id1, id2} {
					body := withMessageID(withCookie(readClientFile(t, "requests/"+dir+"/GetMessage.xml"), bobTk), id)
					status, resp := e.post(rsiPath, actRSI+"GetMessage", body)
					if status != 200 {
						t.Fatalf("%s: %d %s", dir, status, resp)
					}
					if dir == "amsn" {
						golden(t, fmt.Sprintf("GetMessage%d.resp.xml", i+1), resp)
					}
					want := []string{"Hello Bob, this is an offline message.", "Second <one> & \"quoted\" ünïcode"}[i]
					checkMessageText(t, resp, "alice@example.com", want)
					doc := etree.NewDocument()
					if err := doc.ReadFromString(resp); err != nil {
						t.Fatal(err)
					}
					if n := len(doc.FindElement("//GetMessageResult").Text()); n != list[i].Size {
						t.Errorf("Mail-Data SZ %d, GetMessage text is %d bytes", list[i].Size, n)
					}
				}
			}
		})

		t.Run("a third party can neither read nor delete them", func(t *testing.T) {
			carolTk := e.Ticket(e.carol, auth.AudMessenger)
			get := readClientFile(t, "requests/papyon/GetMessage.xml")
			s1, foreign := e.post(rsiPath, actRSI+"GetMessage", withMessageID(withCookie(get, carolTk), id1))
			s2, unknown := e.post(rsiPath, actRSI+"GetMessage", withMessageID(withCookie(get, carolTk), "A3D2B9C8-6F1E-4D7A-8B0C-FFFFFFFFFFFF"))
			if s1 != 500 || faultCode(foreign) != "soap:Client" || strings.Contains(foreign, "Hello") {
				t.Fatalf("foreign GetMessage: %d %s", s1, foreign)
			}
			if s2 != 500 || strings.Replace(unknown, "FFFFFFFFFFFF", "X", 1) != strings.Replace(foreign, id1[24:], "X", 1) {
				t.Errorf("unknown and foreign ids must look the same:\n%s\n%s", foreign, unknown)
			}
			del := withMessageID(withCookie(readClientFile(t, "requests/papyon/DeleteMessages.xml"), carolTk), id1)
			if status, resp := e.post(rsiPath, actRSI+"DeleteMessages", del); status != 200 {
				t.Fatalf("foreign delete: %d %s", status, resp)
			}
			if e.oims(e.bob) != 2 || len(e.outbox(e.carol)) != 0 {
				t.Errorf("carol deleted bob's message")
			}
		})

		t.Run("alsoMarkAsRead sets RS", func(t *testing.T) {
			body := withMessageID(withCookie(readClientFile(t, "requests/papyon/GetMessage.xml"), bobTk), strings.ToLower(id2))
			body = strings.Replace(body, "<alsoMarkAsRead>false<", "<alsoMarkAsRead>true<", 1)
			if status, resp := e.post(rsiPath, actRSI+"GetMessage", body); status != 200 {
				t.Fatalf("%d %s", status, resp)
			}
			_, resp := e.post(rsiPath, actRSI+"GetMetadata", withCookie(readClientFile(t, "requests/papyon/GetMetadata.xml"), bobTk))
			ms := metadataMessages(t, resp)
			if ms[0]["RS"] != "0" || ms[1]["RS"] != "1" {
				t.Errorf("read flags %v", ms)
			}
		})

		t.Run("Bob deletes them; the NS is told and Mail-Data empties", func(t *testing.T) {
			before := len(e.outbox(e.bob))
			for _, c := range []struct{ dir, id string }{{"libpurple-2.4.0-msnp13", id1}, {"amsn", id2}, {"emesene-1.6.3", id2}, {"libpurple-2.5.0", id1}} {
				body := withMessageID(withCookie(readClientFile(t, "requests/"+c.dir+"/DeleteMessages.xml"), bobTk), c.id)
				status, resp := e.post(rsiPath, actRSI+"DeleteMessages", body)
				if status != 200 {
					t.Fatalf("%s: %d %s", c.dir, status, resp)
				}
				golden(t, "DeleteMessages.resp.xml", resp)
			}
			if n := e.oims(e.bob); n != 0 {
				t.Errorf("%d messages left", n)
			}
			rows := e.outbox(e.bob)[before:]
			if len(rows) != 2 { // the repeated deletes changed nothing
				t.Fatalf("%d deletion events", len(rows))
			}
			var ev events.Event
			if err := json.Unmarshal([]byte(rows[0].Payload), &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Type != events.TypeOIMDeleted || ev.NS[0].Command != "MSG" || ev.NS[0].Args != "Hotmail Hotmail" ||
				ev.NS[0].Payload != "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\nSrc-Folder: .!!OIM\r\nDest-Folder: .!!trAsH\r\nMessage-Delta: 1\r\n" {
				t.Errorf("deletion event %+v", ev)
			}
			md := e.mailData(t, "bob@example.com", 200)
			if md.Count != 0 || strings.Contains(md.Payload, "<M>") {
				t.Errorf("maildata after delete %+v", md)
			}
			status, resp := e.post(rsiPath, actRSI+"GetMessage", withMessageID(withCookie(readClientFile(t, "requests/papyon/GetMessage.xml"), bobTk), id1))
			if status != 500 || faultCode(resp) != "soap:Client" {
				t.Errorf("GetMessage after delete: %d %s", status, resp)
			}
		})
	})
}

type mailDataJSON struct {
	Payload string `json:"payload"`
	Count   int    `json:"count"`
}

func (e *env) mailData(t *testing.T, email string, wantStatus int) mailDataJSON {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.NSAddr+"/ns/v1/users/"+email+"/maildata", nil)
	req.Header.Set("Authorization", "Bearer "+e.Config.NSKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("maildata %s: %d %s", email, resp.StatusCode, b)
	}
	var md mailDataJSON
	if wantStatus == 200 {
		if err := json.Unmarshal(b, &md); err != nil {
			t.Fatal(err)
		}
	}
	return md
}

// metadataMessages parses GetMetadataResponse the way purple and aMSN do
// (Body/GetMetadataResponse/MD as child elements) and checks what emesene
// needs: every child of M has a non-empty text node.
func metadataMessages(t *testing.T, resp string) []map[string]string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(resp); err != nil {
		t.Fatal(err)
	}
	md := doc.FindElement("/Envelope/Body/GetMetadataResponse/MD")
	if md == nil {
		t.Fatalf("no MD element:\n%s", resp)
	}
	for _, p := range []string{"E/I", "E/IU", "E/O", "E/OU", "Q/QTM", "Q/QNM"} {
		if md.FindElement(p) == nil {
			t.Errorf("MD lacks %s", p)
		}
	}
	var out []map[string]string
	for _, m := range md.SelectElements("M") {
		f := map[string]string{}
		for _, c := range m.ChildElements() {
			if c.Text() == "" {
				t.Errorf("M/%s has no text (emesene reads firstChild.nodeValue)", c.Tag)
			}
			f[c.Tag] = c.Text()
		}
		for _, k := range []string{"T", "S", "RT", "RS", "SZ", "E", "I", "F", "N", "SU"} {
			if _, ok := f[k]; !ok {
				t.Errorf("M lacks %s", k)
			}
		}
		out = append(out, f)
	}
	return out
}

// msnpSharpFrom is msnp-sharp's From regex (RST_OIM.md §3.3).
var msnpSharpFrom = regexp.MustCompile(`From:[ ]*=\?(.*?)\?(B|Q)\?(.*?)\?=[ ]*<(.*?)>[\r]*\n`)

// checkMessageText parses GetMessageResult the ways purple, msnp-sharp,
// emesene, papyon and aMSN do (RST_OIM.md §3.3).
func checkMessageText(t *testing.T, resp, sender, want string) {
	t.Helper()
	if strings.Contains(resp, "&#x") || strings.Contains(resp, "\r") {
		t.Fatalf("numeric references or CR in the response:\n%q", resp)
	}
	// emesene: raw substring between the tags, From with &lt; &gt;.
	_, after, ok := strings.Cut(resp, "<GetMessageResult>")
	raw, _, ok2 := strings.Cut(after, "</GetMessageResult>")
	if !ok || !ok2 {
		t.Fatalf("no GetMessageResult text:\n%s", resp)
	}
	emeseneFrom := ""
	for _, l := range strings.Split(raw, "\n") {
		if strings.HasPrefix(l, "From: ") {
			emeseneFrom = l
		}
	}
	if !strings.HasSuffix(emeseneFrom, "&gt;") || strings.Count(emeseneFrom, " &lt;") != 1 || emeseneFrom[6:][:len(emeseneFrom)-10] == "" {
		t.Errorf("emesene From: %q", emeseneFrom)
	}
	// The XML text value (what purple, msnp-sharp, papyon, aMSN read).
	doc := etree.NewDocument()
	if err := doc.ReadFromString(resp); err != nil {
		t.Fatal(err)
	}
	res := doc.FindElement("/Envelope/Body/GetMessageResponse/GetMessageResult")
	if res == nil || len(res.ChildElements()) != 0 {
		t.Fatalf("GetMessageResult must be text")
	}
	text := res.Text()
	// purple: headers split on \n, body after the first \n\n, From has < >,
	// Date scanned as "%d %3s %d %d:%d:%d %5s".
	head, body, ok := strings.Cut(text, "\n\n")
	if !ok {
		t.Fatalf("purple finds no blank line:\n%q", text)
	}
	hdr := map[string]string{}
	for _, l := range strings.Split(head, "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if !ok && !strings.HasSuffix(l, ":") {
			t.Errorf("purple cannot split header %q", l)
		}
		hdr[k] = v
	}
	if !strings.Contains(hdr["From"], "<") || !strings.Contains(hdr["From"], ">") {
		t.Errorf("From %q lacks <addr>", hdr["From"])
	}
	var day, year, h, m, s int
	var mon, zone string
	if n, err := fmt.Sscanf(hdr["Date"], "%d %3s %d %d:%d:%d %5s", &day, &mon, &year, &h, &m, &s, &zone); n != 7 || err != nil {
		t.Errorf("purple cannot scan Date %q: %v", hdr["Date"], err)
	}
	if dec, err := base64.StdEncoding.DecodeString(body); err != nil || string(dec) != want {
		t.Errorf("purple body %q: %v", body, err)
	}
	// msnp-sharp: encoded-word From regex; body = first line after \n\n.
	fm := msnpSharpFrom.FindStringSubmatch(text)
	if fm == nil || fm[4] != sender || fm[2] != "B" {
		t.Errorf("msnp-sharp From regex fails on %q", hdr["From"])
	}
	firstLine, _, _ := strings.Cut(body, "\n")
	if dec, err := base64.StdEncoding.DecodeString(firstLine); err != nil || string(dec) != want {
		t.Errorf("msnp-sharp body line %q", firstLine)
	}
	// papyon: an e-mail parser; Run-Id with braces and Sequence-Num present.
	msg, err := mail.ReadMessage(strings.NewReader(text))
	if err != nil {
		t.Fatalf("e-mail parser: %v", err)
	}
	if rid := msg.Header.Get("X-OIM-Run-Id"); !regexp.MustCompile(`^\{[0-9A-Fa-f-]{36}\}$`).MatchString(rid) {
		t.Errorf("X-OIM-Run-Id %q", rid)
	}
	if msg.Header.Get("X-OIM-Sequence-Num") == "" || !strings.HasPrefix(msg.Header.Get("Content-Type"), "text/plain") ||
		msg.Header.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("headers %v", msg.Header)
	}
	if _, err := mail.ParseDate(msg.Header.Get("Date")); err != nil { // emesene: parsedate_tz
		t.Errorf("Date: %v", err)
	}
	if _, err := msg.Header.AddressList("From"); err != nil {
		t.Errorf("From as an address: %v", err)
	}
	// aMSN: From matched by ([^<]*)\s?<([^>]+)>.
	if am := regexp.MustCompile(`([^<]*)\s?<([^>]+)>`).FindStringSubmatch(hdr["From"]); am == nil || am[2] != sender {
		t.Errorf("aMSN From %q", hdr["From"])
	}
}
