package oim_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

const origB64 = "SGVsbG8gQm9iLCB0aGlzIGlzIGFuIG9mZmxpbmUgbWVzc2FnZS4="

// validStore is the papyon Store2 request with a real ticket and lock key.
func (e *env) validStore(t testing.TB, from *models.Account) string {
	tk := e.Ticket(from, auth.AudMessengerSecure)
	body := readClientFile(t, "requests/papyon/Store2.WithLockKey.xml")
	body = strings.Replace(body, `<From memberName="alice@example.com"`, `<From memberName="`+from.Email+`"`, 1)
	return withTicket(body, tk, e.lockKey(tk, appID(t, body)))
}

func TestStoreRejects(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.OIMMaxBytes = 64
		cfg.OIMMaxPerRecipient = 3
		e := newEnv(t, cfg)
		ctx := context.Background()
		valid := e.validStore(t, e.alice)
		line := func(s, header string) string { // drop one header line
			i := strings.Index(s, header)
			j := strings.Index(s[i:], "\r\n")
			return s[:i] + s[i+j+2:]
		}
		forged := e.Ticket(e.alice, auth.AudMessengerSecure)
		forged.T = forged.T[:len(forged.T)-2] + "AA"
		contactsTk := e.Ticket(e.alice, auth.AudContacts)
		cases := []struct {
			name, body, code, text string
		}{
			{"not well-formed XML", "<soap:Envelope><soap:Body>", "q0:InvalidContent", ""},
			{"no blank line before the body", strings.Replace(valid, "Num: 1\r\n\r\n", "Num: 1\r\n", 1), "q0:InvalidContent", "blank line"},
			{"bad base64", strings.Replace(valid, origB64, "!!!not*base64", 1), "q0:InvalidContent", "base64"},
			{"empty body", strings.Replace(valid, origB64, "", 1), "q0:InvalidContent", "empty"},
			{"text not UTF-8", strings.Replace(valid, origB64, base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 'a'}), 1), "q0:InvalidContent", "UTF-8"},
			{"text with NUL", strings.Replace(valid, origB64, base64.StdEncoding.EncodeToString([]byte("a\x00b")), 1), "q0:InvalidContent", "UTF-8"},
			{"missing MIME-Version", line(valid, "MIME-Version"), "q0:InvalidContent", "MIME-Version"},
			{"missing Content-Type", line(valid, "Content-Type"), "q0:InvalidContent", "Content-Type"},
			{"text/html content", strings.Replace(valid, "text/plain", "text/html", 1), "q0:InvalidContent", "Content-Type"},
			{"another charset", strings.Replace(valid, "charset=UTF-8", "charset=ISO-8859-1", 1), "q0:InvalidContent", "charset"},
			{"missing Content-Transfer-Encoding", line(valid, "Content-Transfer-Encoding"), "q0:InvalidContent", "Content-Transfer-Encoding"},
			{"missing X-OIM-Message-Type", line(valid, "X-OIM-Message-Type"), "q0:InvalidContent", "X-OIM-Message-Type"},
			{"missing X-OIM-Run-Id", line(valid, "X-OIM-Run-Id"), "q0:InvalidContent", "Run-Id"},
			{"Run-Id not a GUID", strings.Replace(valid, "{3D7F5A1B-2C4E-4F6A-8B9C-0D1E2F3A4B5C}", "{not-a-guid}", 1), "q0:InvalidContent", "Run-Id"},
			{"Run-Id without braces", strings.Replace(valid, "{3D7F5A1B-2C4E-4F6A-8B9C-0D1E2F3A4B5C}", "3D7F5A1B-2C4E-4F6A-8B9C-0D1E2F3A4B5C", 1), "q0:InvalidContent", "Run-Id"},
			{"missing X-OIM-Sequence-Num", line(valid, "X-OIM-Sequence-Num"), "q0:InvalidContent", "Sequence-Num"},
			{"sequence mismatch", strings.Replace(valid, "X-OIM-Sequence-Num: 1", "X-OIM-Sequence-Num: 2", 1), "q0:InvalidContent", "does not match"},
			{"no Sequence", strings.Replace(strings.Replace(valid, "<Sequence ", "<Sekuence ", 1), "</Sequence>", "</Sekuence>", 1), "q0:InvalidContent", "MessageNumber"},
			{"MessageNumber zero", strings.Replace(strings.Replace(valid, "<MessageNumber>1<", "<MessageNumber>0<", 1), "Sequence-Num: 1", "Sequence-Num: 0", 1), "q0:InvalidContent", "MessageNumber"},
			{"MessageNumber not a number", strings.Replace(valid, "<MessageNumber>1<", "<MessageNumber>x<", 1), "q0:InvalidContent", "MessageNumber"},
			{"server-only header supplied", strings.Replace(valid, "MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\nReceived: from evil\r\n", 1), "q0:InvalidContent", "set by the server"},
			{"header line without colon", strings.Replace(valid, "MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\ngarbage\r\n", 1), "q0:InvalidContent", "malformed header"},
			{"MessageType not text", strings.Replace(valid, ">text</MessageType>", ">html</MessageType>", 1), "q0:InvalidContent", "MessageType"},
			{"no Content", strings.Replace(strings.Replace(valid, "<Content ", "<Other ", 1), "</Content>", "</Other>", 1), "q0:InvalidContent", "Content"},
			{"no To", strings.Replace(valid, `memberName="bob@example.com"`, "", 1), "q0:InvalidContent", "To"},
			{"friendlyName a broken encoded word", strings.Replace(valid, "=?utf-8?B?QWxpY2U=?=", "=?utf-8?B?!!!?=", 1), "q0:InvalidContent", "friendlyName"},
			{"From is not the ticket's account", strings.Replace(valid, `memberName="alice@example.com"`, `memberName="carol@example.com"`, 1), "q0:AuthenticationFailed", "ticket's account"},
			{"no Ticket", strings.Replace(valid, "<Ticket ", "<Tocket ", 1), "q0:AuthenticationFailed", "Ticket"},
			{"forged ticket", withTicket(valid, forged, "x"), "q0:AuthenticationFailed", ""},
			{"contacts ticket", withTicket(valid, contactsTk, e.lockKey(contactsTk, "PROD0114ES4Z%Q5W")), "q0:AuthenticationFailed", ""},
			{"unknown appid", strings.Replace(valid, "PROD0114ES4Z%Q5W", "PROD9999XXXX%Q5W", 1), "q0:AuthenticationFailed", "appid"},
			{"unknown recipient", strings.Replace(valid, "bob@example.com", "nobody@example.com", 1), "q0:SystemUnavailable", "does not exist"},
			{"malformed recipient", strings.Replace(valid, "bob@example.com", "not-an-address", 1), "q0:SystemUnavailable", "does not exist"},
			{"message over OIMMaxBytes", strings.Replace(valid, origB64, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 65))), 1), "q0:SystemUnavailable", "larger than 64 bytes"},
		}
		for _, c := range cases {
			t.Run(c.name+" faults with "+c.code, func(t *testing.T) {
				before, events := e.oims(e.bob), len(e.outbox(e.bob))
				status, resp := e.post(oimPath, actStore2, c.body)
				if status != 500 || faultCode(resp) != c.code || !strings.Contains(resp, c.text) {
					t.Fatalf("got %d %s", status, resp)
				}
				if c.code != "q0:AuthenticationFailed" || c.name != "no Ticket" {
					if strings.Contains(resp, "LockKeyChallenge") {
						t.Errorf("only the lock-key fault carries a challenge: %s", resp)
					}
				}
				if !strings.Contains(resp, `<faultcode xmlns:q0="http://messenger.msn.com/ws/2004/09/oim/">`) || !strings.Contains(resp, "<faultactor>https://ows.messenger.msn.com/OimWS/oim.asmx</faultactor>") {
					t.Errorf("not the OIM fault dialect: %s", resp)
				}
				if e.oims(e.bob) != before || len(e.outbox(e.bob)) != events {
					t.Errorf("a refused message left rows behind")
				}
			})
		}

		t.Run("purple's wrapped base64 with \\n line ends is accepted and read back on one line", func(t *testing.T) {
			long := strings.Repeat("wrapped ", 7)
			enc := base64.StdEncoding.EncodeToString([]byte(long))
			wrapped := enc[:40] + "\n" + enc[40:]
			body := strings.ReplaceAll(strings.Replace(valid, origB64, wrapped, 1), "\r\n", "\n")
			if status, resp := e.post(oimPath, actStore2, body); status != 200 {
				t.Fatalf("%d %s", status, resp)
			}
			list, _ := e.Store.OfflineMessages(ctx, e.bob.ID)
			if len(list) != 1 || list[0].Body != long {
				t.Fatalf("stored %+v", list)
			}
			bobTk := e.Ticket(e.bob, auth.AudMessenger)
			_, resp := e.post(rsiPath, actRSI+"GetMessage", withMessageID(withCookie(readClientFile(t, "requests/libpurple-2.5.0/GetMessage.xml"), bobTk), list[0].GUID))
			checkMessageText(t, resp, "alice@example.com", long)
			if !strings.Contains(resp, "\n"+enc+"</GetMessageResult>") {
				t.Errorf("body not on one line: %s", resp)
			}
		})

		t.Run("a recipient who blocks the sender gets nothing", func(t *testing.T) {
			before := e.oims(e.bob)
			setMember(t, e, e.bob, models.RoleBlock, e.alice, true)
			status, resp := e.post(oimPath, actStore2, valid)
			if status != 500 || faultCode(resp) != "q0:SystemUnavailable" || !strings.Contains(resp, "recipient does not exist") {
				t.Fatalf("blocked: %d %s", status, resp)
			}
			setMember(t, e, e.bob, models.RoleBlock, e.alice, false)
			if status, resp := e.post(oimPath, actStore2, valid); status != 200 {
				t.Fatalf("unblocked: %d %s", status, resp)
			}
			if e.oims(e.bob) != before+1 {
				t.Errorf("count %d", e.oims(e.bob))
			}
		})

		t.Run("BLP=BL admits only the Allow list", func(t *testing.T) {
			carolValid := e.validStore(t, e.carol)
			if err := e.Store.DB.Exec("UPDATE accounts SET blp = 'BL' WHERE id = ?", e.alice.ID).Error; err != nil {
				t.Fatal(err)
			}
			toAlice := strings.Replace(carolValid, `To memberName="bob@example.com"`, `To memberName="alice@example.com"`, 1)
			status, resp := e.post(oimPath, actStore2, toAlice)
			if status != 500 || faultCode(resp) != "q0:SystemUnavailable" {
				t.Fatalf("BLP=BL, not allowed: %d %s", status, resp)
			}
			setMember(t, e, e.alice, models.RoleAllow, e.carol, true)
			if status, resp := e.post(oimPath, actStore2, toAlice); status != 200 {
				t.Fatalf("allowed: %d %s", status, resp)
			}
		})

		t.Run("per-recipient limit gives SystemUnavailable with a clear text", func(t *testing.T) {
			for e.oims(e.bob) < int64(cfg.OIMMaxPerRecipient) {
				if status, resp := e.post(oimPath, actStore2, valid); status != 200 {
					t.Fatalf("%d %s", status, resp)
				}
			}
			status, resp := e.post(oimPath, actStore2, valid)
			if status != 500 || faultCode(resp) != "q0:SystemUnavailable" || !strings.Contains(resp, "box is full (3 messages)") {
				t.Fatalf("%d %s", status, resp)
			}
			if e.oims(e.bob) != 3 {
				t.Errorf("count %d", e.oims(e.bob))
			}
		})

		t.Run("disabled recipient is unknown", func(t *testing.T) {
			if err := e.Store.DB.Exec("UPDATE accounts SET disabled = TRUE WHERE id = ?", e.carol.ID).Error; err != nil {
				t.Fatal(err)
			}
			toCarol := strings.Replace(valid, `To memberName="bob@example.com"`, `To memberName="carol@example.com"`, 1)
			status, resp := e.post(oimPath, actStore2, toCarol)
			if status != 500 || faultCode(resp) != "q0:SystemUnavailable" {
				t.Fatalf("%d %s", status, resp)
			}
		})
	})
}

