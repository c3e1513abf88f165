package sharing_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// outbox returns the events written for recipient, oldest first.
func (e *env) outbox(recipient *models.Account) []events.Event {
	e.T.Helper()
	var rows []models.OutboxEvent
	if err := e.Store.DB.Where("recipient_id = ?", recipient.ID).Order("id").Find(&rows).Error; err != nil {
		e.T.Fatal(err)
	}
	var out []events.Event
	for _, r := range rows {
		var ev events.Event
		if err := json.Unmarshal([]byte(r.Payload), &ev); err != nil {
			e.T.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// sync runs FindMembership (delta when cursor is set) and checks the answer.
func (e *env) sync(t *testing.T, a *models.Account, cursor string) parsed {
	t.Helper()
	r := e.post(a, findBody(cursor))
	mustOK(t, r)
	return parseFindMembership(t, r.Body)
}

// TestAliceAddsBob follows the invitation life cycle across both accounts:
// Alice adds Bob, Bob accepts, Bob blocks, Alice deletes Bob; Bob's full
// and delta FindMembership answers after each step, and the events.
func TestAliceAddsBob(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice A")
		bob := e.account("bob@example.com", "Bob")

		p := e.sync(t, bob, "")
		if len(p.Members) != 0 || p.HasMembership {
			t.Fatalf("new account has members: %v", p.roles())
		}
		c0 := p.LastChange

		e.aliceAddsBob(alice, bob, "Please add me")
		var pendingID string
		t.Run("Bob sees Alice on Reverse and Pending with name and message", func(t *testing.T) {
			d := e.sync(t, bob, c0)
			if got := strings.Join(d.roles(), " "); got != "Reverse:alice@example.com Pending:alice@example.com" {
				t.Fatalf("delta: %s", got)
			}
			pm := d.find("Pending", "alice@example.com")
			if pm.DisplayName != "Alice A" || pm.Annotations["MSN.IM.InviteMessage"] != "Please add me" {
				t.Errorf("pending member: %+v", pm)
			}
			if rm := d.find("Reverse", "alice@example.com"); rm.DisplayName != "Alice A" {
				t.Errorf("reverse member: %+v", rm)
			}
			if d.LastChange == c0 || d.LastChange != d.NSLastChange {
				t.Errorf("cursor %s -> %s (OwnerNamespace %s)", c0, d.LastChange, d.NSLastChange)
			}
			full := e.sync(t, bob, "")
			if strings.Join(full.roles(), " ") != strings.Join(d.roles(), " ") || full.LastChange != d.LastChange {
				t.Errorf("full %v at %s, delta %v at %s", full.roles(), full.LastChange, d.roles(), d.LastChange)
			}
			pendingID = pm.MembershipID
			c0 = d.LastChange
		})

		t.Run("an unchanged cursor gets 200 with no memberships", func(t *testing.T) {
			r := e.post(bob, findBody(c0))
			mustOK(t, r)
			d := parseFindMembership(t, r.Body)
			if d.HasMembership || d.LastChange != c0 || !strings.Contains(r.Body, "<Memberships/>") {
				t.Errorf("no-change answer: %s", r.Body)
			}
			golden(t, "delta-no-change.xml", r.Body)
		})

		t.Run("Bob accepts: Allow, not Pending, still Reverse", func(t *testing.T) {
			mustOK(t, e.post(bob, memberBody("AddMember", passportMembership("Allow", "Alice@Example.com"))))
			mustOK(t, e.post(bob, memberBody("DeleteMember", idMembership("Pending", pendingID))))
			if got := e.lists(bob)["alice@example.com"]; got != listbits.AL|listbits.RL {
				t.Errorf("lists %d, want AL|RL", got)
			}
			d := e.sync(t, bob, c0)
			// AddMember Allow already resolved the invitation; the explicit
			// DeleteMember Pending then found nothing... it must not fault
			// for the client either way, see below.
			if got := strings.Join(d.roles(), " "); got != "Allow:alice@example.com Pending:alice@example.com:deleted" {
				t.Errorf("delta after accept: %s", got)
			}
			c0 = d.LastChange
			evs := e.outbox(bob)
			var seen []string
			for _, ev := range evs {
				if ev.Type == events.TypeMembershipChanged {
					seen = append(seen, ev.Data["role"]+"/"+ev.Data["op"]+"/"+ev.Data["member"])
					if len(ev.NS) == 0 || ev.NS[len(ev.NS)-1].Command != "NOT" {
						t.Errorf("membership.changed without the NOT hint: %+v", ev.NS)
					}
				}
			}
			if strings.Join(seen, " ") != "Allow/added/alice@example.com Pending/removed/alice@example.com" {
				t.Errorf("owner events: %v", seen)
			}
			var vis []string
			for _, ev := range e.outbox(alice) {
				if ev.Type == events.TypeVisibilityChanged {
					vis = append(vis, ev.Data["role"]+"/"+ev.Data["op"]+"/"+ev.Actor.Email)
				}
			}
			if strings.Join(vis, " ") != "Allow/added/bob@example.com" {
				t.Errorf("member events: %v", vis)
			}
		})

		t.Run("Bob blocks: Block, not Allow, still Reverse", func(t *testing.T) {
			mustOK(t, e.post(bob, memberBody("AddMember", passportMembership("Block", "alice@example.com"))))
			if got := e.lists(bob)["alice@example.com"]; got != listbits.BL|listbits.RL {
				t.Errorf("lists %d, want BL|RL", got)
			}
			d := e.sync(t, bob, c0)
			if got := strings.Join(d.roles(), " "); got != "Allow:alice@example.com:deleted Block:alice@example.com" {
				t.Errorf("delta after block: %s", got)
			}
			c0 = d.LastChange
			full := e.sync(t, bob, "")
			if got := strings.Join(full.roles(), " "); got != "Block:alice@example.com Reverse:alice@example.com" {
				t.Errorf("full after block: %s", got)
			}
		})

		t.Run("Alice deletes Bob: gone from Bob's Reverse, Block stays", func(t *testing.T) {
			e.aliceDeletesBob(alice, bob)
			d := e.sync(t, bob, c0)
			if got := strings.Join(d.roles(), " "); got != "Reverse:alice@example.com:deleted" {
				t.Errorf("delta after removal: %s", got)
			}
			full := e.sync(t, bob, "")
			if got := strings.Join(full.roles(), " "); got != "Block:alice@example.com" {
				t.Errorf("full after removal: %s", got)
			}
		})

		t.Run("cursors the book cannot serve get FullSyncRequired", func(t *testing.T) {
			acct, _ := e.Store.AccountByID(t.Context(), bob.ID)
			for name, cursor := range map[string]string{
				"beyond the revision":   models.FormatRevision(acct.Revision + 1),
				"before the book":       "2001-01-01T00:00:00.0000000-08:00",
				"not a timestamp":       "yesterday",
				"another book's cursor": "2030-01-01T00:00:00Z",
			} {
				r := e.post(bob, findBody(cursor))
				mustFault(t, r, models.CodeFullSyncRequired)
				if !strings.Contains(r.Body, "Need to do full sync") {
					t.Errorf("%s: faultstring lacks MSNPSharp's substring: %s", name, r.Body)
				}
			}
			if err := e.Store.DB.Exec("UPDATE accounts SET pruned_revision = ? WHERE id = ?", acct.Revision-1, bob.ID).Error; err != nil {
				t.Fatal(err)
			}
			mustFault(t, e.post(bob, findBody(models.FormatRevision(acct.Revision-2))), models.CodeFullSyncRequired)
			// The current cursor is still served; a full sync always is.
			mustOK(t, e.post(bob, findBody(models.FormatRevision(acct.Revision))))
			mustOK(t, e.post(bob, findBody("")))
			// A year-0001 cursor means "never": a full answer.
			if p := e.sync(t, bob, "0001-01-01T00:00:00.0000000-08:00"); len(p.Members) != 1 {
				t.Errorf("never-cursor answer: %v", p.roles())
			}
		})
	})
}

// TestMemberRules covers the list rules one request at a time.
func TestMemberRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.MaxMembers = 5
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		carol := e.account("carol@example.com", "Carol")

		t.Run("several members and memberships in one call", func(t *testing.T) {
			body := memberBody("AddMember", passportMembership("Allow", "bob@example.com", "carol@example.com")+
				passportMembership("Block", "spammer@elsewhere.example")+
				`<Membership><MemberRole>Allow</MemberRole><Members><Member xsi:type="EmailMember"><Type>Email</Type><State>Accepted</State><Email>Fred@Yahoo.com</Email><Annotations><Annotation><Name>MSN.IM.BuddyType</Name><Value>32:</Value></Annotation></Annotations></Member><Member xsi:type="PhoneMember"><Type>Phone</Type><State>Accepted</State><PhoneNumber>+15551234567</PhoneNumber></Member></Members></Membership>`)
			mustOK(t, e.post(alice, body))
			l := e.lists(alice)
			if l["bob@example.com"] != listbits.AL || l["carol@example.com"] != listbits.AL || l["spammer@elsewhere.example"] != listbits.BL ||
				l["Email:fred@yahoo.com"] != listbits.AL || l["Phone:+15551234567"] != listbits.AL {
				t.Errorf("lists: %v", l)
			}
		})

		t.Run("adding an existing member faults MemberAlreadyExists and changes nothing", func(t *testing.T) {
			rev := revision(t, e, alice)
			r := e.post(alice, memberBody("AddMember", passportMembership("Allow", "bob@example.com")))
			mustFault(t, r, models.CodeMemberAlreadyExists)
			if !strings.Contains(r.Body, "<faultstring>Member already exists</faultstring>") {
				t.Errorf("faultstring: %s", r.Body)
			}
			if revision(t, e, alice) != rev {
				t.Errorf("revision moved")
			}
		})

		t.Run("existing members are skipped when others are new", func(t *testing.T) {
			mustOK(t, e.post(alice, memberBody("AddMember", passportMembership("Block", "bob@example.com", "spammer@elsewhere.example"))))
			l := e.lists(alice)
			if l["bob@example.com"] != listbits.BL || l["spammer@elsewhere.example"] != listbits.BL {
				t.Errorf("lists: %v", l)
			}
		})

		t.Run("deleting a non-member faults MemberDoesNotExist", func(t *testing.T) {
			r := e.post(alice, memberBody("DeleteMember", passportMembership("Allow", "bob@example.com")))
			mustFault(t, r, models.CodeMemberDoesNotExist)
			if !strings.Contains(r.Body, "<faultstring>Member does not exist</faultstring>") {
				t.Errorf("faultstring: %s", r.Body)
			}
		})

		t.Run("DeleteMember Reverse and AddMember Pending change nothing", func(t *testing.T) {
			e.aliceAddsBob(carol, alice, "")
			rev := revision(t, e, alice)
			mustOK(t, e.post(alice, memberBody("DeleteMember", passportMembership("Reverse", "carol@example.com"))))
			mustOK(t, e.post(alice, memberBody("AddMember", passportMembership("Pending", "dave@example.com"))))
			mustOK(t, e.post(alice, memberBody("AddMember", passportMembership("Reverse", "dave@example.com"))))
			if got := e.lists(alice)["carol@example.com"]; got != listbits.AL|listbits.RL|listbits.PL {
				t.Errorf("carol: %d", got)
			}
			if revision(t, e, alice) != rev {
				t.Errorf("no-op moved the revision")
			}
		})

		t.Run("DeleteMember Pending (decline) keeps Reverse", func(t *testing.T) {
			mustOK(t, e.post(alice, memberBody("DeleteMember", passportMembership("Pending", "carol@example.com"))))
			if got := e.lists(alice)["carol@example.com"]; got != listbits.AL|listbits.RL {
				t.Errorf("carol: %d", got)
			}
		})

		t.Run("a member named by CID", func(t *testing.T) {
			body := memberBody("DeleteMember", `<Membership><MemberRole>Allow</MemberRole><Members><Member xsi:type="PassportMember"><Type>Passport</Type><State>Accepted</State><CID>`+strconv.FormatInt(carol.CID, 10)+`</CID></Member></Members></Membership>`)
			mustOK(t, e.post(alice, body))
			if got := e.lists(alice)["carol@example.com"]; got != listbits.RL {
				t.Errorf("carol: %d", got)
			}
		})

		t.Run("a full list faults RequestLimitReached", func(t *testing.T) {
			r := e.post(alice, memberBody("AddMember", passportMembership("Allow", "a1@example.com", "a2@example.com", "a3@example.com", "a4@example.com")))
			mustFault(t, r, models.CodeRequestLimitReached)
			if e.lists(alice)["a1@example.com"] != 0 {
				t.Errorf("half of a failed request was kept")
			}
		})

		t.Run("a Reverse row stored without a name shows the inviter's current name", func(t *testing.T) {
			dave := e.account("dave@example.com", "Dave D")
			err := e.Store.Write(t.Context(), func(tx *store.Txn) error {
				if err := tx.Bump(alice.ID); err != nil {
					return err
				}
				_, _, err := tx.PutMember(alice.ID, models.RoleReverse, store.PassportRef(dave), "", "", nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if m := e.sync(t, alice, "").find("Reverse", "dave@example.com"); m == nil || m.DisplayName != "Dave D" {
				t.Errorf("reverse member: %+v", m)
			}
		})

		t.Run("full answers are cached per revision", func(t *testing.T) {
			first := e.post(alice, findBody(""))
			mustOK(t, first)
			// A write that bypasses the revision (never done by abch) shows
			// whether the second answer came from the cache.
			if err := e.Store.DB.Exec("UPDATE memberships SET display_name = 'Sneaky' WHERE owner_id = ?", alice.ID).Error; err != nil {
				t.Fatal(err)
			}
			if again := e.post(alice, findBody("")); again.Body != first.Body {
				t.Errorf("same revision, different answer: cache not used")
			}
			if err := e.Store.Write(t.Context(), func(tx *store.Txn) error { return tx.Bump(alice.ID) }); err != nil {
				t.Fatal(err)
			}
			if after := e.post(alice, findBody("")); !strings.Contains(after.Body, "<DisplayName>Sneaky</DisplayName>") {
				t.Errorf("new revision served a stale answer")
			}
		})

		t.Run("a filter without Messenger gets an empty Services", func(t *testing.T) {
			body := strings.Replace(findBody(""), "<ServiceType>Messenger</ServiceType>", "<ServiceType>Profile</ServiceType>", 1)
			r := e.post(alice, body)
			mustOK(t, r)
			p := parseFindMembership(t, r.Body)
			if p.Services != 0 || !strings.Contains(r.Body, "<Services/>") || p.NSLastChange == "" {
				t.Errorf("answer: %s", r.Body)
			}
		})
	})
}

// TestOtherUsersMembershipIds checks one account cannot read or change
// another's memberships through MembershipIds.
func TestOtherUsersMembershipIds(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		mallory := e.account("mallory@example.com", "Mallory")
		e.aliceAddsBob(alice, bob, "hi")
		p := e.sync(t, bob, "")
		pending := p.find("Pending", "alice@example.com").MembershipID
		before := e.lists(bob)
		revM := revision(t, e, mallory)
		for _, body := range []string{
			memberBody("DeleteMember", idMembership("Pending", pending)),
			memberBody("DeleteMember", idMembership("Reverse", pending)),
			memberBody("AddMember", idMembership("Block", pending)),
			// A valid change next to a foreign id: nothing at all happens.
			memberBody("AddMember", passportMembership("Allow", "carol@example.com")+idMembership("Block", pending)),
		} {
			r := e.post(mallory, body)
			mustFault(t, r, models.CodeMemberDoesNotExist)
			if strings.Contains(r.Body, "alice") {
				t.Errorf("fault leaks the other member: %s", r.Body)
			}
		}
		if got := e.lists(bob); len(got) != len(before) || got["alice@example.com"] != before["alice@example.com"] {
			t.Errorf("bob's lists changed: %v -> %v", before, got)
		}
		if len(e.lists(mallory)) != 0 || revision(t, e, mallory) != revM {
			t.Errorf("mallory's lists or revision changed")
		}
		if p := e.sync(t, mallory, ""); len(p.Members) != 0 {
			t.Errorf("mallory sees %v", p.roles())
		}
	})
}
