package nsapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

type client struct {
	t    *testing.T
	base string
	key  string
}

func (c client) do(method, path, body string) (int, map[string]any, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

// addContact writes an address-book row of owner for target the way the AB
// service stores one (key passport:<email>, rev = owner's new revision).
func addContact(tx *store.Txn, owner int64, target *models.Account, messenger, deleted bool, annotations string) (*models.Contact, error) {
	id := target.ID
	c := &models.Contact{
		OwnerID: owner, GUID: "guid-" + target.EmailLower + "-" + time.Now().Format("150405.000000000"), Key: "passport:" + target.EmailLower,
		ContactAccountID: &id, ContactType: models.ContactTypeRegular, PassportName: target.EmailLower,
		Network: models.NetworkPassport, CID: target.CID, DisplayName: target.DisplayName, IsMessengerUser: messenger,
		Annotations: annotations, Deleted: deleted, Rev: tx.Rev(owner), CreatedAt: tx.Now, UpdatedAt: tx.Now,
	}
	return c, tx.DB.Create(c).Error
}

// eventWait bounds the wait for an event that must come. It only delays a
// failing run: the relay publishes within milliseconds of the commit, but CI
// runs many packages, each with its own broker, on two cores.
const eventWait = 15 * time.Second

func TestNSUserEndpoints(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		st := s.Store
		ctx := context.Background()
		api := client{t: t, base: "http://" + s.NSAddr + "/ns/v1", key: cfg.NSKey}

		alice := testenv.NewAccount(t, s, "Alice@Example.com", "x", "Alice")
		bob := testenv.NewAccount(t, s, "bob@example.com", "x", "Bob")
		carol := testenv.NewAccount(t, s, "carol@example.com", "x", "Carol")
		dave := testenv.NewAccount(t, s, "dave@example.com", "x", "Dave")
		erin := testenv.NewAccount(t, s, "erin@example.com", "x", "Erin")
		frank := testenv.NewAccount(t, s, "frank@example.com", "x", "Frank")

		// Alice's lists: bob FL+AL+RL (nicknamed, in "Friends"), carol FL+BL,
		// dave RL+PL (he added her, she has not answered), erin a deleted
		// contact and a deleted Allow, frank in the book but not a
		// messenger contact.
		var bobContact *models.Contact
		err := st.Write(ctx, func(tx *store.Txn) error {
			if err := tx.Bump(alice.ID, bob.ID, carol.ID, dave.ID); err != nil {
				return err
			}
			var err error
			if bobContact, err = addContact(tx, alice.ID, bob, true, false, `[{"name":"AB.NickName","value":"Bobby"}]`); err != nil {
				return err
			}
			if _, err := addContact(tx, alice.ID, carol, true, false, "[]"); err != nil {
				return err
			}
			if _, err := addContact(tx, alice.ID, erin, true, true, "[]"); err != nil {
				return err
			}
			if _, err := addContact(tx, alice.ID, frank, false, false, "[]"); err != nil {
				return err
			}
			g := &models.Group{OwnerID: alice.ID, GUID: "group-friends", Name: "Friends", NameLower: "friends", Annotations: "[]", Rev: tx.Rev(alice.ID), CreatedAt: tx.Now, UpdatedAt: tx.Now}
			if err := tx.DB.Create(g).Error; err != nil {
				return err
			}
			g2 := &models.Group{OwnerID: alice.ID, GUID: "group-empty", Name: "Empty", NameLower: "empty", Annotations: "[]", Rev: tx.Rev(alice.ID), CreatedAt: tx.Now, UpdatedAt: tx.Now}
			if err := tx.DB.Create(g2).Error; err != nil {
				return err
			}
			if err := tx.DB.Create(&models.ContactGroup{ContactID: bobContact.ID, GroupID: g.ID}).Error; err != nil {
				return err
			}
			puts := []struct {
				role string
				who  *models.Account
				name string
				msg  string
			}{
				{models.RoleAllow, bob, "", ""}, {models.RoleReverse, bob, "Bob", ""},
				{models.RoleBlock, carol, "", ""},
				{models.RoleReverse, dave, "Dave", ""}, {models.RolePending, dave, "Dave", "add me?"},
				{models.RoleAllow, erin, "", ""},
			}
			for _, p := range puts {
				if _, _, err := tx.PutMember(alice.ID, p.role, store.PassportRef(p.who), p.name, p.msg, nil); err != nil {
					return err
				}
			}
			if _, err := tx.RemoveMember(alice.ID, models.RoleAllow, store.PassportRef(erin)); err != nil {
				return err
			}
			// Who has Alice on their FL: bob, carol (whom she blocks), dave.
			for _, w := range []*models.Account{bob, carol, dave} {
				if _, err := addContact(tx, w.ID, alice, true, false, "[]"); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("missing or wrong NS key is 401", func(t *testing.T) {
			for _, key := range []string{"", "wrong"} {
				c := api
				c.key = key
				for _, p := range []string{"/users/alice@example.com/profile", "/users/alice@example.com/lists", "/users/alice@example.com/privacy", "/users/alice@example.com/watchers"} {
					if code, m, _ := c.do("GET", p, ""); code != 401 || m["error"] != "unauthorized" {
						t.Errorf("key %q %s: %d %v", key, p, code, m)
					}
				}
				if code, _, _ := c.do("PUT", "/users/alice@example.com/privacy", `{"blp":"BL"}`); code != 401 {
					t.Errorf("PUT with key %q: %d", key, code)
				}
			}
		})

		t.Run("unknown user is 404 and a malformed address 400 on every endpoint", func(t *testing.T) {
			for _, m := range []struct{ method, path, body string }{
				{"GET", "profile", ""}, {"PUT", "profile", `{"display_name":"x"}`}, {"GET", "lists", ""},
				{"GET", "privacy", ""}, {"PUT", "privacy", `{"blp":"BL"}`}, {"GET", "watchers", ""},
			} {
				if code, body, _ := api.do(m.method, "/users/nobody@example.com/"+m.path, m.body); code != 404 || body["error"] != "not_found" {
					t.Errorf("%s %s unknown: %d %v", m.method, m.path, code, body)
				}
				if code, body, _ := api.do(m.method, "/users/not-an-address/"+m.path, m.body); code != 400 || body["error"] != "bad_request" {
					t.Errorf("%s %s malformed: %d %v", m.method, m.path, code, body)
				}
			}
		})

		t.Run("profile carries the profile MSG fields and a working MSPAuth", func(t *testing.T) {
			code, _, raw := api.do("GET", "/users/ALICE@example.com/profile", "")
			if code != 200 {
				t.Fatalf("%d %s", code, raw)
			}
			var p struct {
				Email       string `json:"email"`
				CID         int64  `json:"cid"`
				PUID        uint64 `json:"puid"`
				High        uint32 `json:"member_id_high"`
				Low         uint32 `json:"member_id_low"`
				DisplayName string `json:"display_name"`
				MSPAuth     string `json:"mspauth"`
				BLP, GTC    string
				Created     time.Time `json:"created"`
				Revision    string    `json:"revision"`
				Disabled    bool      `json:"disabled"`
			}
			if err := json.Unmarshal([]byte(raw), &p); err != nil {
				t.Fatal(err)
			}
			puid := alice.PUIDUnsigned()
			if p.Email != "Alice@Example.com" || p.CID != alice.CID || p.PUID != puid || p.High != uint32(puid>>32) || p.Low != uint32(puid) ||
				p.DisplayName != "Alice" || p.BLP != "AL" || p.GTC != "A" || p.Disabled || p.Created.IsZero() || p.Revision == "" {
				t.Errorf("profile: %s", raw)
			}
			if strings.ContainsAny(p.MSPAuth, "&=") || p.MSPAuth == "" {
				t.Errorf("mspauth must be the bare t= part: %q", p.MSPAuth)
			}
			pr, err := s.Deps.Auth.Verify(ctx, p.MSPAuth, auth.AudMessenger)
			if err != nil || pr.AccountID != alice.ID {
				t.Errorf("MSPAuth does not authenticate alice: %v %+v", err, pr)
			}
		})

		t.Run("lists give MSNP bits, nickname, groups and the contact GUID", func(t *testing.T) {
			code, _, raw := api.do("GET", "/users/alice@example.com/lists", "")
			if code != 200 {
				t.Fatalf("%d %s", code, raw)
			}
			var l nsclient.Lists
			if err := json.Unmarshal([]byte(raw), &l); err != nil {
				t.Fatal(err)
			}
			bits := map[string]int{}
			for _, c := range l.Contacts {
				bits[c.Email] = c.Lists
			}
			want := map[string]int{
				"bob@example.com":   listbits.FL | listbits.AL | listbits.RL,
				"carol@example.com": listbits.FL | listbits.BL,
				"dave@example.com":  listbits.RL | listbits.PL,
			}
			if len(bits) != len(want) {
				t.Errorf("contacts %v, want %v", bits, want)
			}
			for k, v := range want {
				if bits[k] != v {
					t.Errorf("%s: lists %d, want %d", k, bits[k], v)
				}
			}
			b := l.Contacts[0]
			if b.Email != "bob@example.com" || b.Network != 1 || b.NickName != "Bobby" || b.DisplayName != "Bob" ||
				b.ContactGUID != bobContact.GUID || b.CID != bob.CID || len(b.Groups) != 1 || b.Groups[0] != (nsclient.Group{GUID: "group-friends", Name: "Friends"}) {
				t.Errorf("bob: %+v", b)
			}
			d := l.Contacts[2]
			if d.ContactGUID != "" || d.InviteMessage != "add me?" || d.DisplayName != "Dave" || len(d.Groups) != 0 {
				t.Errorf("dave: %+v", d)
			}
			if len(l.Groups) != 2 || l.Groups[0].Name != "Empty" || l.Groups[1].Name != "Friends" {
				t.Errorf("groups: %+v", l.Groups)
			}
			// The other side: bob's lists hold alice on FL only.
			_, _, raw = api.do("GET", "/users/bob@example.com/lists", "")
			if !strings.Contains(raw, `"email":"alice@example.com","network":1,"lists":1,`) {
				t.Errorf("bob's lists: %s", raw)
			}
		})

		// Events for alice, to check PRP/BLP emit (and only when something changed).
		nc, err := nats.Connect(s.NATSURL)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		evs := make(chan *nats.Msg, 16)
		sub, err := nc.ChanSubscribe(events.Subject(alice.CID), evs)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		// A core subscription only sees what is published after the broker
		// registered it: wait for that (a round trip) before any change.
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		nextEvent := func(t *testing.T) events.Event {
			t.Helper()
			select {
			case m := <-evs:
				var ev events.Event
				if err := json.Unmarshal(m.Data, &ev); err != nil {
					t.Fatal(err)
				}
				return ev
			case <-time.After(eventWait):
				t.Fatalf("no event within %v", eventWait)
			}
			return events.Event{}
		}
		// noEvent checks that nothing was written for alice since the outbox
		// held before rows (the outbox is what the relay publishes, so this
		// does not depend on timing) and that nothing arrives either.
		outboxRows := func() int64 {
			var n int64
			if err := st.DB.Raw(`SELECT count(*) FROM outbox WHERE subject = ?`, events.Subject(alice.CID)).Scan(&n).Error; err != nil || n == 0 {
				t.Fatalf("alice's outbox rows: %d, %v (her privacy change wrote one)", n, err)
			}
			return n
		}
		noEvent := func(t *testing.T, before int64) {
			t.Helper()
			if n := outboxRows(); n != before {
				t.Errorf("%d events written for alice, want none", n-before)
			}
			select {
			case m := <-evs:
				t.Errorf("unexpected event %s", m.Data)
			case <-time.After(300 * time.Millisecond):
			}
		}

		t.Run("watchers apply the visibility rule under BLP AL", func(t *testing.T) {
			code, _, raw := api.do("GET", "/users/alice@example.com/watchers", "")
			if code != 200 {
				t.Fatalf("%d %s", code, raw)
			}
			var w struct {
				BLP      string             `json:"blp"`
				Watchers []nsclient.Watcher `json:"watchers"`
			}
			if err := json.Unmarshal([]byte(raw), &w); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, x := range w.Watchers {
				got[x.Email] = x.CanSee
			}
			want := map[string]bool{"bob@example.com": true, "carol@example.com": false, "dave@example.com": true}
			if w.BLP != "AL" || len(got) != 3 || got["bob@example.com"] != true || got["carol@example.com"] != false || got["dave@example.com"] != true {
				t.Errorf("watchers %v (blp %s), want %v", got, w.BLP, want)
			}
		})

		t.Run("PUT privacy BL stores it, emits privacy.changed and hides non-allowed watchers", func(t *testing.T) {
			before, _ := st.AccountByID(ctx, alice.ID)
			code, m, raw := api.do("PUT", "/users/alice@example.com/privacy", `{"blp":"BL"}`)
			if code != 200 || m["blp"] != "BL" || m["gtc"] != "A" {
				t.Fatalf("%d %s", code, raw)
			}
			ev := nextEvent(t)
			if ev.Type != events.TypePrivacyChanged || ev.Data["blp"] != "BL" || len(ev.NS) != 1 || ev.NS[0].Command != "NOT" {
				t.Errorf("event: %+v", ev)
			}
			after, _ := st.AccountByID(ctx, alice.ID)
			if after.BLP != "BL" || after.Revision <= before.Revision || ev.Revision != models.FormatRevision(after.Revision) {
				t.Errorf("account blp %s rev %d -> %d, event rev %s", after.BLP, before.Revision, after.Revision, ev.Revision)
			}
			var meRev int64
			st.DB.Raw(`SELECT rev FROM contacts WHERE owner_id = ? AND contact_key = 'me'`, alice.ID).Scan(&meRev)
			if meRev != after.Revision {
				t.Errorf("Me contact rev %d, account %d: deltas would miss the change", meRev, after.Revision)
			}
			_, _, raw = api.do("GET", "/users/alice@example.com/watchers", "")
			if !strings.Contains(raw, `"email":"bob@example.com"`) || strings.Count(raw, `"can_see":true`) != 1 {
				t.Errorf("under BL only bob (allowed) may see alice: %s", raw)
			}
			if code, m, _ := api.do("GET", "/users/alice@example.com/privacy", ""); code != 200 || m["blp"] != "BL" || m["gtc"] != "A" {
				t.Errorf("GET privacy: %d %v", code, m)
			}
		})

		t.Run("re-sending the same BLP changes nothing and emits nothing", func(t *testing.T) {
			beforeRows := outboxRows()
			before, _ := st.AccountByID(ctx, alice.ID)
			if code, _, raw := api.do("PUT", "/users/alice@example.com/privacy", `{"blp":"BL"}`); code != 200 {
				t.Fatalf("%d %s", code, raw)
			}
			after, _ := st.AccountByID(ctx, alice.ID)
			if after.Revision != before.Revision {
				t.Errorf("revision moved %d -> %d", before.Revision, after.Revision)
			}
			noEvent(t, beforeRows)
		})

		t.Run("bad privacy bodies are 400 and change nothing", func(t *testing.T) {
			beforeRows := outboxRows()
			for _, body := range []string{`{"blp":"XX"}`, `{"gtc":"Q"}`, `{}`, `not json`, `{"blp":"AL","extra":1}`, `{"blp":1}`, `{"blp":"AL"}{"blp":"BL"}`, `[]`} {
				code, m, raw := api.do("PUT", "/users/alice@example.com/privacy", body)
				if code != 400 || m["error"] != "bad_request" || m["message"] == "" {
					t.Errorf("%s: %d %s", body, code, raw)
				}
			}
			a, _ := st.AccountByID(ctx, alice.ID)
			if a.BLP != "BL" {
				t.Errorf("blp changed to %s", a.BLP)
			}
			noEvent(t, beforeRows)
		})

		t.Run("PUT profile is PRP MFN: display name, revision, Me contact, profile.changed", func(t *testing.T) {
			code, m, raw := api.do("PUT", "/users/alice@example.com/profile", `{"display_name":"Alice & Co"}`)
			if code != 200 || m["display_name"] != "Alice & Co" {
				t.Fatalf("%d %s", code, raw)
			}
			ev := nextEvent(t)
			if ev.Type != events.TypeProfileChanged || ev.Recipient.DisplayName != "Alice & Co" || ev.Data["display_name"] != "Alice & Co" || ev.ToActorSessions {
				t.Errorf("event: %+v", ev)
			}
			a, _ := st.AccountByID(ctx, alice.ID)
			var me models.Contact
			st.DB.Where("owner_id = ? AND contact_key = 'me'", alice.ID).First(&me)
			if a.DisplayName != "Alice & Co" || me.DisplayName != "Alice & Co" || me.Rev != a.Revision {
				t.Errorf("account %q, me %q rev %d/%d", a.DisplayName, me.DisplayName, me.Rev, a.Revision)
			}
		})

		t.Run("bad profile bodies are 400 and change nothing", func(t *testing.T) {
			beforeRows := outboxRows()
			for _, body := range []string{`{}`, `{"display_name":""}`, `{"display_name":"a\nb"}`, `{"display_name":"` + strings.Repeat("x", 400) + `"}`, `{"name":"x"}`, `nope`} {
				code, m, raw := api.do("PUT", "/users/alice@example.com/profile", body)
				if code != 400 || m["error"] != "bad_request" {
					t.Errorf("%.40s: %d %s", body, code, raw)
				}
			}
			a, _ := st.AccountByID(ctx, alice.ID)
			if a.DisplayName != "Alice & Co" {
				t.Errorf("display name changed to %q", a.DisplayName)
			}
			noEvent(t, beforeRows)
		})
	})
}
