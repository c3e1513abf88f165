// Package e2e drives abch the way a real deployment does: clients sign in
// through RST and call the SOAP services over HTTP, and a Notification Server
// checks tickets and reads lists through the NS API (nsclient) and consumes
// change events from the real broker.
package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/nsclient"
)

// client is one signed-in MSNP15 client: the tickets RST gave it.
type client struct {
	t        *testing.T
	base     string
	email    string
	contacts string // contacts.msn.com ticket
	clear    string // messengerclear.live.com ticket (USR SSO S)
	secure   string // messengersecure.live.com ticket (OIM)
	web      string // messenger.msn.com ticket (RSI)
}

const rstTemplate = `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext" xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing" xmlns:wssc="http://schemas.xmlsoap.org/ws/2004/04/sc" xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust"><Header><ps:AuthInfo xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="PPAuthInfo"><ps:HostingApp>{7108E71A-9926-4FCB-BCC9-9A9D3F32E423}</ps:HostingApp><ps:BinaryVersion>4</ps:BinaryVersion><ps:UIVersion>1</ps:UIVersion><ps:Cookies></ps:Cookies><ps:RequestParams>AQAAAAIAAABsYwQAAAAxMDMz</ps:RequestParams></ps:AuthInfo><wsse:Security><wsse:UsernameToken Id="user"><wsse:Username>%s</wsse:Username><wsse:Password>%s</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">` +
	`<wst:RequestSecurityToken Id="RST0"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>` +
	`<wst:RequestSecurityToken Id="RST1"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI_KEY_OLD"></wsse:PolicyReference></wst:RequestSecurityToken>` +
	`<wst:RequestSecurityToken Id="RST2"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messenger.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="?id=507"></wsse:PolicyReference></wst:RequestSecurityToken>` +
	`<wst:RequestSecurityToken Id="RST3"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>contacts.msn.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI"></wsse:PolicyReference></wst:RequestSecurityToken>` +
	`<wst:RequestSecurityToken Id="RST4"><wst:RequestType>http://schemas.xmlsoap.org/ws/2004/04/security/trust/Issue</wst:RequestType><wsp:AppliesTo><wsa:EndpointReference><wsa:Address>messengersecure.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo><wsse:PolicyReference URI="MBI_SSL"></wsse:PolicyReference></wst:RequestSecurityToken>` +
	`</ps:RequestMultipleSecurityTokens></Body></Envelope>`

var tokenRE = regexp.MustCompile(`<wsa:Address>([^<]+)</wsa:Address>.*?<wsse:BinarySecurityToken Id="Compact\d+">([^<]+)</wsse:BinarySecurityToken>`)

// signIn runs the RST login a pidgin 2.5-style client sends.
func signIn(t *testing.T, base, email, password string) *client {
	t.Helper()
	status, body := post(t, base+"//RST.srf", "", fmt.Sprintf(rstTemplate, email, password), nil)
	if status != 200 {
		t.Fatalf("RST for %s: status %d\n%s", email, status, body)
	}
	c := &client{t: t, base: base, email: email}
	for _, m := range tokenRE.FindAllStringSubmatch(strings.ReplaceAll(body, "</wst:RequestSecurityTokenResponse>", "</wst:RequestSecurityTokenResponse>\n"), -1) {
		tok := strings.ReplaceAll(m[2], "&amp;", "&")
		switch m[1] {
		case "contacts.msn.com":
			c.contacts = tok
		case "messengerclear.live.com":
			c.clear = tok
		case "messenger.msn.com":
			c.web = tok
		case "messengersecure.live.com":
			c.secure = tok
		}
	}
	if c.contacts == "" || c.clear == "" || c.web == "" || c.secure == "" {
		t.Fatalf("RST answer lacks tokens: %+v\n%s", c, body)
	}
	return c
}

