package nsapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// synEnv drives one server as an NS (nsclient) and as MSNP13 clients (SOAP).
type synEnv struct {
	t   *testing.T
	s   *server.Server
	api *nsclient.Client
}

func newSynEnv(t *testing.T, cfg config.Config) *synEnv {
	s := testenv.StartServer(t, cfg)
	return &synEnv{t: t, s: s, api: nsclient.New("http://"+s.NSAddr, cfg.NSKey)}
}

// soap posts an AB or Sharing operation as a with a contacts ticket and
// returns status and body.
func (e *synEnv) soap(a *models.Account, service, op string) (int, string) {
	e.t.Helper()
	ticket := e.s.Deps.Tickets.Issue(a.ID, a.TokenVersion, auth.AudContacts).Text()
	env := `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
		`<ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>Initial</PartnerScenario></ABApplicationHeader>` +
		`<ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` +
		strings.ReplaceAll(ticket, "&", "&amp;") + `</TicketToken></ABAuthHeader></soap:Header><soap:Body>` + op + `</soap:Body></soap:Envelope>`
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.s.HTTPAddr+"/abservice/"+service, strings.NewReader(env))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func abOp(name, inner string) string {
	return `<` + name + ` xmlns="http://www.msn.com/webservices/AddressBook"><abId>` + models.ZeroGUID + `</abId>` + inner + `</` + name + `>`
}

func (e *synEnv) soapOK(a *models.Account, service, op string) string {
	e.t.Helper()
	code, body := e.soap(a, service, op)
	if code != 200 {
		e.t.Fatalf("SOAP %d:\n%s", code, body)
	}
	return body
}

func (e *synEnv) findAll(a *models.Account) string {
	return e.soapOK(a, "abservice.asmx", abOp("ABFindAll", `<abView>Full</abView><deltasOnly>false</deltasOnly><lastChange>0001-01-01T00:00:00.0000000-08:00</lastChange>`))
}

func (e *synEnv) findMembership(a *models.Account) string {
	return e.soapOK(a, "SharingService.asmx", `<FindMembership xmlns="http://www.msn.com/webservices/AddressBook"><serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter></FindMembership>`)
}

func (e *synEnv) lists(a *models.Account) *nsclient.Lists {
	e.t.Helper()
	l, err := e.api.Lists(context.Background(), a.Email)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func entryOf(l *nsclient.Lists, email string) *nsclient.ListEntry {
	for i := range l.Contacts {
		if l.Contacts[i].Email == email {
			return &l.Contacts[i]
		}
	}
	return nil
}

// wantMSNP fails unless err is a refusal with MSNP error n.
func wantMSNP(t *testing.T, err error, n int) {
	t.Helper()
	if got := nsclient.MSNPError(err); got != n {
		t.Fatalf("want MSNP error %d, got %d (%v)", n, got, err)
	}
	var ae *nsclient.APIError
	if !errorAs(err, &ae) || ae.Status != http.StatusUnprocessableEntity {
		t.Fatalf("want HTTP 422, got %v", err)
	}
}

func errorAs(err error, target **nsclient.APIError) bool {
	e, ok := err.(*nsclient.APIError)
	if ok {
		*target = e
	}
	return ok
}

// must checks the error of a call: must(api.X(…))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// outbox returns the events written for a so far, in order.
func (e *synEnv) outbox(a *models.Account) []events.Event {
	e.t.Helper()
	var payloads []string
	if err := e.s.Store.DB.Raw(`SELECT payload FROM outbox WHERE subject = ? ORDER BY id`, events.Subject(a.CID)).Scan(&payloads).Error; err != nil {
		e.t.Fatal(err)
	}
	out := make([]events.Event, len(payloads))
	for i, p := range payloads {
		if err := json.Unmarshal([]byte(p), &out[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	return out
}

// shape is what an event tells an NS, without ids, times, names and CIDs.
func shape(evs []events.Event, names map[string]string) []string {
	var out []string
	for _, ev := range evs {
		keys := make([]string, 0, len(ev.Data))
		for k := range ev.Data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s := ev.Type
		for _, k := range keys {
			s += " " + k + "=" + ev.Data[k]
		}
		for _, c := range ev.NS {
			s += " | " + c.Command + " " + c.Args + " " + c.Payload
		}
		out = append(out, normalize(s, names))
	}
	return out
}

var (
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`)
	guidRE = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	numRE  = regexp.MustCompile(`-?\d{5,}`)
	midRE  = regexp.MustCompile(`<MembershipId>\d+</MembershipId>`)
	keyRE  = regexp.MustCompile(`<CacheKey>[^<]*</CacheKey>|pid=\\?"[^"\\]*\\?"`)
)

