package ab_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestMalformedAndForeignInput sends bad values in every field, and other
// users' ids, and checks each gets the right fault and changes nothing.
func TestMalformedAndForeignInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		ctx := context.Background()
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		mallory := e.account("mallory@example.com", "Mallory")
		st := e.Store
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		bobIDs, err := st.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "bob@example.com", IsMessengerUser: true}}, false)
		must(nil, err)
		bob := bobIDs[0]
		group, err := st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Work"})
		must(group, err)
		must(st.AddGroup(ctx, alice.ID, models.NewGroup{Name: "Home"}))
		malIDs, err := st.AddContacts(ctx, mallory.ID, []models.NewContact{{PassportName: "bob@example.com", IsMessengerUser: true}}, false)
		must(nil, err)
		malContact := malIDs[0]
		malGroup, err := st.AddGroup(ctx, mallory.ID, models.NewGroup{Name: "Secret"})
		must(malGroup, err)
		me := alice.MeContactGUID
		long := strings.Repeat("x", 400)
		name62 := strings.Repeat("g", 62)
		add := func(info string) string {
			return op("ABContactAdd", `<contacts><Contact><contactInfo>`+info+`</contactInfo></Contact></contacts>`)
		}
		upd := func(id, info, props string) string {
			return op("ABContactUpdate", `<contacts><Contact>`+id+`<contactInfo>`+info+`</contactInfo><propertiesChanged>`+props+`</propertiesChanged></Contact></contacts>`)
		}
		gca := func(g, c string) string {
			return op("ABGroupContactAdd", `<groupFilter><groupIds><guid>`+g+`</guid></groupIds></groupFilter><contacts><Contact><contactId>`+c+`</contactId></Contact></contacts>`)
		}
		cases := []struct {
			name string
			body string
			code models.Code
		}{
			{"abId not a GUID", `<ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"><abId>nope</abId></ABFindAll>`, models.CodeBadRequest},
			{"abId of another book", `<ABFindAll xmlns="http://www.msn.com/webservices/AddressBook"><abId>` + malGroup + `</abId></ABFindAll>`, models.CodeInvalidArgument},
			{"deltasOnly not a boolean", op("ABFindAll", `<deltasOnly>maybe</deltasOnly>`), models.CodeBadRequest},
			{"lastChange not a timestamp", op("ABFindAll", `<deltasOnly>true</deltasOnly><lastChange>yesterday</lastChange>`), models.CodeBadRequest},
			{"delta without cursor", op("ABFindAll", `<deltasOnly>true</deltasOnly>`), models.CodeFullSyncRequired},
			{"paged DeltasOnly not a boolean", `<ABFindContactsPaged xmlns="http://www.msn.com/webservices/AddressBook"><filterOptions><DeltasOnly>2</DeltasOnly></filterOptions></ABFindContactsPaged>`, models.CodeBadRequest},
			{"add without contacts", op("ABContactAdd", ``), models.CodeBadRequest},
			{"add without contactInfo", op("ABContactAdd", `<contacts><Contact/></contacts>`), models.CodeBadRequest},
			{"add malformed passport", add(`<passportName>bob</passportName>`), models.CodeBadEmailArgument},
			{"add unknown passport", add(`<passportName>nobody@example.com</passportName><isMessengerUser>true</isMessengerUser>`), models.CodeInvalidPassportUser},
			{"add own passport", add(`<passportName>alice@example.com</passportName>`), models.CodeInvalidPassportUser},
			{"add federated address", add(`<emails><ContactEmail><contactEmailType>Messenger2</contactEmailType><email>carol@yahoo.com</email><isMessengerEnabled>true</isMessengerEnabled></ContactEmail></emails>`), models.CodeInvalidPassportUser},
			{"add isMessengerUser not a boolean", add(`<passportName>bob@example.com</passportName><isMessengerUser>yes</isMessengerUser>`), models.CodeBadRequest},
			{"add huge display name", add(`<passportName>dave@example.com</passportName><displayName>` + long + `</displayName>`), models.CodeBadArgumentLength},
			{"add huge passport", add(`<passportName>` + long + `@example.com</passportName>`), models.CodeBadArgumentLength},
			{"add nameless annotation", add(`<passportName>bob@example.com</passportName><annotations><Annotation><Value>1</Value></Annotation></annotations>`), models.CodeBadRequest},
			{"add Me", add(`<contactType>Me</contactType><passportName>bob@example.com</passportName>`), models.CodeBadRequest},
			{"add nothing to add", add(`<displayName>x</displayName>`), models.CodeBadRequest},
			{"add bad option", op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>x@example.com</passportName><isMessengerUser>false</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>on</EnableAllowListManagement></options>`), models.CodeBadRequest},
			{"add second contact bad: first not kept", op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>x@example.com</passportName><isMessengerUser>false</isMessengerUser></contactInfo></Contact><Contact><contactInfo><passportName>nobody@example.com</passportName></contactInfo></Contact></contacts>`), models.CodeInvalidPassportUser},
			{"delete bad GUID", op("ABContactDelete", `<contacts><Contact><contactId>{`+bob+`}</contactId></Contact></contacts>`), models.CodeBadRequest},
			{"delete missing contactId", op("ABContactDelete", `<contacts><Contact/></contacts>`), models.CodeBadRequest},
			{"delete more than 100 contacts: bob kept", op("ABContactDelete", `<contacts>`+strings.Repeat(`<Contact><contactId>`+bob+`</contactId></Contact>`, 101)+`</contacts>`), models.CodeBadRequest},
			{"group delete more than 100 ids: group kept", op("ABGroupDelete", `<groupFilter><groupIds>`+strings.Repeat(`<guid>`+group+`</guid>`, 101)+`</groupIds></groupFilter>`), models.CodeBadRequest},
			{"delete unknown", op("ABContactDelete", `<contacts><Contact><contactId>11111111-2222-3333-4444-555555555555</contactId></Contact></contacts>`), models.CodeContactDoesNotExist},
			{"delete another user's contact", op("ABContactDelete", `<contacts><Contact><contactId>`+malContact+`</contactId></Contact></contacts>`), models.CodeContactDoesNotExist},
			{"delete known then unknown: nothing deleted", op("ABContactDelete", `<contacts><Contact><contactId>`+bob+`</contactId></Contact><Contact><contactId>`+malContact+`</contactId></Contact></contacts>`), models.CodeContactDoesNotExist},
			{"delete Me", op("ABContactDelete", `<contacts><Contact><contactId>`+me+`</contactId></Contact></contacts>`), models.CodeBadRequest},
			{"update without propertiesChanged", op("ABContactUpdate", `<contacts><Contact><contactId>`+bob+`</contactId><contactInfo><displayName>x</displayName></contactInfo></Contact></contacts>`), models.CodeBadRequest},
			{"update without id", upd(``, `<displayName>x</displayName>`, `DisplayName`), models.CodeBadRequest},
			{"update unknown", upd(`<contactId>11111111-2222-3333-4444-555555555555</contactId>`, `<displayName>x</displayName>`, `DisplayName`), models.CodeContactDoesNotExist},
			{"update another user's contact", upd(`<contactId>`+malContact+`</contactId>`, `<displayName>x</displayName>`, `DisplayName`), models.CodeContactDoesNotExist},
			{"update isMessengerUser not a boolean", upd(`<contactId>`+bob+`</contactId>`, `<isMessengerUser>perhaps</isMessengerUser>`, `IsMessengerUser`), models.CodeBadRequest},
			{"update isMessengerUser missing", upd(`<contactId>`+bob+`</contactId>`, ``, `IsMessengerUser`), models.CodeBadRequest},
			{"update birthdate not a date", upd(`<contactId>`+bob+`</contactId>`, `<birthdate>soon</birthdate>`, `ContactBirthDate`), models.CodeBadRequest},
			{"update huge display name", upd(`<contactId>`+bob+`</contactId>`, `<displayName>`+long+`</displayName>`, `DisplayName`), models.CodeBadArgumentLength},
			{"update bad GTC", upd(``, `<contactType>Me</contactType><annotations><Annotation><Name>MSN.IM.GTC</Name><Value>A</Value></Annotation></annotations>`, `Annotation`), models.CodeBadRequest},
			{"group add name too long", op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>`+name62+`</name></GroupInfo></groupInfo>`), models.CodeBadArgumentLength},
			{"group add without name", op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><groupType>C8529CE2-6EAD-434d-881F-341E17DB3FF8</groupType></GroupInfo></groupInfo>`), models.CodeBadRequest},
			{"group add empty name", op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>  </name></GroupInfo></groupInfo>`), models.CodeBadRequest},
			{"group add without GroupInfo", op("ABGroupAdd", `<groupAddOptions/>`), models.CodeBadRequest},
			{"group add bad option", op("ABGroupAdd", `<groupAddOptions><fRenameOnMsgrConflict>x</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>New</name></GroupInfo></groupInfo>`), models.CodeBadRequest},
			{"group add duplicate", op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>work</name></GroupInfo></groupInfo>`), models.CodeGroupAlreadyExists},
			{"group delete unknown", op("ABGroupDelete", `<groupFilter><groupIds><guid>11111111-2222-3333-4444-555555555555</guid></groupIds></groupFilter>`), models.CodeGroupDoesNotExist},
			{"group delete another user's group", op("ABGroupDelete", `<groupFilter><groupIds><guid>`+malGroup+`</guid></groupIds></groupFilter>`), models.CodeGroupDoesNotExist},
			{"group delete known then foreign: nothing deleted", op("ABGroupDelete", `<groupFilter><groupIds><guid>`+group+`</guid><guid>`+malGroup+`</guid></groupIds></groupFilter>`), models.CodeGroupDoesNotExist},
			{"group delete without ids", op("ABGroupDelete", `<groupFilter><groupIds/></groupFilter>`), models.CodeBadRequest},
			{"group delete bad GUID", op("ABGroupDelete", `<groupFilter><groupIds><guid>123</guid></groupIds></groupFilter>`), models.CodeBadRequest},
			{"group rename to existing", op("ABGroupUpdate", `<groups><Group><groupId>`+group+`</groupId><groupInfo><name>HOME</name></groupInfo><propertiesChanged>GroupName</propertiesChanged></Group></groups>`), models.CodeGroupAlreadyExists},
			{"group rename too long", op("ABGroupUpdate", `<groups><Group><groupId>`+group+`</groupId><groupInfo><name>`+name62+`</name></groupInfo><propertiesChanged>GroupName</propertiesChanged></Group></groups>`), models.CodeBadArgumentLength},
			{"group rename without name", op("ABGroupUpdate", `<groups><Group><groupId>`+group+`</groupId><groupInfo/><propertiesChanged>GroupName</propertiesChanged></Group></groups>`), models.CodeBadRequest},
			{"group rename another user's group", op("ABGroupUpdate", `<groups><Group><groupId>`+malGroup+`</groupId><groupInfo><name>Mine</name></groupInfo><propertiesChanged>GroupName</propertiesChanged></Group></groups>`), models.CodeGroupDoesNotExist},
			{"group update nothing", op("ABGroupUpdate", `<groups><Group><groupId>`+group+`</groupId><groupInfo><name>X</name></groupInfo><propertiesChanged></propertiesChanged></Group></groups>`), models.CodeBadRequest},
			{"another user's contact into my group", gca(group, malContact), models.CodeContactDoesNotExist},
			{"my contact into another user's group", gca(malGroup, bob), models.CodeGroupDoesNotExist},
			{"Me into a group", gca(group, me), models.CodeContactDoesNotExist},
			{"group contact delete not in group", op("ABGroupContactDelete", `<contacts><Contact><contactId>`+bob+`</contactId></Contact></contacts><groupFilter><groupIds><guid>`+group+`</guid></groupIds></groupFilter>`), models.CodeContactDoesNotExist},
			{"group contact delete without group", op("ABGroupContactDelete", `<contacts><Contact><contactId>`+bob+`</contactId></Contact></contacts>`), models.CodeBadRequest},
		}
		snapshot := func() [4]int64 {
			return [4]int64{e.revision(alice), e.revision(mallory), e.Count("outbox", "1 = 1"), e.Count("contacts", "NOT deleted")}
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := snapshot()
				r := e.call(alice, c.body)
				wantFault(t, r, c.code)
				if after := snapshot(); after != before {
					t.Fatalf("state changed: %v -> %v", before, after)
				}
				if c.code == models.CodeBadArgumentLength && strings.Contains(c.name, "group") && !strings.Contains(r.Body, "<parameterFault>GroupName</parameterFault>") {
					t.Fatalf("no parameterFault GroupName:\n%s", r.Body)
				}
			})
		}
		t.Run("no ticket, a foreign ticket text and malformed XML", func(t *testing.T) {
			wantFault(t, e.post(envelope("", op("ABFindAll", "")), ""), models.CodePassportAuthFail)
			wantFault(t, e.post(envelope("t=forged&p=x", op("ABFindAll", "")), ""), models.CodePassportAuthFail)
			wantFault(t, e.post(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ABFindAll>`, ""), models.CodeBadRequest)
		})
		t.Run("another user's book never shows", func(t *testing.T) {
			r := e.findAll(mallory)
			wantOK(t, r, "ABFindAll")
			if strings.Contains(r.Body, bob) || strings.Contains(r.Body, group) || strings.Contains(r.Body, "alice@example.com") {
				t.Fatalf("mallory sees alice's book:\n%s", r.Body)
			}
		})
	})
}

// TestLimits: the configured contact and group limits fault with
// RequestLimitReached.
func TestLimits(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.MaxContacts, cfg.MaxGroups = 1, 1
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		e.account("carol@example.com", "Carol")
		add := func(who string) reply {
			return e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>`+who+`</passportName></contactInfo></Contact></contacts>`))
		}
		wantOK(t, add("bob@example.com"), "ABContactAdd")
		wantFault(t, add("carol@example.com"), models.CodeRequestLimitReached)
		g := func(name string) reply {
			return e.call(alice, op("ABGroupAdd", `<groupAddOptions/><groupInfo><GroupInfo><name>`+name+`</name></GroupInfo></groupInfo>`))
		}
		wantOK(t, g("One"), "ABGroupAdd")
		wantFault(t, g("Two"), models.CodeRequestLimitReached)
	})
}

