package sharing_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// clock is the fixed time of every golden file. With a clock that stands
// still, each revision bump adds exactly one tick, so revisions are the
// same on both databases.
var clock = testenv.Clock{Start: time.Date(2008, 8, 10, 15, 20, 6, 0, time.UTC), GUIDPrefix: "00000000-0000-4000-8000-"}

// env is a running abch with helpers for one test.
type env struct {
	*testenv.Service
	// nextCID hands out fixed CIDs so answers are deterministic.
	nextCID int64
}

func newEnv(t testing.TB, cfg config.Config) *env {
	t.Helper()
	return &env{Service: testenv.NewService(t, cfg, clock), nextCID: 1000}
}

// account creates an account with a fixed CID and PUID.
func (e *env) account(email, display string) *models.Account {
	e.T.Helper()
	a := e.Account(email, display)
	e.nextCID++
	e.SetIDs(a, -1234567890123456000-e.nextCID, int64(0x0003<<48)+e.nextCID)
	return a
}

// ticket returns a contacts.msn.com ticket text for a.
func (e *env) ticket(a *models.Account) string {
	return e.Ticket(a, auth.AudContacts).Text()
}

// mspAuth returns the MSPAuth cookie purple 2.4 (MSNP13) sends: the t-part
// of the messenger.msn.com ticket (PROTOCOL.md §0.3).
func (e *env) mspAuth(a *models.Account) string {
	return e.Ticket(a, auth.AudMessenger).T
}

// reply is an HTTP answer.
type reply = testenv.Reply

var errorcodeRE = regexp.MustCompile(`<errorcode xmlns="http://www.msn.com/webservices/AddressBook">([^<]*)</errorcode>`)