func setMember(t *testing.T, e *env, owner *models.Account, role string, member *models.Account, on bool) {
	t.Helper()
	err := e.Store.Write(context.Background(), func(tx *store.Txn) error {
		if err := tx.Bump(owner.ID); err != nil {
			return err
		}
		if on {
			_, _, err := tx.PutMember(owner.ID, role, store.PassportRef(member), "", "", nil)
			return err
		}
		_, err := tx.RemoveMember(owner.ID, role, store.PassportRef(member))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRSIRejects(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		meta := readClientFile(t, "requests/papyon/GetMetadata.xml")
		get := readClientFile(t, "requests/papyon/GetMessage.xml")
		bobTk := e.Ticket(e.bob, auth.AudMessenger)
		secure := e.Ticket(e.bob, auth.AudMessengerSecure)
		forged := e.Ticket(e.bob, auth.AudMessenger)
		forged.T = "AA" + forged.T[2:]
		auths := []struct{ name, body string }{
			{"no PassportCookie", strings.Replace(meta, "PassportCookie", "Cookie", 2)},
			{"the recorded (foreign) ticket", meta},
			{"empty t", reT.ReplaceAllString(meta, "<t></t>")},
			{"forged ticket", withCookie(meta, forged)},
			{"messengersecure ticket", withCookie(meta, secure)},
		}
		for i, c := range auths {
			t.Run(c.name+" faults with AuthenticationFailed", func(t *testing.T) {
				status, resp := e.post(rsiPath, actRSI+"GetMetadata", c.body)
				if status != 500 || faultCode(resp) != "AuthenticationFailed" || !strings.Contains(resp, `<AuthenticationFailed xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"><TweenerChallenge>`) {
					t.Fatalf("%d %s", status, resp)
				}
				if i == 0 {
					golden(t, "rsi_auth_fault.xml", resp)
				}
			})
		}
		t.Run("the MSPAuth cookie stands in for an empty <t>", func(t *testing.T) {
			status, resp := e.post(rsiPath, actRSI+"GetMetadata", reT.ReplaceAllString(meta, "<t></t>"), "Cookie", "MSPAuth="+bobTk.T)
			if status != 200 || !strings.Contains(resp, "<MD>") {
				t.Fatalf("%d %s", status, resp)
			}
		})
		bad := []struct{ name, body, text string }{
			{"missing messageId", strings.Replace(withCookie(get, bobTk), "<messageId>A3D2B9C8-6F1E-4D7A-8B0C-9E8F7A6B5C4D</messageId>", "", 1), "messageId"},
			{"alsoMarkAsRead not a boolean", strings.Replace(withCookie(get, bobTk), ">false<", ">maybe<", 1), "not a boolean"},
			{"unknown operation", strings.Replace(withCookie(meta, bobTk), "GetMetadata", "GetEverything", 1), "no longer supported"},
			{"not well-formed XML", "<soap:Envelope", "well-formed"},
		}
		for _, c := range bad {
			t.Run(c.name+" faults with soap:Client", func(t *testing.T) {
				status, resp := e.post(rsiPath, actRSI+"GetMessage", c.body)
				if status != 500 || faultCode(resp) != "soap:Client" || !strings.Contains(resp, c.text) {
					t.Fatalf("%d %s", status, resp)
				}
			})
		}
		t.Run("DeleteMessages of unknown ids succeeds and changes nothing", func(t *testing.T) {
			del := withCookie(readClientFile(t, "requests/amsn/DeleteMessages.xml"), bobTk)
			status, resp := e.post(rsiPath, actRSI+"DeleteMessages", del)
			if status != 200 || len(e.outbox(e.bob)) != 0 {
				t.Fatalf("%d %s", status, resp)
			}
		})
	})
}

func TestCaptures(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		ctx := context.Background()
		stores := []struct {
			file string
			aud  auth.Audience
		}{
			{"pidgin-2.4.3-msnp13-oim/007_Store.http", auth.AudMessenger},
			{"pidgin-2.10.1-actions/007_Store2.http", auth.AudMessengerSecure},
			{"pidgin-2.7.5-actions/009_Store2.http", auth.AudMessengerSecure},
		}
		for _, s := range stores {
			t.Run(s.file+" is challenged, then stored", func(t *testing.T) {
				c := readCapture(t, "captures/"+s.file)
				tk := e.Ticket(e.alice, s.aud)
				status, resp := e.replay(c, withTicket(c.Body, tk, ""))
				if status != 500 || resp != challengeFault(t, e.Deps.Tickets.LockKeyChallenge(tk.T)) {
					t.Fatalf("%d %s", status, resp)
				}
				status, resp = e.replay(c, withTicket(c.Body, tk, e.lockKey(tk, appID(t, c.Body))))
				if status != 200 || resp != storeOK(1) {
					t.Fatalf("%d %s", status, resp)
				}
			})
		}
		list, err := e.Store.OfflineMessages(ctx, e.carol.ID)
		if err != nil || len(list) != 3 {
			t.Fatalf("carol's messages: %v %v", list, err)
		}
		carolTk := e.Ticket(e.carol, auth.AudMessenger)
		fetches := []string{"pidgin-2.4.3-msnp13-oim", "pidgin-2.10.1-login-with-oim", "pidgin-2.7.5-actions"}
		for i, dir := range fetches {
			t.Run(dir+" reads and deletes", func(t *testing.T) {
				id := list[i].GUID
				c := readCapture(t, "captures/"+dir+"/003_GetMessage.http")
				status, resp := e.replay(c, withMessageID(withCookie(c.Body, carolTk), id))
				if status != 200 {
					t.Fatalf("%d %s", status, resp)
				}
				checkMessageText(t, resp, "alice@example.com", "hello-offline")
				d := readCapture(t, "captures/"+dir+"/005_DeleteMessages.http")
				if status, resp := e.replay(d, withMessageID(withCookie(d.Body, carolTk), id)); status != 200 {
					t.Fatalf("%d %s", status, resp)
				}
				if n := e.oims(e.carol); n != int64(len(list)-i-1) {
					t.Errorf("%d left", n)
				}
			})
		}
	})
}

