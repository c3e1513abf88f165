package ab_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

var (
	ticketRE    = regexp.MustCompile(`(<TicketToken[^>]*>)[^<]*(</TicketToken>)`)
	contactIDRE = regexp.MustCompile(`<contactId>\s*([0-9a-fA-F-]{36})\s*</contactId>`)
	groupIDRE   = regexp.MustCompile(`<(?:guid|groupId)>\s*([0-9a-fA-F-]{36})\s*</(?:guid|groupId)>`)
	opRE        = regexp.MustCompile(`<soap:Body[^>]*>\s*<(AB[A-Za-z]+)`)
)

// fixtureCase is one recorded client request.
type fixtureCase struct {
	name string
	body string // the XML body
	raw  string // the whole HTTP request for captures ("" for envelopes)
}

func loadFixtures(t *testing.T) []fixtureCase {
	clients := testenv.ClientsDir(t)
	var out []fixtureCase
	envs, _ := filepath.Glob(filepath.Join(clients, "requests", "*", "AB*.xml"))
	for _, f := range envs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixtureCase{name: filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), body: string(b)})
	}
	caps, _ := filepath.Glob(filepath.Join(clients, "captures", "*", "[0-9][0-9][0-9]_*AB*.http"))
	for _, f := range caps {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.ReplaceAll(string(b), "\r\n", "\n")
		i := strings.Index(raw, "\n\n")
		out = append(out, fixtureCase{name: filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f), body: raw[i+2:], raw: raw[:i]})
	}
	if len(envs) < 40 || len(caps) < 20 {
		t.Fatalf("found %d envelopes and %d captures: fixtures/clients incomplete", len(envs), len(caps))
	}
	return out
}

// TestClientFixtures sends every AB request envelope of the six client
// builds and every AB call of the captures (byte for byte, with a real
// ticket in place of the placeholder, or the MSPAuth cookie for MSNP13
// pidgin) and checks each gets the answer its client understands. The
// placeholder GUIDs name a contact and groups created first.
func TestClientFixtures(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		for _, who := range []string{"bob", "dave", "erin", "frank"} {
			e.account(who+"@example.com", strings.ToUpper(who[:1])+who[1:])
		}
		for i, fc := range loadFixtures(t) {
			t.Run(fc.name, func(t *testing.T) {
				owner := e.account(fmt.Sprintf("owner%d@example.com", i), "Owner")
				opName := opRE.FindStringSubmatch(fc.body)
				if opName == nil {
					t.Fatalf("no AB operation in fixture")
				}
				e.seedFor(t, owner, opName[1], fc.body)
				r := e.sendFixture(t, owner, fc)
				if strings.Contains(fc.name, "redirect-probe") {
					// MSNPSharp's probe to byrdr.omega.contacts.msn.com gets the
					// preferred-host fault (services.Probe, TestProbe); the same
					// body on the preferred host is the next capture's call.
					if r.Status != http.StatusInternalServerError || !strings.Contains(r.Body, "<PreferredHostName>") {
						t.Fatalf("probe: HTTP %d %s", r.Status, r.Body)
					}
					return
				}
				want := expectedFault(fc)
				switch {
				case want != "":
					wantFault(t, r, want)
				default:
					wantOK(t, r, opName[1])
					if opName[1] == "ABFindAll" {
						assertClientReadable(t, r.Body)
					}
					if strings.Contains(r.Body, "Result><guid>") {
						if g := resultGUID(t, r); len(g) != 36 {
							t.Fatalf("guid %q", g)
						}
					}
				}
				if strings.Contains(fc.body, "&tickettoken;") {
					// The same call with a real ticket is answered normally.
					fixed := fc
					fixed.body = strings.ReplaceAll(fc.body, "&tickettoken;", "PLACEHOLDER")
					wantOK(t, e.sendFixture(t, owner, fixed), opName[1])
				}
			})
		}
	})
}