func post(t *testing.T, url, action, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if action != "" {
		req.Header.Set("SOAPAction", action)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Length") == "" {
		t.Errorf("%s: no Content-Length", url)
	}
	return resp.StatusCode, string(b)
}

const abHeader = `<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>996CDE1E-AA53-4477-B943-2BE802EA6166</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>%s</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>%s</TicketToken></ABAuthHeader></soap:Header>`

// ab calls an Address Book or Sharing operation with the contacts ticket.
func (c *client) ab(path, op, scenario, inner string) (int, string) {
	env := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">` +
		fmt.Sprintf(abHeader, scenario, strings.ReplaceAll(c.contacts, "&", "&amp;")) +
		`<soap:Body><` + op + ` xmlns="http://www.msn.com/webservices/AddressBook">` + inner + `</` + op + `></soap:Body></soap:Envelope>`
	return post(c.t, c.base+path, "http://www.msn.com/webservices/AddressBook/"+op, env, nil)
}

func (c *client) mustAB(path, op, scenario, inner string) string {
	c.t.Helper()
	status, body := c.ab(path, op, scenario, inner)
	if status != 200 {
		c.t.Fatalf("%s %s: status %d\n%s", c.email, op, status, body)
	}
	return body
}

const (
	abPath      = "/abservice/abservice.asmx"
	sharingPath = "/abservice/SharingService.asmx"
)

func findMembership(c *client) string {
	return c.mustAB(sharingPath, "FindMembership", "Initial", `<serviceFilter><Types><ServiceType>Messenger</ServiceType><ServiceType>Invitation</ServiceType><ServiceType>SocialNetwork</ServiceType><ServiceType>Space</ServiceType><ServiceType>Profile</ServiceType></Types></serviceFilter>`)
}

func findAll(c *client, deltaFrom string) string {
	inner := `<abId>00000000-0000-0000-0000-000000000000</abId><abView>Full</abView>`
	if deltaFrom != "" {
		inner += `<deltasOnly>true</deltasOnly><lastChange>` + deltaFrom + `</lastChange>`
	} else {
		inner += `<deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`
	}
	return c.mustAB(abPath, "ABFindAll", "Initial", inner)
}

