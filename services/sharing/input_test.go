package sharing_test

import (
	"fmt"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// member builds one <Member> with the given inner XML and xsi:type.
func memberXML(xsiType, inner string) string {
	attr := ""
	if xsiType != "" {
		attr = ` xsi:type="` + xsiType + `"`
	}
	return `<Member` + attr + `>` + inner + `</Member>`
}

func membership(role string, members ...string) string {
	return "<Membership><MemberRole>" + role + "</MemberRole><Members>" + strings.Join(members, "") + "</Members></Membership>"
}

// TestMalformedInput sends a broken value in every field of AddMember and
// DeleteMember and checks the fault code and that nothing changed.
func TestMalformedInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		mustOK(t, e.post(alice, memberBody("AddMember", passportMembership("Allow", "bob@example.com"))))
		good := memberXML("PassportMember", `<Type>Passport</Type><State>Accepted</State><PassportName>carol@example.com</PassportName>`)
		long := strings.Repeat("x", 2000)
		many := make([]string, 1001)
		for i := range many {
			many[i] = memberXML("PassportMember", fmt.Sprintf(`<Type>Passport</Type><PassportName>u%d@example.com</PassportName>`, i))
		}
		cases := []struct {
			name string
			body string
			code models.Code
		}{
			{"not XML", `<soap:Envelope><soap:Body><AddMember>`, models.CodeBadRequest},
			{"memberships missing", strings.Replace(memberBody("AddMember", ""), "<memberships></memberships>", "", 1), models.CodeBadRequest},
			{"no Membership", memberBody("AddMember", ""), models.CodeBadRequest},
			{"MemberRole missing", memberBody("AddMember", `<Membership><Members>`+good+`</Members></Membership>`), models.CodeBadRequest},
			{"MemberRole empty", memberBody("AddMember", membership("", good)), models.CodeBadRequest},
			{"unknown role", memberBody("AddMember", membership("Friends", good)), models.CodeRoleDoesNotExist},
			{"profile role on the Messenger service", memberBody("DeleteMember", membership("ProfileExpression", good)), models.CodeRoleDoesNotExist},
			{"Members missing", memberBody("AddMember", `<Membership><MemberRole>Allow</MemberRole></Membership>`), models.CodeBadRequest},
			{"RoleMember on Messenger", memberBody("AddMember", membership("Allow", memberXML("RoleMember", `<Type>Role</Type><Id>Allow</Id>`))), models.CodeBadRequest},
			{"xsi:type without Member suffix", memberBody("AddMember", membership("Allow", memberXML("Passport", `<PassportName>carol@example.com</PassportName>`))), models.CodeBadRequest},
			{"Type Circle", memberBody("AddMember", membership("Allow", memberXML("", `<Type>Circle</Type><PassportName>carol@example.com</PassportName>`))), models.CodeBadRequest},
			{"Type contradicts xsi:type", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Email</Type><PassportName>carol@example.com</PassportName>`))), models.CodeBadRequest},
			{"PassportName not an address", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><PassportName>carol</PassportName>`))), models.CodeBadRequest},
			{"PassportName empty", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><PassportName></PassportName>`))), models.CodeBadRequest},
			{"Email not an address", memberBody("AddMember", membership("Allow", memberXML("EmailMember", `<Type>Email</Type><Email>a@b@c</Email>`))), models.CodeBadRequest},
			{"PhoneNumber not a number", memberBody("AddMember", membership("Allow", memberXML("PhoneMember", `<Type>Phone</Type><PhoneNumber>call me</PhoneNumber>`))), models.CodeBadRequest},
			{"PhoneNumber too long", memberBody("AddMember", membership("Allow", memberXML("PhoneMember", `<Type>Phone</Type><PhoneNumber>`+strings.Repeat("1", 40)+`</PhoneNumber>`))), models.CodeBadRequest},
			{"MembershipId not a number", memberBody("DeleteMember", idMembership("Allow", "abc")), models.CodeBadRequest},
			{"MembershipId negative", memberBody("DeleteMember", idMembership("Allow", "-5")), models.CodeBadRequest},
			{"MembershipId zero", memberBody("DeleteMember", idMembership("Allow", "0")), models.CodeBadRequest},
			{"MembershipId in the form of ESC", memberBody("DeleteMember", idMembership("Allow", "Allow/5e6a8a3e-2b7d-4c7a-9c8e-1f2a3b4c5d6e")), models.CodeBadRequest},
			{"MembershipId unknown", memberBody("DeleteMember", idMembership("Allow", "987654")), models.CodeMemberDoesNotExist},
			{"CID not a number", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><CID>x</CID>`))), models.CodeBadRequest},
			{"CID unknown on add", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><CID>42</CID>`))), models.CodeUserDoesNotExist},
			{"CID unknown on delete", memberBody("DeleteMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><CID>42</CID>`))), models.CodeMemberDoesNotExist},
			{"member without any name", memberBody("AddMember", membership("Allow", memberXML("PassportMember", `<Type>Passport</Type><State>Accepted</State>`))), models.CodeBadRequest},
			{"Annotation without Name", memberBody("AddMember", membership("Allow", memberXML("EmailMember", `<Type>Email</Type><Email>f@yahoo.com</Email><Annotations><Annotation><Value>32:</Value></Annotation></Annotations>`))), models.CodeBadRequest},
			{"Annotation value too long", memberBody("AddMember", membership("Allow", memberXML("EmailMember", `<Type>Email</Type><Email>f@yahoo.com</Email><Annotations><Annotation><Name>N</Name><Value>`+long+`</Value></Annotation></Annotations>`))), models.CodeBadArgumentLength},
			{"serviceHandle Id not a number", strings.Replace(memberBody("AddMember", membership("Allow", good)), "<Id>0</Id>", "<Id>zero</Id>", 1), models.CodeBadRequest},
			{"serviceHandle Type unknown", strings.Replace(memberBody("AddMember", membership("Allow", good)), "<Type>Messenger</Type>", "<Type>Bogus</Type>", 1), models.CodeBadRequest},
			{"a bad member next to a good one", memberBody("AddMember", membership("Allow", good, memberXML("PassportMember", `<Type>Passport</Type><PassportName>bad</PassportName>`))), models.CodeBadRequest},
			{"a bad role next to a good one", memberBody("AddMember", membership("Allow", good)+membership("Owner", good)), models.CodeRoleDoesNotExist},
			{"too many members", memberBody("AddMember", membership("Block", many...)), models.CodeBadRequest},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := e.lists(alice)
				rev := revision(t, e, alice)
				events := e.outboxCount()
				r := e.post(alice, c.body)
				mustFault(t, r, c.code)
				if !strings.Contains(r.Body, "<faultstring>") || strings.Contains(r.Body, "<faultstring></faultstring>") {
					t.Errorf("fault without text: %s", r.Body)
				}
				after := e.lists(alice)
				if revision(t, e, alice) != rev || len(after) != len(before) || after["bob@example.com"] != before["bob@example.com"] {
					t.Errorf("a faulted request changed something: %v -> %v", before, after)
				}
				if n := e.outboxCount(); n != events {
					t.Errorf("a faulted request wrote %d events", n-events)
				}
			})
		}

		t.Run("tickets", func(t *testing.T) {
			body := memberBody("AddMember", membership("Block", good))
			for _, b := range map[string]string{
				"none":    strings.Replace(body, "<TicketToken>x</TicketToken>", "", 1),
				"forged":  strings.Replace(body, "<TicketToken>x</TicketToken>", "<TicketToken>t=AAAA&amp;p=BBBB</TicketToken>", 1),
				"garbage": body,
			} {
				r := e.postPath(nil, "/abservice/SharingService.asmx", b, nil)
				mustFault(t, r, models.CodePassportAuthFail)
			}
			// A passport ticket (wrong audience) is refused as well.
			tb := e.Deps.Tickets.Issue(alice.ID, 1, auth.AudTB).Text()
			r := e.postPath(nil, "/abservice/SharingService.asmx", strings.Replace(body, "<TicketToken>x</TicketToken>", "<TicketToken>"+strings.ReplaceAll(tb, "&", "&amp;")+"</TicketToken>", 1), nil)
			mustFault(t, r, models.CodePassportAuthFail)
			if e.lists(alice)["carol@example.com"] != 0 {
				t.Errorf("unauthenticated change kept")
			}
		})

		t.Run("FindMembership never faults on odd input", func(t *testing.T) {
			for name, body := range map[string]string{
				"deltasOnly not a boolean":                  strings.Replace(findBody(""), "</serviceFilter>", "</serviceFilter><deltasOnly>maybe</deltasOnly><lastChange>x</lastChange>", 1),
				"deltasOnly false with a lastChange (aMSN)": strings.Replace(findBody(""), "</serviceFilter>", "</serviceFilter><deltasOnly>false</deltasOnly><lastChange>2006-03-29T07:29:42.5200000-08:00</lastChange>", 1),
				"no serviceFilter":                          strings.Replace(findBody(""), "<serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter>", "", 1),
				"unknown service types":                     strings.Replace(findBody(""), "<ServiceType>Messenger</ServiceType>", "<ServiceType>Messenger</ServiceType><ServiceType>Nonsense</ServiceType>", 1),
				"deltas without cursor":                     strings.Replace(findBody(""), "</serviceFilter>", "</serviceFilter><deltasOnly>true</deltasOnly>", 1),
				"padded values (papyon)":                    strings.Replace(findBody(""), "<ServiceType>Messenger</ServiceType>", "<ServiceType>\n    Messenger\n  </ServiceType>", 1),
			} {
				r := e.post(alice, body)
				if r.Status != 200 {
					t.Errorf("%s: %d %s", name, r.Status, r.Body)
					continue
				}
				if p := parseFindMembership(t, r.Body); p.find("Allow", "bob@example.com") == nil {
					t.Errorf("%s: full answer lacks bob: %v", name, p.roles())
				}
			}
		})

		t.Run("GET ?wsdl-less and wrong methods are not SOAP", func(t *testing.T) {
			resp, err := http.Get(e.Base + "/abservice/SharingService.asmx")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("GET: %d", resp.StatusCode)
			}
		})
	})
}

