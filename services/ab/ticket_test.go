package ab_test

import (
	"context"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// TestTicketStateOnEveryFind: a delta reads the caller's account row in
// the same round trip as the changed rows, so the ticket's account checks
// (password changed since, account disabled or gone, wrong audience) are
// made on that row. Each failing ticket gets AuthFailed and none of the
// book, on both find forms, full and delta, and before any complaint about
// the request itself.
func TestTicketStateOnEveryFind(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, cfg)
		ctx := context.Background()
		alice := e.account("alice@example.com", "Alice")
		e.account("bob@example.com", "Bob")
		cursor := abLastChange(t, e.findAll(alice))
		wantOK(t, e.call(alice, op("ABContactAdd", `<contacts><Contact><contactInfo><passportName>bob@example.com</passportName></contactInfo></Contact></contacts>`)), "ABContactAdd")

		delta := op("ABFindAll", `<abView>Full</abView><deltasOnly>true</deltasOnly><lastChange>`+cursor+`</lastChange>`)
		paged := op("ABFindContactsPaged", `<abView>MessengerClient8</abView><extendedContent>AB AllGroups CircleResult</extendedContent><filterOptions><DeltasOnly>true</DeltasOnly><LastChanged>`+cursor+`</LastChanged><ContactFilter><IncludeHiddenContacts>true</IncludeHiddenContacts></ContactFilter></filterOptions>`)
		requests := map[string]string{
			"delta":            delta,
			"paged delta":      paged,
			"full":             op("ABFindAll", `<abView>Full</abView><deltasOnly>false</deltasOnly>`),
			"malformed cursor": op("ABFindAll", `<deltasOnly>true</deltasOnly><lastChange>yesterday</lastChange>`),
			"malformed bool":   op("ABFindAll", `<deltasOnly>maybe</deltasOnly>`),
			"foreign abId":     strings.Replace(delta, zero, "11111111-2222-3333-4444-555555555555", 1),
		}
		// With a good ticket the deltas carry bob and the bad requests
		// get their own faults.
		good := e.ticket(alice)
		for _, name := range []string{"delta", "paged delta"} {
			r := e.post(envelope(good, requests[name]), "")
			if r.Status != 200 || !strings.Contains(r.Body, "bob@example.com") {
				t.Fatalf("%s with a good ticket: %d\n%s", name, r.Status, r.Body)
			}
		}
		wantFault(t, e.post(envelope(good, requests["malformed cursor"]), ""), models.CodeBadRequest)
		wantFault(t, e.post(envelope(good, requests["foreign abId"]), ""), models.CodeInvalidArgument)
		// The MSNP13 cookie form (messenger.msn.com ticket) serves a delta too.
		cookie := e.Deps.Tickets.Issue(alice.ID, alice.TokenVersion, auth.AudMessenger).T
		if r := e.post(envelope("", delta), cookie); r.Status != 200 || !strings.Contains(r.Body, "bob@example.com") {
			t.Fatalf("cookie delta: %d\n%s", r.Status, r.Body)
		}

		refused := func(t *testing.T, ticket string) {
			t.Helper()
			for name, body := range requests {
				r := e.post(envelope(ticket, body), "")
				wantFault(t, r, models.CodePassportAuthFail)
				if strings.Contains(r.Body, "bob@example.com") || strings.Contains(r.Body, "alice@example.com") {
					t.Fatalf("%s: a refused ticket saw the book:\n%s", name, r.Body)
				}
			}
		}
		t.Run("ticket for another audience", func(t *testing.T) {
			refused(t, e.Deps.Tickets.Issue(alice.ID, alice.TokenVersion, auth.AudStorage).Text())
		})
		t.Run("ticket for an account that does not exist", func(t *testing.T) {
			refused(t, e.Deps.Tickets.Issue(alice.ID+1000, 1, auth.AudContacts).Text())
		})
		t.Run("ticket from before a password change", func(t *testing.T) {
			if err := e.Store.SetPassword(ctx, alice.ID, "x", true); err != nil {
				t.Fatal(err)
			}
			refused(t, good)
			fresh := e.Deps.Tickets.Issue(alice.ID, alice.TokenVersion+1, auth.AudContacts).Text()
			if r := e.post(envelope(fresh, delta), ""); r.Status != 200 || !strings.Contains(r.Body, "bob@example.com") {
				t.Fatalf("new ticket after the change: %d\n%s", r.Status, r.Body)
			}
			good = fresh
		})
		t.Run("disabled account", func(t *testing.T) {
			if err := e.Store.DB.Exec("UPDATE accounts SET disabled = ? WHERE id = ?", true, alice.ID).Error; err != nil {
				t.Fatal(err)
			}
			refused(t, good)
		})
	})
}