// expectedFault is the errorcode a fixture must get ("" = success).
func expectedFault(fc fixtureCase) models.Code {
	switch {
	case strings.Contains(fc.body, "&tickettoken;"):
		// emesene's unresolved entity: not well-formed XML (RESPONSES.md §1 rule 11).
		return models.CodeBadRequest
	case strings.HasSuffix(fc.name, "ABContactAdd.Yahoo.xml"):
		return models.CodeInvalidPassportUser
	case strings.HasSuffix(fc.name, "ABFindAll.Deltas.xml"):
		// Its cursor (2009) is from no book of ours.
		return models.CodeFullSyncRequired
	}
	return ""
}

// seedFor creates what the fixture's GUIDs refer to: groups for groupIds,
// bob's contact for contactIds (linked to the group for a group-contact
// delete, so it succeeds).
func (e *abEnv) seedFor(t *testing.T, owner *models.Account, opName, body string) {
	ctx := context.Background()
	st := e.Store
	var groups []string
	for i, m := range groupIDRE.FindAllStringSubmatch(body, -1) {
		g := strings.ToLower(m[1])
		if g == models.ZeroGUID || contactIDRE.MatchString("<contactId>"+g+"</contactId>") && strings.Contains(body, "<contactId>"+m[1]) {
			continue
		}
		if _, err := st.AddGroup(ctx, owner.ID, models.NewGroup{GUID: g, Name: fmt.Sprintf("Group %d", i)}); err != nil {
			t.Fatalf("seed group: %v", err)
		}
		groups = append(groups, g)
	}
	for _, m := range contactIDRE.FindAllStringSubmatch(body, -1) {
		c := strings.ToLower(m[1])
		if _, err := st.AddContacts(ctx, owner.ID, []models.NewContact{{GUID: c, PassportName: "bob@example.com", IsMessengerUser: true}}, true); err != nil {
			t.Fatalf("seed contact: %v", err)
		}
		if opName == "ABGroupContactDelete" {
			items := []models.GroupContactItem{{ContactGUID: c}}
			if _, err := st.AddGroupContacts(ctx, owner.ID, groups, items, false); err != nil {
				t.Fatalf("seed group link: %v", err)
			}
		}
	}
}

// sendFixture posts the fixture as owner: envelopes over net/http with the
// TicketToken replaced, captures byte for byte over a raw connection with
// their own request line and headers (Cookie and Content-Length replaced).
func (e *abEnv) sendFixture(t *testing.T, owner *models.Account, fc fixtureCase) reply {
	t.Helper()
	tk := e.ticket(owner)
	body := fc.body
	if !strings.Contains(body, "&tickettoken;") {
		body = ticketRE.ReplaceAllString(body, "${1}"+strings.ReplaceAll(tk, "&", "&amp;")+"${2}")
		body = strings.ReplaceAll(body, "PLACEHOLDER", strings.ReplaceAll(tk, "&", "&amp;"))
	}
	// MSNP13 pidgin sends no TicketToken: the NS's MSPAuth (the t= part of
	// the messenger.msn.com ticket) comes as a cookie.
	cookie := ""
	if !ticketRE.MatchString(fc.body) && !strings.Contains(fc.body, "&tickettoken;") {
		cookie = e.Deps.Tickets.Issue(owner.ID, owner.TokenVersion, auth.AudMessenger).T
	}
	if fc.raw == "" {
		return e.post(body, cookie)
	}
	var head []string
	for _, line := range strings.Split(fc.raw, "\n") {
		switch {
		case strings.HasPrefix(strings.ToLower(line), "content-length:"):
			line = "Content-Length: " + strconv.Itoa(len(body))
		case strings.HasPrefix(strings.ToLower(line), "cookie:"):
			line = "Cookie: MSPAuth=" + cookie
		case strings.HasPrefix(strings.ToLower(line), "connection:"), strings.HasPrefix(strings.ToLower(line), "expect:"):
			continue
		}
		head = append(head, line)
	}
	head = append(head, "Connection: close")
	status, r := testenv.Exchange(t, e.HTTPAddr, strings.Join(head, "\r\n")+"\r\n\r\n"+body)
	if !strings.HasPrefix(status, "HTTP/1.1 ") {
		t.Fatalf("status line %q: purple reads HTTP/1.1 literally", status)
	}
	return r
}