// roleMembers returns the passport names listed under role in a
// FindMembership answer, with Deleted=false.
func roleMembers(body, role string) []string {
	i := strings.Index(body, "<MemberRole>"+role+"</MemberRole>")
	if i < 0 {
		return nil
	}
	seg := body[i:]
	if j := strings.Index(seg, "</Membership>"); j >= 0 {
		seg = seg[:j]
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<Member [^>]*>(.*?)</Member>`).FindAllStringSubmatch(seg, -1) {
		if strings.Contains(m[1], "<Deleted>true</Deleted>") {
			continue
		}
		if p := regexp.MustCompile(`<PassportName>([^<]+)</PassportName>`).FindStringSubmatch(m[1]); p != nil {
			out = append(out, p[1])
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func lastChange(t *testing.T, findAllBody string) string {
	t.Helper()
	m := regexp.MustCompile(`<ab>.*?<lastChange>([^<]+)</lastChange>`).FindStringSubmatch(findAllBody)
	if m == nil {
		t.Fatalf("no ab/lastChange in\n%s", findAllBody)
	}
	return m[1]
}

// nsSession collects the NS commands the events ask an NS to write to one
// user's sockets.
type nsSession struct {
	mu   sync.Mutex
	cmds []string
	ch   chan struct{}
}

func (s *nsSession) add(ev nsclient.Event) {
	s.mu.Lock()
	for _, c := range ev.NS {
		s.cmds = append(s.cmds, string(nsclient.Wire(c)))
	}
	s.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// waitFor waits until a command starting with prefix and containing want
// has arrived.
func (s *nsSession) waitFor(t *testing.T, prefix, want string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		s.mu.Lock()
		for _, c := range s.cmds {
			if strings.HasPrefix(c, prefix) && strings.Contains(c, want) {
				s.mu.Unlock()
				return c
			}
		}
		got := append([]string(nil), s.cmds...)
		s.mu.Unlock()
		select {
		case <-s.ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %q command containing %q; got %q", prefix, want, got)
		}
	}
}

func TestAliceAddsBob(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		base := "http://" + s.HTTPAddr
		ctx := context.Background()
		testenv.NewAccount(t, s, "alice@example.com", "alice-pw", "Alice A")
		testenv.NewAccount(t, s, "bob@example.com", "bob-pw", "Bob B")

		// The NS: checks tickets, knows Bob's CID, subscribes to his events.
		ns := nsclient.New("http://"+s.NSAddr, cfg.NSKey)
		alice := signIn(t, base, "alice@example.com", "alice-pw")
		bob := signIn(t, base, "bob@example.com", "bob-pw")
		ai, err := ns.VerifyTicket(ctx, alice.clear)
		if err != nil || ai.Email != "alice@example.com" {
			t.Fatalf("NS ticket check for alice: %+v %v", ai, err)
		}
		bi, err := ns.VerifyTicket(ctx, bob.clear)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ns.VerifyTicket(ctx, bob.contacts); err == nil {
			t.Errorf("NS accepted a contacts ticket for sign-in")
		}
		nc, err := nats.Connect(s.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		bobNS := &nsSession{ch: make(chan struct{}, 1)}
		sub, err := nsclient.Subscribe(ctx, nc, nsclient.SubscribeOptions{CIDs: []int64{bi.CID}}, func(_ context.Context, ev nsclient.Event) error {
			if ev.Recipient.CID != bi.CID {
				t.Errorf("event for %d delivered on Bob's subscription", ev.Recipient.CID)
			}
			bobNS.add(ev)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Stop()

		// Both sign in to the contact services the way clients do at login.
		findMembership(alice)
		aliceBook := findAll(alice, "")
		findMembership(bob)
		findAll(bob, "")

		// Alice adds Bob with an invitation.
		added := alice.mustAB(abPath, "ABContactAdd", "ContactSave", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact xmlns="http://www.msn.com/webservices/AddressBook"><contactInfo><contactType>LivePending</contactType><passportName>bob@example.com</passportName><isMessengerUser>true</isMessengerUser><MessengerMemberInfo><PendingAnnotations><Annotation><Name>MSN.IM.InviteMessage</Name><Value>hi bob &amp; co</Value></Annotation></PendingAnnotations><DisplayName>Alice A</DisplayName></MessengerMemberInfo></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`)
		guid := regexp.MustCompile(`<guid>([^<]+)</guid>`).FindStringSubmatch(added)
		if guid == nil {
			t.Fatalf("ABContactAdd answer without guid:\n%s", added)
		}

		t.Run("Bob's NS gets ADL with Alice on his Reverse list, then NOT", func(t *testing.T) {
			adl := bobNS.waitFor(t, "ADL 0 ", `<c n="alice" t="1" l="8" f="Alice%20A" />`)
			if !strings.Contains(adl, `<d n="example.com">`) {
				t.Errorf("ADL payload: %q", adl)
			}
			not := bobNS.waitFor(t, "NOT ", "ABCHInternal")
			if !strings.Contains(not, fmt.Sprintf("&lt;CID&gt;%d&lt;/CID&gt;", bi.CID)) {
				t.Errorf("NOT payload lacks Bob's CID: %q", not)
			}
		})

		t.Run("Bob sees Alice on Reverse and Pending with her name and message", func(t *testing.T) {
			fm := findMembership(bob)
			if !contains(roleMembers(fm, "Reverse"), "alice@example.com") || !contains(roleMembers(fm, "Pending"), "alice@example.com") {
				t.Fatalf("Reverse/Pending: %v / %v\n%s", roleMembers(fm, "Reverse"), roleMembers(fm, "Pending"), fm)
			}
			if !strings.Contains(fm, "hi bob &amp; co") || !strings.Contains(fm, "<DisplayName>Alice A</DisplayName>") {
				t.Errorf("pending member lacks the invitation:\n%s", fm)
			}
			lists, err := ns.Lists(ctx, "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			var bits int
			for _, e := range lists.Contacts {
				if e.Email == "alice@example.com" {
					bits = e.Lists
				}
			}
			if bits != nsclient.RL|nsclient.PL {
				t.Errorf("NS lists: alice has bits %d on Bob's lists, want RL|PL", bits)
			}
		})

		t.Run("Alice's delta shows Bob, and Bob is on her Allow list", func(t *testing.T) {
			delta := findAll(alice, lastChange(t, aliceBook))
			if !strings.Contains(delta, "<contactId>"+guid[1]+"</contactId>") || !strings.Contains(delta, "<passportName>bob@example.com</passportName>") {
				t.Errorf("delta lacks the new contact:\n%s", delta)
			}
			if !contains(roleMembers(findMembership(alice), "Allow"), "bob@example.com") {
				t.Errorf("EnableAllowListManagement did not allow Bob")
			}
		})

		t.Run("Bob accepts: Allow, not Pending, still Reverse", func(t *testing.T) {
			bob.mustAB(sharingPath, "AddMember", "ContactMsgrAPI", `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>Allow</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>alice@example.com</PassportName></Member></Members></Membership></memberships>`)
			bob.ab(sharingPath, "DeleteMember", "ContactMsgrAPI", `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>Pending</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>alice@example.com</PassportName></Member></Members></Membership></memberships>`)
			fm := findMembership(bob)
			if !contains(roleMembers(fm, "Allow"), "alice@example.com") || contains(roleMembers(fm, "Pending"), "alice@example.com") || !contains(roleMembers(fm, "Reverse"), "alice@example.com") {
				t.Errorf("after accept: allow=%v pending=%v reverse=%v", roleMembers(fm, "Allow"), roleMembers(fm, "Pending"), roleMembers(fm, "Reverse"))
			}
		})

		t.Run("Bob blocks Alice: Block, not Allow; Alice may no longer see him", func(t *testing.T) {
			bob.mustAB(abPath, "ABContactAdd", "ContactSave", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><passportName>alice@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts>`)
			bob.mustAB(sharingPath, "AddMember", "BlockUnblock", `<serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>Block</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>alice@example.com</PassportName></Member></Members></Membership></memberships>`)
			fm := findMembership(bob)
			if !contains(roleMembers(fm, "Block"), "alice@example.com") || contains(roleMembers(fm, "Allow"), "alice@example.com") {
				t.Errorf("after block: block=%v allow=%v", roleMembers(fm, "Block"), roleMembers(fm, "Allow"))
			}
			w, err := ns.Watchers(ctx, "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range w.Watchers {
				if x.Email == "alice@example.com" && x.CanSee {
					t.Errorf("blocked Alice may still see Bob: %+v", x)
				}
			}
		})

		t.Run("Alice deletes Bob: RML on Bob's NS, gone from his Reverse list", func(t *testing.T) {
			alice.mustAB(abPath, "ABContactDelete", "Timer", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactId>`+guid[1]+`</contactId></Contact></contacts>`)
			bobNS.waitFor(t, "RML 0 ", `<c n="alice" t="1" l="8"`)
			if contains(roleMembers(findMembership(bob), "Reverse"), "alice@example.com") {
				t.Errorf("Alice still on Bob's Reverse list")
			}
		})

		t.Run("another user's contact id is unknown to Bob", func(t *testing.T) {
			status, body := bob.ab(abPath, "ABContactDelete", "Timer", `<abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactId>`+guid[1]+`</contactId></Contact></contacts>`)
			if status != 500 || !strings.Contains(body, ">ContactDoesNotExist</errorcode>") {
				t.Errorf("status %d:\n%s", status, body)
			}
		})
	})
}