func (e *env) outboxCount() int64 {
	var n int64
	if err := e.Store.DB.Model(&models.OutboxEvent{}).Count(&n).Error; err != nil {
		e.T.Fatal(err)
	}
	return n
}

// TestConcurrentChanges runs 20 clients adding and removing the same member
// on Allow and Block at once: the lists end consistent (at most one of
// Allow/Block, one row per role) and every answer is a success or one of the
// two faults clients treat as success.
func TestConcurrentChanges(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		e.aliceAddsBob(bob, alice, "hi")
		var wg sync.WaitGroup
		errs := make(chan string, 200)
		for g := 0; g < 20; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(g)))
				for i := 0; i < 5; i++ {
					op := []string{"AddMember", "DeleteMember"}[rng.Intn(2)]
					role := []string{"Allow", "Block", "Pending"}[rng.Intn(3)]
					r := e.post(alice, memberBody(op, passportMembership(role, "bob@example.com")))
					if r.Status == 200 {
						continue
					}
					switch errorcode(r) {
					case string(models.CodeMemberAlreadyExists), string(models.CodeMemberDoesNotExist):
					default:
						errs <- fmt.Sprintf("%s %s: %d %s", op, role, r.Status, r.Body)
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Error(msg)
		}
		bits := e.lists(alice)["bob@example.com"]
		if bits&listbits.AL != 0 && bits&listbits.BL != 0 {
			t.Errorf("bob on both Allow and Block: %d", bits)
		}
		if bits&listbits.RL == 0 {
			t.Errorf("Reverse lost: %d", bits)
		}
		var dup int64
		err := e.Store.DB.Raw(`SELECT COUNT(*) FROM (SELECT role FROM memberships WHERE owner_id = ? GROUP BY role, member_type, member_name HAVING COUNT(*) > 1) d`, alice.ID).Scan(&dup).Error
		if err != nil || dup != 0 {
			t.Errorf("duplicate rows: %d %v", dup, err)
		}
		// The answer agrees with the lists.
		p := e.sync(t, alice, "")
		got := 0
		for _, m := range p.Members {
			got |= listbits.RoleBit(m.Role)
		}
		if got != bits {
			t.Errorf("FindMembership shows %d, lists %d", got, bits)
		}
	})
}