// normalize replaces the addresses in names with their roles and blanks
// times, GUIDs, CIDs/PUIDs and MembershipIds, so the answers of two pairs
// of accounts can be compared.
func normalize(s string, names map[string]string) string {
	for from, to := range names {
		s = strings.ReplaceAll(s, from, to)
	}
	s = keyRE.ReplaceAllString(s, "KEY")
	s = timeRE.ReplaceAllString(s, "TIME")
	s = guidRE.ReplaceAllString(s, "GUID")
	s = midRE.ReplaceAllString(s, "<MembershipId>N</MembershipId>")
	return numRE.ReplaceAllString(s, "N")
}

func TestSynListWrites(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newSynEnv(t, cfg)
		ctx := context.Background()
		api := e.api
		alice := testenv.NewAccount(t, e.s, "alice@example.com", "x", "Alice")
		bob := testenv.NewAccount(t, e.s, "bob@example.com", "x", "Bob")
		carol := testenv.NewAccount(t, e.s, "carol@example.com", "x", "Carol")
		dave := testenv.NewAccount(t, e.s, "dave@example.com", "x", "Dave")

		t.Run("a new account has list version 1 and no entries", func(t *testing.T) {
			l := e.lists(alice)
			if l.Version != 1 || len(l.Contacts) != 0 || len(l.Groups) != 0 || l.BLP != "AL" || l.GTC != "A" {
				t.Fatalf("lists: %+v", l)
			}
		})

		t.Run("ADD FL with group 0 adds the contact in no group, puts the adder on the target's RL and PL and moves both versions", func(t *testing.T) {
			bobBefore := e.lists(bob).Version
			r := must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "Bob@Example.com", Nickname: "bob@example.com", Group: "0"}))(t)
			if r.Version != 2 || r.Entry.Email != "bob@example.com" || r.Entry.Lists != nsclient.FL || r.Entry.DisplayName != "Bob" ||
				!reflect.DeepEqual(r.Entry.SynGroups, []int{0}) || r.Entry.ContactGUID == "" || r.Entry.CID != bob.CID {
				t.Fatalf("result: %+v", r)
			}
			if l := e.lists(alice); l.Version != r.Version {
				t.Errorf("lists version %d, answer %d", l.Version, r.Version)
			}
			bl := e.lists(bob)
			if a := entryOf(bl, "alice@example.com"); a == nil || a.Lists != nsclient.RL|nsclient.PL {
				t.Errorf("bob's entry for alice: %+v", a)
			}
			if bl.Version != bobBefore+1 {
				t.Errorf("bob's version %d, want %d", bl.Version, bobBefore+1)
			}
		})

		t.Run("refusals carry their MSNP error and change nothing", func(t *testing.T) {
			before := e.lists(alice)
			cases := []struct {
				name string
				w    nsclient.ListWrite
				want int
			}{
				{"already on the FL", nsclient.ListWrite{List: "FL", Address: "bob@example.com", Nickname: "x"}, 215},
				{"already in group 0", nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"}, 215},
				{"no such account", nsclient.ListWrite{List: "FL", Address: "nobody@example.com"}, 205},
				{"malformed address", nsclient.ListWrite{List: "FL", Address: "not-an-address"}, 208},
				{"own address", nsclient.ListWrite{List: "FL", Address: "ALICE@example.com"}, 201},
				{"RL is the server's", nsclient.ListWrite{List: "RL", Address: "carol@example.com"}, 201},
				{"PL is the server's", nsclient.ListWrite{List: "PL", Address: "carol@example.com"}, 201},
				{"unknown list", nsclient.ListWrite{List: "XL", Address: "carol@example.com"}, 201},
				{"no address", nsclient.ListWrite{List: "FL"}, 201},
				{"unknown group", nsclient.ListWrite{List: "FL", Address: "carol@example.com", Group: "7"}, 224},
				{"unknown group GUID", nsclient.ListWrite{List: "FL", Address: "carol@example.com", Group: "6a1c2f00-0000-4000-8000-000000000001"}, 224},
				{"unknown contact GUID", nsclient.ListWrite{List: "FL", Contact: "6a1c2f00-0000-4000-8000-000000000002", Group: "0"}, 216},
				{"a group on AL", nsclient.ListWrite{List: "AL", Address: "carol@example.com", Group: "0"}, 201},
				{"a nickname with a line break", nsclient.ListWrite{List: "FL", Address: "carol@example.com", Nickname: "a\r\nb"}, 209},
				{"an over-long nickname", nsclient.ListWrite{List: "FL", Address: "carol@example.com", Nickname: strings.Repeat("n", 388)}, 209},
			}
			for _, c := range cases {
				_, err := api.AddToList(ctx, alice.Email, c.w)
				if got := nsclient.MSNPError(err); got != c.want {
					t.Errorf("%s: MSNP %d, want %d (%v)", c.name, got, c.want, err)
				}
			}
			rem := []struct {
				name string
				w    nsclient.ListWrite
				want int
			}{
				{"REM FL of an address not on it", nsclient.ListWrite{List: "FL", Address: "carol@example.com"}, 216},
				{"REM RL", nsclient.ListWrite{List: "RL", Address: "bob@example.com"}, 201},
				{"REM AL of an address not on it", nsclient.ListWrite{List: "AL", Address: "carol@example.com"}, 216},
				{"REM PL of an address not on it", nsclient.ListWrite{List: "PL", Address: "carol@example.com"}, 216},
				{"REM FL from an unknown group", nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "9"}, 224},
			}
			for _, c := range rem {
				_, err := api.RemoveFromList(ctx, alice.Email, c.w)
				if got := nsclient.MSNPError(err); got != c.want {
					t.Errorf("%s: MSNP %d, want %d (%v)", c.name, got, c.want, err)
				}
			}
			_, err := api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com"})
			wantMSNP(t, err, 215)
			if after := e.lists(alice); !reflect.DeepEqual(after, before) {
				t.Errorf("lists changed:\n%+v\n%+v", before, after)
			}
			if _, err := api.AddToList(ctx, "nobody@example.com", nsclient.ListWrite{List: "FL", Address: "bob@example.com"}); nsclient.MSNPError(err) != 0 || err.(*nsclient.APIError).Status != 404 {
				t.Errorf("unknown user: %v", err)
			}
		})

		var friends nsclient.Group
		t.Run("ADG gives SYN ids 1, 2, … and refuses duplicate, long and empty names", func(t *testing.T) {
			g := must(api.AddGroup(ctx, alice.Email, "Friends"))(t)
			if g.Group.ID != 1 || g.Group.Name != "Friends" || g.Group.GUID == "" || g.Version != e.lists(alice).Version {
				t.Fatalf("ADG: %+v", g)
			}
			friends = g.Group
			_, err := api.AddGroup(ctx, alice.Email, "FRIENDS")
			wantMSNP(t, err, 228)
			_, err = api.AddGroup(ctx, alice.Email, strings.Repeat("x", 62))
			wantMSNP(t, err, 229)
			_, err = api.AddGroup(ctx, alice.Email, "")
			wantMSNP(t, err, 229)
			// SOAP's ABGroupAdd numbers on: the next id is 2.
			e.soapOK(alice, "abservice.asmx", abOp("ABGroupAdd", `<groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>Work</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType><fMessenger>false</fMessenger></GroupInfo></groupInfo>`))
			l := e.lists(alice)
			if len(l.Groups) != 2 || l.Groups[0].ID != 1 || l.Groups[1].ID != 2 || l.Groups[1].Name != "Work" {
				t.Fatalf("groups: %+v", l.Groups)
			}
		})

		t.Run("an MSNP9 move from group 0 to a group is ADD then REM 0, and ABFindAll shows the group", func(t *testing.T) {
			r := must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Nickname: "Bob", Group: "1"}))(t)
			if !reflect.DeepEqual(r.Entry.SynGroups, []int{0, 1}) {
				t.Fatalf("after ADD 1: %v", r.Entry.SynGroups)
			}
			_, err := api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "1"})
			wantMSNP(t, err, 215)
			r = must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"}))(t)
			if !reflect.DeepEqual(r.Entry.SynGroups, []int{1}) || r.Entry.Lists != nsclient.FL {
				t.Fatalf("after REM 0: %+v", r.Entry)
			}
			_, err = api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"})
			wantMSNP(t, err, 225)
			_, err = api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "2"})
			wantMSNP(t, err, 225)
			fa := e.findAll(alice)
			if !strings.Contains(fa, "<groupIds><guid>"+friends.GUID+"</guid></groupIds>") {
				t.Errorf("ABFindAll does not show bob in Friends:\n%s", fa)
			}
			// And back: ADD 0, REM 1.
			r = must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"}))(t)
			if !reflect.DeepEqual(r.Entry.SynGroups, []int{0, 1}) {
				t.Fatalf("after ADD 0: %v", r.Entry.SynGroups)
			}
			if fa := e.findAll(alice); !strings.Contains(fa, friends.GUID+"</guid></groupIds>") {
				t.Errorf("group 0 is not an MSNP13 group: ABFindAll lost Friends:\n%s", fa)
			}
			r = must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "1"}))(t)
			if !reflect.DeepEqual(r.Entry.SynGroups, []int{0}) || r.Entry.Lists != nsclient.FL {
				t.Fatalf("after REM 1: %+v", r.Entry)
			}
		})

		t.Run("REM FL from the last group takes the contact off the FL and the adder off the target's RL", func(t *testing.T) {
			must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "1"}))(t)
			must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"}))(t)
			r := must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "1"}))(t)
			if r.Entry.Lists != 0 || r.Version != e.lists(alice).Version {
				t.Fatalf("after the last REM: %+v", r)
			}
			if entryOf(e.lists(alice), "bob@example.com") != nil {
				t.Error("bob still listed")
			}
			if a := entryOf(e.lists(bob), "alice@example.com"); a != nil {
				t.Errorf("bob still has alice: %+v", a)
			}
			if fa := e.findAll(alice); strings.Contains(fa, "<passportName>bob@example.com</passportName>") && !strings.Contains(fa, "<fDeleted>true</fDeleted>") {
				t.Errorf("ABFindAll still shows bob:\n%s", fa)
			}
		})

		t.Run("MSNP10 GUID form: ADC into a group, REM from it keeps the contact, REM without group deletes it", func(t *testing.T) {
			r := must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "carol@example.com", Nickname: "Caro"}))(t)
			if r.Entry.DisplayName != "Caro" {
				t.Errorf("F= name: %q", r.Entry.DisplayName)
			}
			guid := r.Entry.ContactGUID
			r = must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: strings.ToUpper(guid), Group: friends.GUID}))(t)
			if len(r.Entry.Groups) != 1 || r.Entry.Groups[0].GUID != friends.GUID || !reflect.DeepEqual(r.Entry.SynGroups, []int{1}) {
				t.Fatalf("after ADC C= group: %+v", r.Entry)
			}
			_, err := api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: guid})
			wantMSNP(t, err, 215)
			r = must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: guid, Group: friends.GUID}))(t)
			if r.Entry.Lists != nsclient.FL || len(r.Entry.Groups) != 0 {
				t.Fatalf("after REM guid group: %+v", r.Entry)
			}
			_, err = api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: guid, Group: friends.GUID})
			wantMSNP(t, err, 225)
			r = must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: guid}))(t)
			if r.Entry.Lists != 0 {
				t.Fatalf("after REM guid: %+v", r.Entry)
			}
		})

		t.Run("AL and BL exclude each other, already-there and not-on-list are refused", func(t *testing.T) {
			r := must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "dave@example.com"}))(t)
			if r.Entry.Lists != nsclient.AL {
				t.Fatalf("AL: %+v", r.Entry)
			}
			_, err := api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "dave@example.com"})
			wantMSNP(t, err, 215)
			_, err = api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "BL", Address: "dave@example.com"})
			wantMSNP(t, err, 219)
			must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "dave@example.com"}))(t)
			_, err = api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "dave@example.com"})
			wantMSNP(t, err, 216)
			r = must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "BL", Address: "dave@example.com"}))(t)
			if r.Entry.Lists != nsclient.BL {
				t.Fatalf("BL: %+v", r.Entry)
			}
			if fm := e.findMembership(alice); !regexp.MustCompile(`<MemberRole>Block</MemberRole><Members><Member [^>]*>.*<PassportName>dave@example.com</PassportName>`).MatchString(fm) {
				t.Errorf("FindMembership does not show dave blocked:\n%s", fm)
			}
			// An address with no account can be blocked, as with AddMember.
			must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "BL", Address: "ghost@example.com"}))(t)
		})

		t.Run("REM PL resolves an invitation and keeps the RL entry", func(t *testing.T) {
			must(api.AddToList(ctx, carol.Email, nsclient.ListWrite{List: "FL", Address: "alice@example.com", Group: "0"}))(t)
			if a := entryOf(e.lists(alice), "carol@example.com"); a == nil || a.Lists != nsclient.RL|nsclient.PL {
				t.Fatalf("alice's entry for carol: %+v", a)
			}
			r := must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "PL", Address: "carol@example.com"}))(t)
			if r.Entry.Lists != nsclient.RL {
				t.Fatalf("after REM PL: %+v", r.Entry)
			}
			_, err := api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "PL", Address: "carol@example.com"})
			wantMSNP(t, err, 216)
		})

		t.Run("another user's contact and group ids are not found and nothing of theirs changes", func(t *testing.T) {
			cl := e.lists(carol)
			carolsAlice := entryOf(cl, "alice@example.com")
			g := must(api.AddGroup(ctx, carol.Email, "Carol's"))(t)
			_, err := api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: carolsAlice.ContactGUID})
			wantMSNP(t, err, 216)
			_, err = api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Contact: carolsAlice.ContactGUID, Group: friends.GUID})
			wantMSNP(t, err, 216)
			_, err = api.RemoveGroup(ctx, alice.Email, g.Group.GUID)
			wantMSNP(t, err, 224)
			_, err = api.RenameGroup(ctx, alice.Email, g.Group.GUID, "mine")
			wantMSNP(t, err, 224)
			_, err = api.SetContactName(ctx, alice.Email, carolsAlice.ContactGUID, "x")
			wantMSNP(t, err, 216)
			after := e.lists(carol)
			if after.Version != g.Version || entryOf(after, "alice@example.com") == nil || len(after.Groups) != 1 || after.Groups[0].Name != "Carol's" {
				t.Errorf("carol's lists changed: %+v", after)
			}
		})

		t.Run("RMG and REG: group 0 is refused, a removed group's contacts stay in group 0", func(t *testing.T) {
			_, err := api.RemoveGroup(ctx, alice.Email, "0")
			wantMSNP(t, err, 230)
			_, err = api.RenameGroup(ctx, alice.Email, "0", "x")
			wantMSNP(t, err, 230)
			_, err = api.RenameGroup(ctx, alice.Email, "2", "friends")
			wantMSNP(t, err, 228)
			_, err = api.RenameGroup(ctx, alice.Email, "2", strings.Repeat("y", 62))
			wantMSNP(t, err, 229)
			_, err = api.RemoveGroup(ctx, alice.Email, "9")
			wantMSNP(t, err, 224)
			r := must(api.RenameGroup(ctx, alice.Email, "2", "Office"))(t)
			if r.Group.ID != 2 || r.Group.Name != "Office" {
				t.Fatalf("REG: %+v", r)
			}
			must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "1"}))(t)
			must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "2"}))(t)
			gr := must(api.RemoveGroup(ctx, alice.Email, "1"))(t)
			if gr.Group.ID != 1 || gr.Version != e.lists(alice).Version {
				t.Fatalf("RMG: %+v", gr)
			}
			b := entryOf(e.lists(alice), "bob@example.com")
			if b == nil || !reflect.DeepEqual(b.SynGroups, []int{2}) {
				t.Fatalf("bob after RMG 1: %+v", b)
			}
			must(api.RemoveGroup(ctx, alice.Email, "2"))(t)
			if b := entryOf(e.lists(alice), "bob@example.com"); b == nil || b.Lists&nsclient.FL == 0 || !reflect.DeepEqual(b.SynGroups, []int{0}) {
				t.Fatalf("bob after RMG 2: %+v", b)
			}
			// Ids are not reused: the next group is 3.
			if g := must(api.AddGroup(ctx, alice.Email, "Later"))(t); g.Group.ID != 3 {
				t.Errorf("next SYN id %d, want 3", g.Group.ID)
			}
		})

		t.Run("SBP and REA set the contact's display name as ABContactUpdate does", func(t *testing.T) {
			b := entryOf(e.lists(alice), "bob@example.com")
			r := must(api.SetContactName(ctx, alice.Email, b.ContactGUID, "Bobby B"))(t)
			if r.Entry.DisplayName != "Bobby B" {
				t.Fatalf("SBP: %+v", r.Entry)
			}
			r = must(api.SetContactName(ctx, alice.Email, "BOB@example.com", "Robert"))(t)
			if r.Entry.DisplayName != "Robert" || r.Version != e.lists(alice).Version {
				t.Fatalf("REA: %+v", r)
			}
			if fa := e.findAll(alice); !strings.Contains(fa, "<displayName>Robert</displayName>") {
				t.Errorf("ABFindAll does not show the new name:\n%s", fa)
			}
			_, err := api.SetContactName(ctx, alice.Email, b.ContactGUID, strings.Repeat("n", 388))
			wantMSNP(t, err, 209)
			_, err = api.SetContactName(ctx, alice.Email, b.ContactGUID, "two\r\nlines")
			wantMSNP(t, err, 209)
			_, err = api.SetContactName(ctx, alice.Email, "dave@example.com", "x")
			wantMSNP(t, err, 216)
		})

		t.Run("BLP, GTC and REA of oneself answer the moved version", func(t *testing.T) {
			v := e.lists(alice).Version
			p := must(api.SetPrivacy(ctx, alice.Email, nsclient.Privacy{BLP: "BL"}))(t)
			if p.Version != v+1 || p.BLP != "BL" {
				t.Fatalf("BLP: %+v (version was %d)", p, v)
			}
			p = must(api.SetPrivacy(ctx, alice.Email, nsclient.Privacy{BLP: "BL"}))(t)
			if p.Version != v+1 {
				t.Errorf("an unchanged BLP moved the version: %+v", p)
			}
			p = must(api.SetPrivacy(ctx, alice.Email, nsclient.Privacy{GTC: "N"}))(t)
			if p.Version != v+2 || p.GTC != "N" {
				t.Errorf("GTC: %+v", p)
			}
			pr := must(api.SetDisplayName(ctx, alice.Email, "Alice A"))(t)
			if pr.ListVersion != v+3 {
				t.Errorf("REA: list_version %d, want %d", pr.ListVersion, v+3)
			}
			if l := e.lists(alice); l.Version != v+3 || l.BLP != "BL" || l.GTC != "N" {
				t.Errorf("lists: version %d BLP %s GTC %s", l.Version, l.BLP, l.GTC)
			}
		})

		t.Run("a SOAP change moves the version and shows in the lists with SYN ids", func(t *testing.T) {
			v := e.lists(alice).Version
			e.soapOK(alice, "abservice.asmx", abOp("ABContactAdd", `<contacts><Contact><contactInfo><passportName>dave@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>false</EnableAllowListManagement></options>`))
			l := e.lists(alice)
			d := entryOf(l, "dave@example.com")
			if l.Version != v+1 || d == nil || d.Lists&nsclient.FL == 0 || !reflect.DeepEqual(d.SynGroups, []int{0}) {
				t.Fatalf("after ABContactAdd: version %d (was %d), dave %+v", l.Version, v, d)
			}
			// The MSNP9 client removes it from group 0: off the FL, as ABContactDelete.
			must(api.RemoveFromList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "dave@example.com", Group: "0"}))(t)
			if d := entryOf(e.lists(alice), "dave@example.com"); d == nil || d.Lists&nsclient.FL != 0 {
				t.Fatalf("dave after REM 0: %+v", d)
			}
			if a := entryOf(e.lists(dave), "alice@example.com"); a != nil && a.Lists&nsclient.RL != 0 {
				t.Errorf("dave still has alice on RL: %+v", a)
			}
		})

		t.Run("a contact ungrouped through SOAP loses its group-0 mark", func(t *testing.T) {
			r := must(api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "3"}))(t)
			if !reflect.DeepEqual(r.Entry.SynGroups, []int{0, 3}) {
				t.Fatalf("after ADD 3: %v", r.Entry.SynGroups)
			}
			later := r.Entry.Groups[0].GUID
			e.soapOK(alice, "abservice.asmx", abOp("ABGroupContactDelete", `<contacts><Contact><contactId>`+r.Entry.ContactGUID+`</contactId></Contact></contacts><groupFilter><groupIds><guid>`+later+`</guid></groupIds></groupFilter>`))
			if b := entryOf(e.lists(alice), "bob@example.com"); b == nil || !reflect.DeepEqual(b.SynGroups, []int{0}) {
				t.Fatalf("after ABGroupContactDelete: %+v", b)
			}
			e.soapOK(alice, "abservice.asmx", abOp("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+later+`</guid></groupIds></groupFilter><contacts><Contact><contactId>`+r.Entry.ContactGUID+`</contactId></Contact></contacts>`))
			if b := entryOf(e.lists(alice), "bob@example.com"); b == nil || !reflect.DeepEqual(b.SynGroups, []int{3}) {
				t.Fatalf("after ABGroupContactAdd: %+v", b)
			}
		})

		t.Run("events carry the recipient's list version", func(t *testing.T) {
			nc, err := nats.Connect(e.s.NATSURL)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			evs := make(chan *nats.Msg, 16)
			sub, err := nc.ChanSubscribe(events.Subject(dave.CID), evs)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			must(api.AddToList(ctx, bob.Email, nsclient.ListWrite{List: "FL", Address: "dave@example.com", Group: "0"}))(t)
			want := e.lists(dave).Version
			// Earlier changes' events may still be on their way: wait for bob's.
			deadline := time.After(eventWait)
			for {
				select {
				case m := <-evs:
					var ev events.Event
					if err := json.Unmarshal(m.Data, &ev); err != nil {
						t.Fatal(err)
					}
					if ev.Actor == nil || ev.Actor.Email != bob.Email {
						continue
					}
					if ev.Type != events.TypeReverseAdded || ev.ListVersion != want {
						t.Errorf("event %s, want reverse.added with list_version %d", m.Data, want)
					}
					return
				case <-deadline:
					t.Fatal("no event for dave")
				}
			}
		})
	})
}