// errorcode returns detail/errorcode of a fault ("" for none).
func errorcode(r reply) string {
	m := errorcodeRE.FindStringSubmatch(r.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

// post sends body to the Sharing service, authenticated as a: the ticket
// replaces the fixture's TicketToken, or, when the envelope has none (purple
// 2.4), goes in the MSPAuth cookie.
func (e *env) post(a *models.Account, body string) reply {
	e.T.Helper()
	return e.postPath(a, "/abservice/SharingService.asmx", body, nil)
}

var ticketRE = regexp.MustCompile(`(<TicketToken[^>]*>)[^<]*(</TicketToken>)`)

func (e *env) postPath(a *models.Account, path, body string, hdr http.Header) reply {
	e.T.Helper()
	h := http.Header{}
	for k, v := range hdr {
		h[k] = v
	}
	if a != nil {
		if ticketRE.MatchString(body) {
			tt := strings.ReplaceAll(e.ticket(a), "&", "&amp;")
			body = ticketRE.ReplaceAllStringFunc(body, func(s string) string {
				m := ticketRE.FindStringSubmatch(s)
				return m[1] + tt + m[2]
			})
		}
		if !strings.Contains(body, "TicketToken") {
			h.Set("Cookie", "MSPAuth="+e.mspAuth(a))
		}
	}
	return e.Post(path, body, h)
}

// readFixture returns a request envelope from fixtures/clients.
func readFixture(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readCapture returns the headers and body of a captured .http request.
func readCapture(t testing.TB, path string) (http.Header, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	body, _ := io.ReadAll(req.Body)
	h := http.Header{}
	for _, k := range []string{"Soapaction", "Content-Type", "User-Agent"} {
		if v := req.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	return h, string(body)
}

// cacheKeyRE matches the ServiceHeader's CacheKey: soap.CacheKey of the
// account's row id, which depends on how many accounts a test made before
// (TestServiceHeader checks its value).
var cacheKeyRE = regexp.MustCompile(`<CacheKey>12r1:[0-9a-f]{24}</CacheKey>`)

// golden compares got with fixtures/sharing/name, or rewrites it with
// -update; the account's CacheKey stands there as "12r1:ACCOUNT".
func golden(t testing.TB, name, got string) {
	t.Helper()
	testenv.Golden(t, "sharing", name, cacheKeyRE.ReplaceAllString(got, "<CacheKey>12r1:ACCOUNT</CacheKey>"))
}

// aliceAddsBob does what ABContactAdd's store side does when alice adds bob
// to her Forward List (docs/DESIGN.md "Model rules"): alice's contact row
// for bob, alice on bob's Reverse and Pending lists with her display name
// and invite message.
func (e *env) aliceAddsBob(alice, bob *models.Account, invite string) {
	e.T.Helper()
	err := e.Store.Write(context.Background(), func(t *store.Txn) error {
		if err := t.Bump(alice.ID, bob.ID); err != nil {
			return err
		}
		bid := bob.ID
		c := &models.Contact{
			OwnerID: alice.ID, GUID: e.Store.NewGUID(), Key: "passport:" + bob.EmailLower, ContactAccountID: &bid,
			ContactType: models.ContactTypeRegular, PassportName: bob.EmailLower, Network: models.NetworkPassport,
			CID: bob.CID, DisplayName: bob.DisplayName, IsMessengerUser: true, Annotations: "[]",
			Rev: t.Rev(alice.ID), CreatedAt: t.Now, UpdatedAt: t.Now,
		}
		if err := t.DB.Create(c).Error; err != nil {
			return err
		}
		ref := store.PassportRef(alice)
		if _, _, err := t.PutMember(bob.ID, models.RoleReverse, ref, alice.DisplayName, "", nil); err != nil {
			return err
		}
		_, _, err := t.PutMember(bob.ID, models.RolePending, ref, alice.DisplayName, invite, nil)
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
}

// aliceDeletesBob is ABContactDelete's store side: alice's contact
// tombstoned, alice off bob's Reverse and Pending lists.
func (e *env) aliceDeletesBob(alice, bob *models.Account) {
	e.T.Helper()
	err := e.Store.Write(context.Background(), func(t *store.Txn) error {
		if err := t.Bump(alice.ID, bob.ID); err != nil {
			return err
		}
		err := t.DB.Model(&models.Contact{}).Where("owner_id = ? AND contact_key = ?", alice.ID, "passport:"+bob.EmailLower).
			Updates(map[string]any{"deleted": true, "rev": t.Rev(alice.ID)}).Error
		if err != nil {
			return err
		}
		ref := store.PassportRef(alice)
		if _, err := t.RemoveMember(bob.ID, models.RoleReverse, ref); err != nil {
			return err
		}
		_, err = t.RemoveMember(bob.ID, models.RolePending, ref)
		return err
	})
	if err != nil {
		e.T.Fatal(err)
	}
}

// lists returns owner's live list bits per member name, as the NS would read them.
func (e *env) lists(owner *models.Account) map[string]int {
	e.T.Helper()
	bits, err := e.Store.ListBits(context.Background(), owner.ID)
	if err != nil {
		e.T.Fatal(err)
	}
	out := map[string]int{}
	for k, v := range bits {
		out[strings.TrimPrefix(k, models.MemberPassport+":")] = v
	}
	return out
}

// member is one Member of a FindMembership answer as the clients see it.
type member struct {
	Role, XSIType, MembershipID, Type, DisplayName, State, Deleted, LastChanged, PassportName, Email, CID string
	Annotations                                                                                           map[string]string
}

// parsed is a FindMembership answer read the way the clients read it.
type parsed struct {
	Members       []member
	LastChange    string // Service/LastChange
	NSLastChange  string // OwnerNamespace/LastChange
	Services      int
	HasMembership bool
}

// parseFindMembership reads an answer and checks, on the way, every rule of
// clients/RESPONSES.md §1 and §3 FindMembership:
//   - aMSN: literal qualified path soap:Envelope/soap:Body/FindMembershipResponse/...;
//   - papyon: namespace http://www.msn.com/webservices/AddressBook on the
//     payload, MembershipId an int, Type in its allowed set, LastChanged ISO;
//   - purple: xsi:type on every Member, MembershipId atoi-able, Handle/Type non-empty;
//   - emesene: no role except Allow/Block/Reverse/Pending anywhere in the body;
//   - compact: no whitespace between elements.
func parseFindMembership(t testing.TB, body string) parsed {
	t.Helper()
	if strings.Contains(body, ">\n") || strings.Contains(body, "> <") || strings.Contains(body, ">\t") {
		t.Errorf("answer is not compact")
	}
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`) {
		t.Errorf("envelope start: %.200s", body)
	}
	// emesene: every MemberRole in the whole body.
	for _, m := range regexp.MustCompile(`<MemberRole>([^<]*)</MemberRole>`).FindAllStringSubmatch(body, -1) {
		switch m[1] {
		case "Allow", "Block", "Reverse", "Pending":
		default:
			t.Errorf("emesene would abort on role %q", m[1])
		}
	}
	// papyon: namespace-aware decoding.
	var doc struct {
		Body struct {
			Resp struct {
				XMLName xml.Name `xml:"http://www.msn.com/webservices/AddressBook FindMembershipResponse"`
				Result  struct {
					Services struct {
						Service []struct {
							Memberships struct {
								Membership []struct {
									MemberRole string `xml:"http://www.msn.com/webservices/AddressBook MemberRole"`
									Members    struct {
										Member []struct {
											MembershipID string `xml:"http://www.msn.com/webservices/AddressBook MembershipId"`
											Type         string `xml:"http://www.msn.com/webservices/AddressBook Type"`
											LastChanged  string `xml:"http://www.msn.com/webservices/AddressBook LastChanged"`
										} `xml:"http://www.msn.com/webservices/AddressBook Member"`
									} `xml:"http://www.msn.com/webservices/AddressBook Members"`
								} `xml:"http://www.msn.com/webservices/AddressBook Membership"`
							} `xml:"http://www.msn.com/webservices/AddressBook Memberships"`
							LastChange string `xml:"http://www.msn.com/webservices/AddressBook LastChange"`
						} `xml:"http://www.msn.com/webservices/AddressBook Service"`
					} `xml:"http://www.msn.com/webservices/AddressBook Services"`
				} `xml:"http://www.msn.com/webservices/AddressBook FindMembershipResult"`
			}
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("papyon (namespace-aware) cannot read the answer: %v", err)
	}
	for _, s := range doc.Body.Resp.Result.Services.Service {
		for _, ms := range s.Memberships.Membership {
			for _, m := range ms.Members.Member {
				if _, err := strconv.Atoi(m.MembershipID); err != nil {
					t.Errorf("papyon: MembershipId %q is not an int", m.MembershipID)
				}
				switch m.Type {
				case "Passport", "Email", "Phone", "Circle", "Domain", "Everyone", "Group", "Role", "Service":
				default:
					t.Errorf("papyon: Type %q raises NotImplementedError", m.Type)
				}
				if _, _, err := models.ParseTimestamp(m.LastChanged); err != nil || m.LastChanged == "" {
					t.Errorf("papyon: LastChanged %q is not ISO-8601", m.LastChanged)
				}
			}
		}
	}
	// aMSN / purple: literal paths on a prefix-preserving tree.
	d := etree.NewDocument()
	if err := d.ReadFromString(body); err != nil {
		t.Fatal(err)
	}
	var out parsed
	result := d.FindElement("/soap:Envelope/soap:Body/FindMembershipResponse/FindMembershipResult")
	if result == nil {
		t.Fatalf("aMSN: no soap:Envelope:soap:Body:FindMembershipResponse:FindMembershipResult in %.300s", body)
	}
	if ns := result.Parent().SelectAttrValue("xmlns", ""); ns != "http://www.msn.com/webservices/AddressBook" {
		t.Errorf("FindMembershipResponse xmlns = %q", ns)
	}
	out.NSLastChange = text(result.FindElement("OwnerNamespace/LastChange"))
	services := result.FindElements("Services/Service")
	out.Services = len(services)
	for i, svc := range services {
		if typ := svc.FindElement("Info/Handle/Type"); typ == nil || typ.Text() == "" {
			t.Errorf("purple: Service %d has no Info/Handle/Type text", i)
		} else if i == 0 && typ.Text() != "Messenger" {
			t.Errorf("papyon reads only the first Service; it is %q", typ.Text())
		}
		out.LastChange = text(svc.FindElement("LastChange"))
		for _, ms := range svc.FindElements("Memberships/Membership") {
			out.HasMembership = true
			role := text(ms.FindElement("MemberRole"))
			if text(ms.FindElement("MembershipIsComplete")) == "" {
				t.Errorf("Membership %s lacks MembershipIsComplete", role)
			}
			for _, m := range ms.FindElements("Members/Member") {
				xt := m.SelectAttr("xsi:type")
				if xt == nil {
					t.Fatalf("purple crashes: Member without xsi:type in %s", role)
				}
				mem := member{
					Role: role, XSIType: xt.Value, MembershipID: text(m.FindElement("MembershipId")), Type: text(m.FindElement("Type")),
					DisplayName: text(m.FindElement("DisplayName")), State: text(m.FindElement("State")), Deleted: text(m.FindElement("Deleted")),
					LastChanged: text(m.FindElement("LastChanged")), PassportName: text(m.FindElement("PassportName")),
					Email: text(m.FindElement("Email")), CID: text(m.FindElement("CID")), Annotations: map[string]string{},
				}
				if n, err := strconv.Atoi(mem.MembershipID); err != nil || n <= 0 {
					t.Errorf("purple atoi(MembershipId %q) = %d", mem.MembershipID, n)
				}
				if xt.Value == "PassportMember" && mem.PassportName == "" {
					t.Errorf("purple: PassportMember without PassportName")
				}
				for _, a := range m.FindElements("Annotations/Annotation") {
					mem.Annotations[text(a.FindElement("Name"))] = text(a.FindElement("Value"))
				}
				out.Members = append(out.Members, mem)
			}
		}
	}
	return out
}

func text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return e.Text()
}

// find returns the member of role named name, or nil.
func (p parsed) find(role, name string) *member {
	for i := range p.Members {
		m := &p.Members[i]
		if m.Role == role && (m.PassportName == name || m.Email == name) {
			return m
		}
	}
	return nil
}

// roles lists "Role:name[:deleted]" for every member, in answer order.
func (p parsed) roles() []string {
	var out []string
	for _, m := range p.Members {
		s := m.Role + ":" + m.PassportName + m.Email
		if m.Deleted == "true" {
			s += ":deleted"
		}
		out = append(out, s)
	}
	return out
}

// findBody builds a FindMembership envelope (papyon's form); deltas when
// lastChange is not empty.
func findBody(lastChange string) string {
	extra := ""
	if lastChange != "" {
		extra = `<View>Full</View><deltasOnly>true</deltasOnly><lastChange>` + lastChange + `</lastChange>`
	}
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>x</TicketToken></ABAuthHeader></soap:Header><soap:Body><FindMembership xmlns="http://www.msn.com/webservices/AddressBook"><serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter>` + extra + `</FindMembership></soap:Body></soap:Envelope>`
}

// memberBody builds an AddMember/DeleteMember envelope around memberships XML.
func memberBody(op, memberships string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Header><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>x</TicketToken></ABAuthHeader></soap:Header><soap:Body><` + op + ` xmlns="http://www.msn.com/webservices/AddressBook"><serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships>` + memberships + `</memberships></` + op + `></soap:Body></soap:Envelope>`
}

// passportMembership is <Membership> for role with Passport members.
func passportMembership(role string, names ...string) string {
	var b strings.Builder
	b.WriteString("<Membership><MemberRole>" + role + "</MemberRole><Members>")
	for _, n := range names {
		b.WriteString(`<Member xsi:type="PassportMember"><Type>Passport</Type><State>Accepted</State><PassportName>` + n + `</PassportName></Member>`)
	}
	b.WriteString("</Members></Membership>")
	return b.String()
}

// idMembership is <Membership> for role naming a member by MembershipId.
func idMembership(role, id string) string {
	return "<Membership><MemberRole>" + role + `</MemberRole><Members><Member xsi:type="PassportMember"><Type>Passport</Type><MembershipId>` + id + `</MembershipId><State>Accepted</State></Member></Members></Membership>`
}

// mustOK fails unless r is a 200 without a fault.
func mustOK(t testing.TB, r reply) {
	t.Helper()
	if r.Status != 200 || strings.Contains(r.Body, "soap:Fault") {
		t.Fatalf("want 200, got %d: %s", r.Status, r.Body)
	}
}

// mustFault fails unless r is an HTTP 500 fault with errorcode code.
func mustFault(t testing.TB, r reply, code models.Code) {
	t.Helper()
	if r.Status != 500 || errorcode(r) != string(code) {
		t.Fatalf("want 500 %s, got %d %q: %s", code, r.Status, errorcode(r), r.Body)
	}
}
