package sharing_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// clientCase is one real request envelope from fixtures/clients.
type clientCase struct {
	name string // golden/subtest name
	file string
	body string
	hdr  map[string][]string
}

func clientCases(t *testing.T) []clientCase {
	clients := testenv.ClientsDir(t)
	var out []clientCase
	for _, pat := range []string{"FindMembership*.xml", "AddMember*.xml", "DeleteMember*.xml"} {
		files, _ := filepath.Glob(filepath.Join(clients, "requests", "*", pat))
		for _, f := range files {
			rel, _ := filepath.Rel(clients, f)
			out = append(out, clientCase{
				name: strings.ReplaceAll(strings.TrimSuffix(rel, ".xml"), string(filepath.Separator), "_"),
				file: filepath.Base(f), body: readFixture(t, rel),
			})
		}
	}
	caps, _ := filepath.Glob(filepath.Join(clients, "captures", "*", "00[23]_FindMembership.http"))
	for _, f := range caps {
		rel, _ := filepath.Rel(clients, f)
		hdr, body := readCapture(t, f)
		out = append(out, clientCase{
			name: strings.ReplaceAll(strings.TrimSuffix(rel, ".http"), string(filepath.Separator), "_"),
			file: "FindMembership.xml", body: body, hdr: hdr,
		})
	}
	if len(out) < 30 {
		t.Fatalf("only %d client envelopes found", len(out))
	}
	return out
}

var membershipIDRE = regexp.MustCompile(`<MembershipId>[^<]*</MembershipId>`)

// TestClientEnvelopes answers every FindMembership, AddMember and
// DeleteMember envelope real clients send, with a real ticket (or, for
// purple 2.4, the MSPAuth cookie), and checks the answer and the lists.
func TestClientEnvelopes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		ctx := context.Background()
		bob := e.account("bob@example.com", "Bob B")
		carol := e.account("carol@example.com", "Carol")
		for i, c := range clientCases(t) {
			c := c
			t.Run(c.name, func(t *testing.T) {
				owner := e.account("owner"+strconv.Itoa(i)+"@example.com", "Owner "+strconv.Itoa(i))
				// Bob added the owner: Bob on the owner's Reverse and Pending.
				e.aliceAddsBob(bob, owner, "Hi, it's Bob & friends <3")
				body := c.body
				switch {
				case strings.HasPrefix(c.file, "FindMembership"):
					if _, err := e.Store.AddMembers(ctx, owner.ID, []models.MemberSpec{
						{Role: models.RoleAllow, Type: models.MemberPassport, Name: carol.EmailLower},
						{Role: models.RoleBlock, Type: models.MemberPassport, Name: "nobody@elsewhere.example"},
						{Role: models.RoleAllow, Type: models.MemberEmail, Name: "fred@yahoo.com", Annotations: []models.Annotation{{Name: "MSN.IM.BuddyType", Value: "32:"}}},
					}); err != nil {
						t.Fatal(err)
					}
					r := e.postPath(owner, "/abservice/SharingService.asmx", body, c.hdr)
					mustOK(t, r)
					p := parseFindMembership(t, r.Body)
					if p.Services != 1 || p.LastChange == "" || p.LastChange != p.NSLastChange {
						t.Errorf("services %d, LastChange %q / OwnerNamespace %q", p.Services, p.LastChange, p.NSLastChange)
					}
					want := []string{"Allow:carol@example.com", "Allow:fred@yahoo.com", "Block:nobody@elsewhere.example", "Reverse:bob@example.com", "Pending:bob@example.com"}
					if strings.Join(p.roles(), " ") != strings.Join(want, " ") {
						t.Errorf("members %v, want %v", p.roles(), want)
					}
					if pm := p.find("Pending", "bob@example.com"); pm == nil || pm.DisplayName != "Bob B" || pm.Annotations["MSN.IM.InviteMessage"] != "Hi, it's Bob & friends <3" {
						t.Errorf("pending member lacks inviter name or message: %+v", pm)
					}
					if fm := p.find("Allow", "fred@yahoo.com"); fm == nil || fm.XSIType != "EmailMember" || fm.Annotations["MSN.IM.BuddyType"] != "32:" {
						t.Errorf("Yahoo member: %+v", fm)
					}
					golden(t, c.name+".xml", r.Body)
					return
				case strings.HasPrefix(c.file, "DeleteMember") && strings.Contains(body, "<MemberRole>Allow</MemberRole>"):
					if _, err := e.Store.AddMembers(ctx, owner.ID, []models.MemberSpec{{Role: models.RoleAllow, Type: models.MemberPassport, Name: bob.EmailLower}}); err != nil {
						t.Fatal(err)
					}
				}
				// purple names the Pending member by MembershipId.
				if strings.Contains(body, "<MembershipId>") {
					set, err := e.Store.Memberships(ctx, owner.ID, 0)
					if err != nil {
						t.Fatal(err)
					}
					var id int64
					for _, m := range set.Members {
						if m.Role == models.RolePending {
							id = m.ID
						}
					}
					body = membershipIDRE.ReplaceAllString(body, "<MembershipId>"+strconv.FormatInt(id, 10)+"</MembershipId>")
				}
				before := e.lists(owner)
				revBefore := revision(t, e, owner)
				eventsBefore := e.outboxCount()
				r := e.postPath(owner, "/abservice/SharingService.asmx", body, c.hdr)
				mustOK(t, r)
				after := e.lists(owner)
				b := after["bob@example.com"]
				switch {
				case strings.Contains(c.file, "RoamingSeed"), strings.Contains(c.file, "Reverse"):
					// No-ops: nothing written, no revision bump.
					if after["bob@example.com"] != before["bob@example.com"] || revision(t, e, owner) != revBefore || e.outboxCount() != eventsBefore {
						t.Errorf("no-op changed lists %v -> %v or revision", before, after)
					}
				case strings.HasPrefix(c.file, "AddMember"):
					role := regexp.MustCompile(`<MemberRole>(\w+)</MemberRole>`).FindStringSubmatch(body)[1]
					want := listbits.RoleBit(role) | listbits.RL
					if e.outboxCount() == eventsBefore {
						t.Errorf("AddMember %s wrote no event", role)
					}
					if b != want {
						t.Errorf("after AddMember %s bob has lists %d, want %d (role, Reverse kept, Pending resolved)", role, b, want)
					}
				case strings.Contains(body, "<MemberRole>Pending</MemberRole>"):
					if b != listbits.RL {
						t.Errorf("after DeleteMember Pending bob has lists %d, want Reverse only", b)
					}
				default: // DeleteMember Allow
					if b&listbits.AL != 0 || b&listbits.RL == 0 {
						t.Errorf("after DeleteMember Allow bob has lists %d", b)
					}
				}
				name := "AddMemberResponse.xml"
				if strings.HasPrefix(c.file, "DeleteMember") {
					name = "DeleteMemberResponse.xml"
				}
				golden(t, name, r.Body)
			})
		}
	})
}

func revision(t testing.TB, e *env, a *models.Account) int64 {
	t.Helper()
	acct, err := e.Store.AccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return acct.Revision
}