// TestSynListWritesMatchSOAP makes the same changes for two pairs of
// accounts, one through SOAP and one through the NS API, and compares what
// MSNP13 clients then read (ABFindAll, FindMembership of both sides) and
// the events written for both sides.
func TestSynListWritesMatchSOAP(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newSynEnv(t, cfg)
		ctx := context.Background()
		a1 := testenv.NewAccount(t, e.s, "a1@example.com", "x", "Owner")
		b1 := testenv.NewAccount(t, e.s, "b1@example.com", "x", "Target")
		a2 := testenv.NewAccount(t, e.s, "a2@example.com", "x", "Owner")
		b2 := testenv.NewAccount(t, e.s, "b2@example.com", "x", "Target")
		names1 := map[string]string{"a1@example.com": "OWNER", "b1@example.com": "TARGET", `"a1"`: "OWNERLOCAL", `"b1"`: "TARGETLOCAL"}
		names2 := map[string]string{"a2@example.com": "OWNER", "b2@example.com": "TARGET", `"a2"`: "OWNERLOCAL", `"b2"`: "TARGETLOCAL"}
		groupGUID := func(body string) string {
			m := regexp.MustCompile(`<guid>([^<]+)</guid>`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no guid in %s", body)
			}
			return m[1]
		}
		compare := func(t *testing.T, step string) {
			t.Helper()
			for _, p := range []struct{ x, y *models.Account }{{a1, a2}, {b1, b2}} {
				if x, y := normalize(e.findAll(p.x), names1), normalize(e.findAll(p.y), names2); x != y {
					t.Errorf("%s: ABFindAll of %s differs: %s", step, p.x.Email, firstDiff(x, y))
				}
				if x, y := normalize(e.findMembership(p.x), names1), normalize(e.findMembership(p.y), names2); x != y {
					t.Errorf("%s: FindMembership of %s differs: %s", step, p.x.Email, firstDiff(x, y))
				}
				if x, y := shape(e.outbox(p.x), names1), shape(e.outbox(p.y), names2); !reflect.DeepEqual(x, y) {
					t.Errorf("%s: events of %s differ: %s", step, p.x.Email, firstDiff(strings.Join(x, "\n"), strings.Join(y, "\n")))
				}
			}
		}
		var g1 string
		t.Run("ADD FL is ABContactAdd without allow-list management", func(t *testing.T) {
			e.soapOK(a1, "abservice.asmx", abOp("ABContactAdd", `<contacts><Contact><contactInfo><passportName>b1@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>false</EnableAllowListManagement></options>`))
			must(e.api.AddToList(ctx, a2.Email, nsclient.ListWrite{List: "FL", Address: "b2@example.com", Nickname: "b2@example.com", Group: "0"}))(t)
			compare(t, "ADD FL")
		})
		t.Run("ADG is ABGroupAdd", func(t *testing.T) {
			g1 = groupGUID(e.soapOK(a1, "abservice.asmx", abOp("ABGroupAdd", `<groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>Friends</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType><fMessenger>false</fMessenger></GroupInfo></groupInfo>`)))
			must(e.api.AddGroup(ctx, a2.Email, "Friends"))(t)
			compare(t, "ADG")
		})
		t.Run("ADD FL into a group is ABGroupContactAdd", func(t *testing.T) {
			c1 := entryOf(e.lists(a1), "b1@example.com").ContactGUID
			e.soapOK(a1, "abservice.asmx", abOp("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+g1+`</guid></groupIds></groupFilter><contacts><Contact><contactId>`+c1+`</contactId></Contact></contacts>`))
			must(e.api.AddToList(ctx, a2.Email, nsclient.ListWrite{List: "FL", Contact: entryOf(e.lists(a2), "b2@example.com").ContactGUID, Group: mustGroup(t, e, a2).GUID}))(t)
			compare(t, "ADD FL group")
		})
		t.Run("ADD AL and ADD BL are AddMember", func(t *testing.T) {
			for _, role := range []string{"Allow", "Block"} {
				list := map[string]string{"Allow": "AL", "Block": "BL"}[role]
				if role == "Block" {
					e.soapOK(a1, "SharingService.asmx", memberOp("DeleteMember", "Allow", "b1@example.com"))
					must(e.api.RemoveFromList(ctx, a2.Email, nsclient.ListWrite{List: "AL", Address: "b2@example.com"}))(t)
				}
				e.soapOK(a1, "SharingService.asmx", memberOp("AddMember", role, "b1@example.com"))
				must(e.api.AddToList(ctx, a2.Email, nsclient.ListWrite{List: list, Address: "b2@example.com"}))(t)
				compare(t, "ADD "+list)
			}
		})
		t.Run("REM PL is DeleteMember Pending", func(t *testing.T) {
			e.soapOK(b1, "SharingService.asmx", memberOp("DeleteMember", "Pending", "a1@example.com"))
			must(e.api.RemoveFromList(ctx, b2.Email, nsclient.ListWrite{List: "PL", Address: "a2@example.com"}))(t)
			compare(t, "REM PL")
		})
		t.Run("REM FL is ABContactDelete", func(t *testing.T) {
			c1 := entryOf(e.lists(a1), "b1@example.com").ContactGUID
			e.soapOK(a1, "abservice.asmx", abOp("ABContactDelete", `<contacts><Contact><contactId>`+c1+`</contactId></Contact></contacts>`))
			must(e.api.RemoveFromList(ctx, a2.Email, nsclient.ListWrite{List: "FL", Address: "b2@example.com"}))(t)
			compare(t, "REM FL")
		})
	})
}