// TestDeltaCursors: cursors this book cannot serve get FullSyncRequired
// with the wording MSNPSharp matches; pruned tombstones raise the horizon.
func TestDeltaCursors(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.TombstoneHorizon = 30 * time.Minute
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		start := abLastChange(t, e.findAll(alice))
		r := e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName></contactInfo></Contact></contacts>`))
		wantOK(t, r, "ABContactAdd")
		bob := resultGUID(t, r)
		wantOK(t, e.call(alice, op("ABContactDelete", `<contacts><Contact><contactId>`+bob+`</contactId></Contact></contacts>`)), "ABContactDelete")
		now := abLastChange(t, e.findAll(alice))

		t.Run("cursor from the future", func(t *testing.T) {
			r := e.delta(alice, "2030-01-01T00:00:00.0000000Z")
			wantFault(t, r, models.CodeFullSyncRequired)
			if !strings.Contains(r.Body, "Need to do full sync") || !strings.Contains(r.Body, "Full sync required") {
				t.Fatalf("wording MSNPSharp matches is missing:\n%s", r.Body)
			}
		})
		t.Run("cursor from before the book", func(t *testing.T) {
			wantFault(t, e.delta(alice, "2001-01-01T00:00:00-08:00"), models.CodeFullSyncRequired)
		})
		t.Run("tombstone served before pruning", func(t *testing.T) {
			r := e.delta(alice, start)
			wantOK(t, r, "ABFindAll")
			if !strings.Contains(r.Body, "<contactId>"+bob+"</contactId>") || !strings.Contains(r.Body, "<fDeleted>true</fDeleted>") {
				t.Fatalf("no tombstone:\n%s", r.Body)
			}
		})
		t.Run("after pruning the old cursor needs a full sync, the new one works", func(t *testing.T) {
			e.Reads.Add(3600) // an hour later
			n, err := e.Store.PruneTombstones(context.Background(), 30*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Fatalf("nothing pruned")
			}
			wantFault(t, e.delta(alice, start), models.CodeFullSyncRequired)
			r := e.delta(alice, now)
			wantOK(t, r, "ABFindAll")
			if strings.Contains(r.Body, "<Contact>") {
				t.Fatalf("delta at the latest cursor not empty:\n%s", r.Body)
			}
		})
	})
}

// TestPagedAndABAdd covers WLM 2009's ABFindContactsPaged and ABAdd.
func TestPagedAndABAdd(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		wantOK(t, e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><emails><ContactEmail><contactEmailType>ContactEmailPersonal</contactEmailType><email>Friend@Mail.example</email></ContactEmail></emails><displayName>Pen Friend</displayName></contactInfo></Contact></contacts>`)), "ABContactAdd")
		paged := `<ABFindContactsPaged xmlns="http://www.msn.com/webservices/AddressBook"><filterOptions><DeltasOnly>false</DeltasOnly><LastChanged>0001-01-01T00:00:00.0000000-08:00</LastChanged><ContactFilter><IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter></filterOptions><abView>MessengerClient8</abView><extendedContent>AB AllGroups CircleResult</extendedContent></ABFindContactsPaged>`
		r := e.call(alice, paged)
		wantOK(t, r, "ABFindContactsPaged")
		golden(t, "findcontactspaged.xml", r.Body)
		for _, want := range []string{"<ABFindContactsPagedResult><Groups />", "<Contacts><Contact>", "<CircleResult><CircleTicket /></CircleResult><Ab><abId>", "<email>friend@mail.example</email><isMessengerEnabled>false</isMessengerEnabled>", "<isMessengerUser>false</isMessengerUser>"} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("paged answer lacks %s", want)
			}
		}
		cursor := abLastChange(t, reply{Body: strings.Replace(r.Body, "<Ab>", "<ab>", 1)})
		r = e.call(alice, strings.Replace(strings.Replace(paged, "<DeltasOnly>false", "<DeltasOnly>true", 1), "0001-01-01T00:00:00.0000000-08:00", cursor, 1))
		wantOK(t, r, "ABFindContactsPaged")
		if !strings.Contains(r.Body, "<Groups /><Contacts />") {
			t.Fatalf("paged delta not empty:\n%s", r.Body)
		}

		r = e.call(alice, `<ABAdd xmlns="http://www.msn.com/webservices/AddressBook"><abInfo><name/><ownerPuid>0</ownerPuid><ownerEmail>alice@example.com</ownerEmail><fDefault>true</fDefault></abInfo></ABAdd>`)
		wantOK(t, r, "ABAdd")
		golden(t, "abadd.xml", r.Body)
		// An imported account without its Me contact is repaired by ABAdd.
		if err := e.Store.DB.Exec("DELETE FROM contacts WHERE owner_id = ? AND contact_key = 'me'", alice.ID).Error; err != nil {
			t.Fatal(err)
		}
		wantOK(t, e.call(alice, `<ABAdd xmlns="http://www.msn.com/webservices/AddressBook"><abInfo><ownerEmail>alice@example.com</ownerEmail></abInfo></ABAdd>`), "ABAdd")
		if n := e.Count("contacts", "owner_id = ? AND contact_key = 'me' AND guid = ?", alice.ID, alice.MeContactGUID); n != 1 {
			t.Fatalf("Me contact not restored")
		}
	})
}