func TestStoreLimitUnderConcurrency(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.OIMMaxPerRecipient = 3
		e := newEnv(t, cfg)
		valid := e.validStore(t, e.alice)
		const senders = 8
		codes := make(chan int, senders)
		for i := 0; i < senders; i++ {
			go func() {
				req, _ := http.NewRequest(http.MethodPost, e.Base+oimPath, strings.NewReader(valid))
				req.Header.Set("SOAPAction", actStore2)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		ok := 0
		for i := 0; i < senders; i++ {
			if <-codes == 200 {
				ok++
			}
		}
		if ok != 3 || e.oims(e.bob) != 3 || len(e.outbox(e.bob)) != 3 {
			t.Fatalf("%d accepted, %d stored, %d events; want 3", ok, e.oims(e.bob), len(e.outbox(e.bob)))
		}
	})
}

func TestMailDataTooLarge(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		valid := e.validStore(t, e.alice)
		for i := 0; i < 26; i++ {
			if status, resp := e.post(oimPath, actStore2, valid); status != 200 {
				t.Fatalf("%d %s", status, resp)
			}
		}
		md := e.mailData(t, "bob@example.com", 200)
		if md.Count != 26 || !strings.HasSuffix(md.Payload, "\r\n\r\nMail-Data: too-large\r\n") {
			t.Fatalf("%+v", md)
		}
		// GetMetadata has no such limit (PROTOCOL.md §7.3).
		_, resp := e.post(rsiPath, actRSI+"GetMetadata", withCookie(readClientFile(t, "requests/amsn/GetMetadata.xml"), e.Ticket(e.bob, auth.AudMessenger)))
		if ms := metadataMessages(t, resp); len(ms) != 26 {
			t.Errorf("GetMetadata lists %d", len(ms))
		}
	})
}