// firstDiff shows where the SOAP (x) and NS API (y) texts part.
func firstDiff(x, y string) string {
	i := 0
	for i < len(x) && i < len(y) && x[i] == y[i] {
		i++
	}
	from := max(0, i-120)
	return "\nSOAP:   …" + x[from:min(len(x), i+200)] + "\nNS API: …" + y[from:min(len(y), i+200)]
}

func mustGroup(t *testing.T, e *synEnv, a *models.Account) nsclient.Group {
	t.Helper()
	l := e.lists(a)
	if len(l.Groups) == 0 {
		t.Fatal("no group")
	}
	return l.Groups[0]
}

func memberOp(op, role, email string) string {
	return `<` + op + ` xmlns="http://www.msn.com/webservices/AddressBook"><serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId></ForeignId></serviceHandle><memberships><Membership><MemberRole>` + role +
		`</MemberRole><Members><Member xsi:type="PassportMember" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Type>Passport</Type><State>Accepted</State><PassportName>` + email +
		`</PassportName></Member></Members></Membership></memberships></` + op + `>`
}

// TestSynListLimits: a full address book, Allow list or group list is
// refused with the MSNP error and changes nothing.
func TestSynListLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.MaxContacts, cfg.MaxGroups, cfg.MaxMembers = 1, 1, 1
		e := newSynEnv(t, cfg)
		ctx := context.Background()
		alice := testenv.NewAccount(t, e.s, "alice@example.com", "x", "Alice")
		testenv.NewAccount(t, e.s, "bob@example.com", "x", "Bob")
		testenv.NewAccount(t, e.s, "carol@example.com", "x", "Carol")
		t.Run("the second contact is 210", func(t *testing.T) {
			must(e.api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "bob@example.com"}))(t)
			_, err := e.api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "FL", Address: "carol@example.com"})
			wantMSNP(t, err, 210)
			if c := entryOf(e.lists(alice), "carol@example.com"); c != nil {
				t.Errorf("carol listed: %+v", c)
			}
		})
		t.Run("the second AL member is 210", func(t *testing.T) {
			must(e.api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "bob@example.com"}))(t)
			_, err := e.api.AddToList(ctx, alice.Email, nsclient.ListWrite{List: "AL", Address: "carol@example.com"})
			wantMSNP(t, err, 210)
		})
		t.Run("the second group is 223", func(t *testing.T) {
			must(e.api.AddGroup(ctx, alice.Email, "One"))(t)
			v := e.lists(alice).Version
			_, err := e.api.AddGroup(ctx, alice.Email, "Two")
			wantMSNP(t, err, 223)
			if l := e.lists(alice); l.Version != v || len(l.Groups) != 1 {
				t.Errorf("lists changed: version %d (was %d), groups %+v", l.Version, v, l.Groups)
			}
		})
	})
}
