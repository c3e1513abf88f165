package ab_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestScenario walks a book through add, list, group, rename, move and
// delete over the real HTTP stack, checking a delta after each step and
// the golden bytes of every answer.
func TestScenario(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		e.account("carol@example.com", "Carol")

		r := e.findAll(alice)
		wantOK(t, r, "ABFindAll")
		golden(t, "findall_new_book.xml", r.Body)
		cursor := abLastChange(t, r)

		t.Run("same cursor gives an empty delta", func(t *testing.T) {
			r := e.delta(alice, cursor)
			wantOK(t, r, "ABFindAll")
			if !strings.Contains(r.Body, "<groups /><contacts /><ab>") {
				t.Fatalf("delta not empty:\n%s", r.Body)
			}
			if abLastChange(t, r) != cursor {
				t.Fatalf("lastChange moved")
			}
		})

		var bobID, groupID string
		t.Run("add a Messenger contact", func(t *testing.T) {
			r := e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><contactType>LivePending</contactType><passportName>Bob@Example.com</passportName><isMessengerUser>true</isMessengerUser><MessengerMemberInfo><PendingAnnotations><Annotation><Name>MSN.IM.InviteMessage</Name><Value>hi &amp; add me</Value></Annotation></PendingAnnotations><DisplayName>Ali</DisplayName></MessengerMemberInfo></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`))
			wantOK(t, r, "ABContactAdd")
			golden(t, "contactadd.xml", r.Body)
			bobID = resultGUID(t, r)
			// Cross-account effects (DESIGN.md model rules).
			if n := e.Count("memberships", "owner_id = ? AND role = ? AND member_name = ? AND NOT deleted AND display_name = ? AND invite_message = ?", bob.ID, models.RoleReverse, "alice@example.com", "Ali", "hi & add me"); n != 1 {
				t.Errorf("alice on bob's Reverse list: %d rows", n)
			}
			if n := e.Count("memberships", "owner_id = ? AND role = ? AND member_name = ? AND NOT deleted", bob.ID, models.RolePending, "alice@example.com"); n != 1 {
				t.Errorf("alice on bob's Pending list: %d rows", n)
			}
			if n := e.Count("memberships", "owner_id = ? AND role = ? AND member_name = ? AND NOT deleted", alice.ID, models.RoleAllow, "bob@example.com"); n != 1 {
				t.Errorf("bob on alice's Allow list: %d rows", n)
			}
			if n := e.Count("outbox", "recipient_id = ? AND payload LIKE ?", bob.ID, `%"type":"reverse.added"%`); n != 1 {
				t.Errorf("reverse.added events for bob: %d", n)
			}
			r = e.delta(alice, cursor)
			wantOK(t, r, "ABFindAll")
			golden(t, "delta_after_add.xml", r.Body)
			if !strings.Contains(r.Body, "<contactId>"+bobID+"</contactId>") || strings.Count(r.Body, "<Contact>") != 1 {
				t.Fatalf("delta should hold exactly bob:\n%s", r.Body)
			}
			cursor = abLastChange(t, r)
		})

		t.Run("duplicate add faults with ContactAlreadyExists and the existing id", func(t *testing.T) {
			r := e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts>`))
			wantFault(t, r, models.CodeContactAlreadyExists)
			golden(t, "fault_contact_already_exists.xml", r.Body)
			if !strings.Contains(r.Body, "<conflictObjectId>"+bobID+"</conflictObjectId>") {
				t.Fatalf("no conflictObjectId:\n%s", r.Body)
			}
		})

		t.Run("group add, rename and move", func(t *testing.T) {
			r := e.call(alice, op("ABGroupAdd", `<groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>Friends</name><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType><fMessenger>false</fMessenger><annotations><Annotation><Name>MSN.IM.Display</Name><Value>1</Value></Annotation></annotations></GroupInfo></groupInfo>`))
			wantOK(t, r, "ABGroupAdd")
			golden(t, "groupadd.xml", r.Body)
			groupID = resultGUID(t, r)
			r = e.call(alice, op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>`+strings.Repeat("n", 62)+`</name></GroupInfo></groupInfo>`))
			wantFault(t, r, models.CodeBadArgumentLength)
			golden(t, "fault_group_name_too_long.xml", r.Body)
			r = e.call(alice, op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>FRIENDS</name></GroupInfo></groupInfo>`))
			wantFault(t, r, models.CodeGroupAlreadyExists)
			if !strings.Contains(r.Body, "<conflictObjectId>"+groupID+"</conflictObjectId>") {
				t.Fatalf("no conflictObjectId:\n%s", r.Body)
			}
			r = e.call(alice, op("ABGroupUpdate", `<groups><Group><groupId>`+groupID+`</groupId><groupInfo><name>Best &lt;Friends&gt;</name></groupInfo><propertiesChanged>GroupName </propertiesChanged></Group></groups>`))
			wantOK(t, r, "ABGroupUpdate")
			golden(t, "groupupdate.xml", r.Body)
			r = e.call(alice, op("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter><contacts><Contact><contactId>`+bobID+`</contactId></Contact></contacts>`))
			wantOK(t, r, "ABGroupContactAdd")
			if resultGUID(t, r) != bobID {
				t.Fatalf("ABGroupContactAdd guid: %s", r.Body)
			}
			r = e.call(alice, op("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter><contacts><Contact><contactId>`+bobID+`</contactId></Contact></contacts>`))
			wantFault(t, r, models.CodeContactAlreadyExists)
			r = e.delta(alice, cursor)
			wantOK(t, r, "ABFindAll")
			golden(t, "delta_after_group.xml", r.Body)
			if !strings.Contains(r.Body, "<name>Best &lt;Friends&gt;</name>") || !strings.Contains(r.Body, "<groupIds><guid>"+groupID+"</guid></groupIds>") {
				t.Fatalf("delta lacks the renamed group or bob's membership:\n%s", r.Body)
			}
			cursor = abLastChange(t, r)
		})

		t.Run("add by passport into a group creates the contact", func(t *testing.T) {
			r := e.call(alice, op("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter><contacts><Contact><contactInfo><passportName>carol@example.com</passportName><isSmtp>false</isSmtp><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><groupContactAddOptions><fGenerateMissingQuickName>true</fGenerateMissingQuickName><EnableAllowListManagement>true</EnableAllowListManagement></groupContactAddOptions>`))
			wantOK(t, r, "ABGroupContactAdd")
		})

		t.Run("alias and unknown annotations are stored and echoed", func(t *testing.T) {
			r := e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactInfo><annotations><Annotation><Name>AB.NickName</Name><Value>Bobby</Value></Annotation><Annotation><Name>X.Custom</Name><Value>v1</Value></Annotation></annotations></contactInfo><propertiesChanged>Annotation </propertiesChanged><contactId>`+bobID+`</contactId></Contact></contacts>`))
			wantOK(t, r, "ABContactUpdate")
			r = e.delta(alice, cursor)
			if !strings.Contains(r.Body, "<annotations><Annotation><Name>AB.NickName</Name><Value>Bobby</Value></Annotation><Annotation><Name>X.Custom</Name><Value>v1</Value></Annotation></annotations>") {
				t.Fatalf("annotations not echoed:\n%s", r.Body)
			}
			wantOK(t, e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactId>`+bobID+`</contactId><contactInfo><annotations><Annotation><Name>X.Custom</Name><Value/></Annotation></annotations></contactInfo><propertiesChanged>Annotation</propertiesChanged></Contact></contacts>`)), "ABContactUpdate")
			r = e.delta(alice, cursor)
			if strings.Contains(r.Body, "X.Custom") || !strings.Contains(r.Body, "AB.NickName") {
				t.Fatalf("empty value should clear only X.Custom:\n%s", r.Body)
			}
			cursor = abLastChange(t, r)
		})

		t.Run("full list", func(t *testing.T) {
			r := e.findAll(alice)
			wantOK(t, r, "ABFindAll")
			golden(t, "findall_full.xml", r.Body)
			// emesene reads the own CID by splitting the raw text.
			me := strings.Split(strings.Split(r.Body, "<contactType>Me</contactType>")[1], "</CID>")[0]
			if cid := strings.Split(me, "<CID>")[1]; cid != "1001" {
				t.Fatalf("emesene would read own CID %q", cid)
			}
		})

		t.Run("remove from group, then delete the contact and the group", func(t *testing.T) {
			r := e.call(alice, op("ABGroupContactDelete", `<contacts><Contact><contactId>`+bobID+`</contactId></Contact></contacts><groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter>`))
			wantOK(t, r, "ABGroupContactDelete")
			r = e.call(alice, op("ABGroupContactDelete", `<contacts><Contact><contactId>`+bobID+`</contactId></Contact></contacts><groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter>`))
			wantFault(t, r, models.CodeContactDoesNotExist)
			r = e.call(alice, op("ABContactDelete", `<contacts><Contact><contactId>`+bobID+`</contactId></Contact></contacts>`))
			wantOK(t, r, "ABContactDelete")
			golden(t, "contactdelete.xml", r.Body)
			if n := e.Count("memberships", "owner_id = ? AND role IN ? AND member_name = ? AND NOT deleted", bob.ID, []string{models.RoleReverse, models.RolePending}, "alice@example.com"); n != 0 {
				t.Errorf("alice still on bob's Reverse/Pending: %d", n)
			}
			if n := e.Count("outbox", "recipient_id = ? AND payload LIKE ?", bob.ID, `%"type":"reverse.removed"%`); n != 1 {
				t.Errorf("reverse.removed events for bob: %d", n)
			}
			if n := e.Count("memberships", "owner_id = ? AND role = ? AND member_name = ? AND NOT deleted", alice.ID, models.RoleAllow, "bob@example.com"); n != 1 {
				t.Errorf("ABContactDelete must not touch Allow: %d", n)
			}
			r = e.call(alice, op("ABGroupDelete", `<groupFilter><groupIds><guid>`+groupID+`</guid></groupIds></groupFilter>`))
			wantOK(t, r, "ABGroupDelete")
			r = e.delta(alice, cursor)
			wantOK(t, r, "ABFindAll")
			golden(t, "delta_after_delete.xml", r.Body)
			if !strings.Contains(r.Body, "<contactId>"+bobID+"</contactId>") || strings.Count(r.Body, "<fDeleted>true</fDeleted>") != 2 {
				t.Fatalf("delta lacks the tombstones:\n%s", r.Body)
			}
			if n := e.Count("contacts", "owner_id = ? AND NOT deleted AND contact_key <> 'me'", alice.ID); n != 1 {
				t.Fatalf("carol should stay in the book after her group is deleted: %d contacts", n)
			}
		})

		t.Run("re-add revives the same GUID", func(t *testing.T) {
			r := e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName><isSmtp>false</isSmtp><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts>`))
			wantOK(t, r, "ABContactAdd")
			if g := resultGUID(t, r); g != bobID {
				t.Fatalf("revived contact got %s, want %s", g, bobID)
			}
		})

		t.Run("Me contact updates change the account", func(t *testing.T) {
			c := abLastChange(t, e.findAll(alice))
			r := e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Alice%20A</displayName><annotations><Annotation><Name>MSN.IM.BLP</Name><Value>2</Value></Annotation><Annotation><Name>MSN.IM.GTC</Name><Value>0</Value></Annotation><Annotation><Name>MSN.IM.MPOP</Name><Value>1</Value></Annotation></annotations></contactInfo><propertiesChanged>DisplayName Annotation</propertiesChanged></Contact></contacts>`))
			wantOK(t, r, "ABContactUpdate")
			acct, err := e.Store.AccountByID(t.Context(), alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			if acct.DisplayName != "Alice%20A" || acct.BLP != models.BLPBlock || acct.GTC != models.GTCNone {
				t.Fatalf("account not updated: %+v", acct)
			}
			r = e.delta(alice, c)
			wantOK(t, r, "ABFindAll")
			for _, want := range []string{"<Name>MSN.IM.BLP</Name><Value>0</Value>", "<Name>MSN.IM.GTC</Name><Value>0</Value>", "<Name>MSN.IM.MPOP</Name><Value>1</Value>", "<displayName>Alice%20A</displayName>", "<contactType>Me</contactType>"} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("delta lacks %s:\n%s", want, r.Body)
				}
			}
			if n := e.Count("outbox", "recipient_id = ? AND payload LIKE ?", alice.ID, `%"type":"privacy.changed"%`); n != 1 {
				t.Errorf("privacy.changed events: %d", n)
			}
			r = e.call(alice, op("ABContactUpdate", `<contacts><Contact><contactInfo><contactType>Me</contactType><annotations><Annotation><Name>MSN.IM.BLP</Name><Value>7</Value></Annotation></annotations></contactInfo><propertiesChanged>Annotation</propertiesChanged></Contact></contacts>`))
			wantFault(t, r, models.CodeBadRequest)
		})
	})
}

// TestConcurrentDuplicateAdds: 20 clients add the same contact at once;
// exactly one contact exists afterwards and the others get
// ContactAlreadyExists.
func TestConcurrentDuplicateAdds(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		body := op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options>`)
		var wg sync.WaitGroup
		results := make([]reply, 20)
		for i := range results {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = e.post(envelope(e.ticket(alice), body), "")
			}(i)
		}
		wg.Wait()
		ok, dup := 0, 0
		for _, r := range results {
			switch {
			case r.Status == 200:
				ok++
			case strings.Contains(r.Body, ">ContactAlreadyExists<"):
				dup++
			default:
				t.Errorf("unexpected answer %d:\n%s", r.Status, r.Body)
			}
		}
		if ok != 1 || dup != 19 {
			t.Fatalf("%d successes, %d ContactAlreadyExists; want 1 and 19", ok, dup)
		}
		if n := e.Count("contacts", "owner_id = ? AND contact_key = ?", alice.ID, "passport:bob@example.com"); n != 1 {
			t.Fatalf("%d contact rows", n)
		}
		if n := e.Count("memberships", "owner_id = ? AND role = ?", bob.ID, models.RoleReverse); n != 1 {
			t.Fatalf("%d reverse rows", n)
		}
	})
}