// TestSenderThrottle: past ABCH_OIM_SEND_LIMIT sends in ABCH_OIM_SEND_WINDOW
// a sender gets q0:SenderThrottleLimitExceeded (what msnp-sharp waits on
// and retries) and nothing is stored; other senders are not affected; the
// next window admits the sender again; a concurrent burst cannot overshoot.
func TestSenderThrottle(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.OIMSendLimit, cfg.OIMSendWindow = 3, time.Minute
		e := newEnv(t, cfg)
		var offset atomic.Int64
		e.Store.Now = func() time.Time { return clock.Start.Add(time.Duration(offset.Load())) }
		alice, carol := e.validStore(t, e.alice), e.validStore(t, e.carol)
		send := func(body string) (int, string) { return e.post(oimPath, actStore2, body) }
		for i := 0; i < 3; i++ {
			if status, resp := send(alice); status != 200 {
				t.Fatalf("send %d: %d %s", i+1, status, resp)
			}
		}
		offset.Add(int64(59 * time.Second)) // still the same window
		before, events := e.oims(e.bob), len(e.outbox(e.bob))
		status, resp := send(alice)
		if status != 500 || faultCode(resp) != "q0:SenderThrottleLimitExceeded" || !strings.Contains(resp, "more than 3 offline messages") ||
			!strings.Contains(resp, `<faultcode xmlns:q0="http://messenger.msn.com/ws/2004/09/oim/">`) {
			t.Fatalf("4th send: %d %s", status, resp)
		}
		if e.oims(e.bob) != before || len(e.outbox(e.bob)) != events {
			t.Fatalf("a throttled message was stored")
		}
		if status, resp := send(carol); status != 200 {
			t.Fatalf("another sender is throttled too: %d %s", status, resp)
		}
		offset.Add(int64(2 * time.Second)) // the window that began with alice's first send is over
		if status, resp := send(alice); status != 200 {
			t.Fatalf("next window: %d %s", status, resp)
		}

		offset.Add(int64(time.Hour))
		const burst = 10
		codes := make(chan string, burst)
		for i := 0; i < burst; i++ {
			go func() {
				status, resp := send(carol)
				if status == 200 {
					codes <- "ok"
					return
				}
				codes <- faultCode(resp)
			}()
		}
		got := map[string]int{}
		for i := 0; i < burst; i++ {
			got[<-codes]++
		}
		if got["ok"] != 3 || got["q0:SenderThrottleLimitExceeded"] != burst-3 {
			t.Fatalf("burst of %d: %v; want 3 stored, the rest throttled", burst, got)
		}
	})
}