// assertClientReadable checks an ABFindAll answer the way the clients of
// RESPONSES.md §3 read it.
func assertClientReadable(t *testing.T, body string) {
	t.Helper()
	if strings.Contains(body, "> <") || strings.Contains(body, ">\n") {
		t.Fatalf("answer not compact")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromString(body); err != nil {
		t.Fatalf("answer is not XML: %v", err)
	}
	root := doc.Root()
	if root.Space != "soap" || root.Tag != "Envelope" {
		t.Fatalf("envelope prefix %q", root.Space)
	}
	resp := soap.Path(root, "Body", "ABFindAllResponse")
	if resp == nil || resp.Space != "" || resp.SelectAttrValue("xmlns", "") != soap.NSAB {
		t.Fatalf("ABFindAllResponse must be unprefixed in the AB namespace (papyon, aMSN)")
	}
	// aMSN's literal path.
	if doc.FindElement("/soap:Envelope/soap:Body/ABFindAllResponse/ABFindAllResult/ab/abInfo/OwnerCID") == nil {
		t.Fatalf("aMSN path to OwnerCID missing")
	}
	res := soap.Child(resp, "ABFindAllResult")
	ab := soap.Child(res, "ab")
	for _, name := range []string{"abId", "abInfo", "lastChange", "DynamicItemLastChanged", "createDate"} {
		if soap.Child(ab, name) == nil {
			t.Fatalf("ab/%s missing", name)
		}
	}
	if _, _, err := models.ParseTimestamp(soap.PathText(ab, "lastChange")); err != nil {
		t.Fatal(err)
	}
	for _, g := range soap.Children(soap.Child(res, "groups"), "Group") {
		if soap.PathText(g, "groupId") == "" || soap.Path(g, "groupInfo", "name") == nil {
			t.Fatalf("group without groupId or groupInfo/name (pidgin, papyon)")
		}
	}
	contacts := soap.Children(soap.Child(res, "contacts"), "Contact")
	if len(contacts) == 0 {
		t.Fatalf("no contacts (the Me contact is always there)")
	}
	for _, c := range contacts {
		info := soap.Child(c, "contactInfo")
		for _, name := range []string{"contactType", "displayName", "CID", "isMessengerUser", "isMobileIMEnabled", "hasSpace"} {
			if soap.PathText(info, name) == "" {
				t.Fatalf("contact %s lacks %s (emesene, aMSN)", soap.PathText(c, "contactId"), name)
			}
		}
		if soap.PathText(c, "contactId") == "" {
			t.Fatalf("contact without contactId")
		}
		for _, b := range []string{"isMessengerUser", "isMobileIMEnabled", "hasSpace"} {
			if v := soap.PathText(info, b); v != "true" && v != "false" {
				t.Fatalf("%s = %q is not a boolean (aMSN evaluates it)", b, v)
			}
		}
		if soap.PathText(info, "contactType") == models.ContactTypeMe {
			if soap.PathText(info, "isMessengerUser") != "false" {
				t.Fatalf("Me contact must not be a Messenger user (emesene)")
			}
		} else if soap.PathText(info, "passportName") == "" && soap.Path(info, "emails", "ContactEmail", "email") == nil {
			t.Fatalf("contact without passportName or email")
		}
		if _, _, err := models.ParseTimestamp(soap.PathText(info, "birthdate")); err != nil {
			t.Fatalf("birthdate not ISO (papyon): %v", err)
		}
		for _, a := range soap.Children(soap.Child(info, "annotations"), "Annotation") {
			if soap.PathText(a, "Name") == "" {
				t.Fatalf("annotation without Name crashes pidgin")
			}
		}
	}
}
