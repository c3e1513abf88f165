package sharing_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/testenv"
)

// abContactAddBody is pidgin 2.10.1's ABContactAdd with allow-list
// management.
func abContactAddBody(passport string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>x</TicketToken></ABAuthHeader></soap:Header><soap:Body><ABContactAdd xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact xmlns="http://www.msn.com/webservices/AddressBook"><contactInfo><contactType>LivePending</contactType><passportName>` + passport + `</passportName><isMessengerUser>true</isMessengerUser><MessengerMemberInfo><DisplayName>x</DisplayName></MessengerMemberInfo></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options></ABContactAdd></soap:Body></soap:Envelope>`
}

// TestContactAddResolvesOwnersInvitation: A adds B, then B adds A with
// allow-list management. Putting A on B's Allow list follows the rule of
// AddMember Allow: B's Pending entry for A is resolved (pidgin 2.10.1
// would otherwise ask B to authorize A at every sign-in, F4), and B's
// events are the ones AddMember Allow emits.
func TestContactAddResolvesOwnersInvitation(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		alice := e.account("alice@example.com", "Alice")
		bob := e.account("bob@example.com", "Bob")
		const abPath = "/abservice/abservice.asmx"

		if r := e.postPath(alice, abPath, abContactAddBody("bob@example.com"), nil); r.Status != 200 {
			t.Fatalf("alice adds bob: %d %s", r.Status, r.Body)
		}
		if got := strings.Join(e.sync(t, bob, "").roles(), " "); got != "Reverse:alice@example.com Pending:alice@example.com" {
			t.Fatalf("bob's memberships after alice's add: %s", got)
		}
		before := len(e.outbox(bob))
		beforeAlice := len(e.outbox(alice))

		if r := e.postPath(bob, abPath, abContactAddBody("alice@example.com"), nil); r.Status != 200 {
			t.Fatalf("bob adds alice: %d %s", r.Status, r.Body)
		}
		t.Run("Bob's Pending no longer holds Alice", func(t *testing.T) {
			if got := strings.Join(e.sync(t, bob, "").roles(), " "); got != "Allow:alice@example.com Reverse:alice@example.com" {
				t.Errorf("bob's memberships: %s", got)
			}
			if got := e.lists(bob)["alice@example.com"]; got != listbits.AL|listbits.RL {
				t.Errorf("bob's lists for alice: %d, want AL|RL", got)
			}
		})
		t.Run("the events are those of AddMember Allow", func(t *testing.T) {
			var seen []string
			for _, ev := range e.outbox(bob)[before:] {
				if ev.Type == events.TypeMembershipChanged {
					seen = append(seen, ev.Data["role"]+"/"+ev.Data["op"]+"/"+ev.Data["member"])
					if len(ev.NS) == 0 || ev.NS[len(ev.NS)-1].Command != "NOT" {
						t.Errorf("membership.changed without the NOT hint: %+v", ev.NS)
					}
				}
			}
			if strings.Join(seen, " ") != "Allow/added/alice@example.com Pending/removed/alice@example.com" {
				t.Errorf("bob's membership events: %v", seen)
			}
			var vis, rev []string
			for _, ev := range e.outbox(alice)[beforeAlice:] {
				switch ev.Type {
				case events.TypeVisibilityChanged:
					vis = append(vis, ev.Data["role"]+"/"+ev.Data["op"]+"/"+ev.Actor.Email)
				case events.TypeReverseAdded:
					rev = append(rev, ev.Actor.Email)
				}
			}
			if strings.Join(vis, " ") != "Allow/added/bob@example.com" || strings.Join(rev, " ") != "bob@example.com" {
				t.Errorf("alice's events: visibility %v, reverse %v", vis, rev)
			}
		})
	})
}
