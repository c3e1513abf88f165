package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// adminEnv points `abch` commands at cfg's database and returns a runner.
func adminEnv(t *testing.T, cfg config.Config) func(stdin string, args ...string) (string, string, int) {
	t.Setenv("ABCH_DATA_DIR", cfg.DataDir)
	t.Setenv("ABCH_DATABASE_URL", cfg.DatabaseURL)
	t.Setenv("ABCH_ARGON2_MEMORY_KIB", "1024")
	t.Setenv("ABCH_ARGON2_TIME", "1")
	t.Setenv("ABCH_LOG_LEVEL", "error")
	t.Setenv("ABCH_LOGIN_FAILURES", fmt.Sprint(cfg.LoginFailuresPerAccount))
	return func(stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		root := cli.NewRoot(&out, &errOut)
		root.SetArgs(args)
		root.SetIn(strings.NewReader(stdin))
		code := 0
		if err := root.ExecuteContext(context.Background()); err != nil {
			fmt.Fprintln(&errOut, "abch:", err)
			code = 1
		}
		return out.String(), errOut.String(), code
	}
}

// signIn posts an RST for email/password from the loopback address and
// returns the messengerclear ticket, or the psf:reqstatus of the fault.
func signIn(t *testing.T, s *server.Server, email, password string) (ticket, reqstatus string) {
	t.Helper()
	body := `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsse:UsernameToken Id="user"><wsse:Username>` + email + `</wsse:Username><wsse:Password>` + password + `</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS"><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST0"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST1"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken></ps:RequestMultipleSecurityTokens></Body></Envelope>`
	resp, err := http.Post("http://"+s.HTTPAddr+"/RST.srf", "text/xml", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := regexp.MustCompile(`Id="Compact1">(t=[^<]*)<`).FindSubmatch(data); m != nil && resp.StatusCode == 200 {
		return strings.ReplaceAll(string(m[1]), "&amp;", "&"), ""
	}
	m := regexp.MustCompile(`<psf:reqstatus>([^<]*)<`).FindSubmatch(data)
	if m == nil || !strings.Contains(string(data), "<faultcode>wsse:FailedAuthentication</faultcode>") {
		t.Fatalf("neither ticket nor FailedAuthentication: %d %s", resp.StatusCode, data)
	}
	return "", string(m[1])
}

// nsGet calls the NS API and returns the status and body.
func nsCall(t *testing.T, s *server.Server, method, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.NSAddr+"/ns/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Config.NSKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(data)
}

func verifyTicket(t *testing.T, s *server.Server, ticket string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"ticket": ticket})
	code, _ := nsCall(t, s, "POST", "/tickets/verify", string(b))
	return code
}

func TestUserAdmin(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		cfg.LoginFailuresPerAccount = 3
		s := testenv.StartServer(t, cfg)
		run := adminEnv(t, cfg)
		ctx := context.Background()

		t.Run("user add reads the password from stdin, and not from an empty stdin", func(t *testing.T) {
			if out, errOut, code := run("s3cret pass\n", "user", "add", "alice@example.com", "--password-stdin", "--name", "Alice"); code != 0 {
				t.Fatalf("exit %d: %s %s", code, out, errOut)
			}
			if tk, status := signIn(t, s, "alice@example.com", "s3cret pass"); tk == "" {
				t.Fatalf("sign-in with the stdin password: %s", status)
			}
			if _, errOut, code := run("", "user", "add", "bob@example.com", "--password-stdin"); code == 0 || !strings.Contains(errOut, "no password") {
				t.Fatalf("empty stdin: exit %d %s", code, errOut)
			}
			if _, errOut, code := run("", "user", "add", "bob@example.com"); code == 0 || !strings.Contains(errOut, "--password-stdin") {
				t.Fatalf("no password and no terminal: exit %d %s", code, errOut)
			}
			if _, _, code := run("bob pw\n", "user", "add", "bob@example.com", "--password-stdin"); code != 0 {
				t.Fatal("bob")
			}
			if _, _, code := run("new pw\r\n", "user", "passwd", "bob@example.com", "--password-stdin"); code != 0 {
				t.Fatal("passwd")
			}
			if tk, _ := signIn(t, s, "bob@example.com", "new pw"); tk == "" {
				t.Fatal("bob cannot sign in with the password set from stdin")
			}
		})

		t.Run("user show prints list sizes, the last sign-in and the lock state", func(t *testing.T) {
			out, errOut, code := run("", "user", "show", "ALICE@example.com")
			if code != 0 {
				t.Fatalf("exit %d %s", code, errOut)
			}
			for _, want := range []string{"email:         alice@example.com", "last sign-in:  20", "from 127.0.0.1", "status:        enabled", "locked:        no", "contacts:      0"} {
				if !strings.Contains(out, want) {
					t.Errorf("no %q in:\n%s", want, out)
				}
			}
			if _, errOut, code := run("", "user", "show", "nobody@example.com"); code == 0 || !strings.Contains(errOut, "no account") {
				t.Errorf("unknown account: exit %d %s", code, errOut)
			}
		})

		t.Run("user disable stops tickets at once and refuses sign-in as an account problem; enable restores sign-in", func(t *testing.T) {
			tk, _ := signIn(t, s, "alice@example.com", "s3cret pass")
			if verifyTicket(t, s, tk) != 200 {
				t.Fatal("fresh ticket refused")
			}
			var before int64
			s.Store.DB.Model(&models.OutboxEvent{}).Select("COALESCE(MAX(id), 0)").Scan(&before)
			if out, _, code := run("", "user", "disable", "alice@example.com"); code != 0 || !strings.Contains(out, "disabled alice@example.com") {
				t.Fatalf("disable: %d %s", code, out)
			}
			var evs []models.OutboxEvent
			s.Store.DB.Where("id > ?", before).Find(&evs)
			if len(evs) != 1 || !strings.Contains(evs[0].Payload, `"type":"account.disabled"`) || !strings.Contains(evs[0].Payload, `"email":"alice@example.com"`) {
				t.Errorf("disable events (the NS closes the sessions): %+v", evs)
			}
			if got := verifyTicket(t, s, tk); got != 403 {
				t.Fatalf("ticket of a disabled account: %d", got)
			}
			if _, status := signIn(t, s, "alice@example.com", "s3cret pass"); status != "0x80048823" {
				t.Fatalf("right password of a disabled account: reqstatus %q", status)
			}
			if _, status := signIn(t, s, "alice@example.com", "wrong"); status != "0x80048821" {
				t.Fatalf("wrong password of a disabled account: reqstatus %q (must not reveal the state)", status)
			}
			if out, _, _ := run("", "user", "show", "alice@example.com"); !strings.Contains(out, "status:        disabled") {
				t.Errorf("show: %s", out)
			}
			if out, _, code := run("", "user", "enable", "alice@example.com"); code != 0 || !strings.Contains(out, "enabled alice@example.com") {
				t.Fatalf("enable: %d %s", code, out)
			}
			if got := verifyTicket(t, s, tk); got != 403 {
				t.Errorf("a ticket from before the disable works again: %d", got)
			}
			if tk2, status := signIn(t, s, "alice@example.com", "s3cret pass"); tk2 == "" || verifyTicket(t, s, tk2) != 200 {
				t.Fatalf("sign-in after enable: %s", status)
			}
			// The failed attempt above counted; clear it for what follows.
			run("", "user", "unlock", "alice@example.com", "--address", "127.0.0.1")
		})

		t.Run("user unlock clears the login throttle", func(t *testing.T) {
			for i := 0; i < cfg.LoginFailuresPerAccount; i++ {
				signIn(t, s, "bob@example.com", "guess")
			}
			if tk, _ := signIn(t, s, "bob@example.com", "new pw"); tk != "" {
				t.Fatal("the right password got through a locked account")
			}
			if out, _, _ := run("", "user", "show", "bob@example.com"); !strings.Contains(out, "locked:        yes") {
				t.Errorf("show does not say locked:\n%s", out)
			}
			// The source address is locked too (same loopback client): unlock both.
			if out, _, code := run("", "user", "unlock", "bob@example.com", "--address", "127.0.0.1"); code != 0 || !strings.Contains(out, "cleared") {
				t.Fatalf("unlock: %d %s", code, out)
			}
			if tk, status := signIn(t, s, "bob@example.com", "new pw"); tk == "" {
				t.Fatalf("right password after unlock: %s", status)
			}
		})

		t.Run("user delete takes the account off every list, with events, in one go", func(t *testing.T) {
			if _, _, code := run("carol pw\n", "user", "add", "carol@example.com", "--password-stdin"); code != 0 {
				t.Fatal("carol")
			}
			alice, _ := s.Store.AccountByEmail(ctx, "alice@example.com")
			bob, _ := s.Store.AccountByEmail(ctx, "bob@example.com")
			carol, _ := s.Store.AccountByEmail(ctx, "carol@example.com")
			// bob has alice on his FL (so alice has bob on RL, PL); alice
			// has carol on her FL; carol blocks alice.
			if _, err := s.Store.AddContacts(ctx, bob.ID, []models.NewContact{{PassportName: "alice@example.com", IsMessengerUser: true}}, true); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Store.AddContacts(ctx, alice.ID, []models.NewContact{{PassportName: "carol@example.com", IsMessengerUser: true}}, false); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Store.AddMembers(ctx, carol.ID, []models.MemberSpec{{Role: models.RoleBlock, Type: models.MemberPassport, Name: "alice@example.com"}}); err != nil {
				t.Fatal(err)
			}
			tk, _ := signIn(t, s, "alice@example.com", "s3cret pass")
			var before int64
			s.Store.DB.Model(&models.OutboxEvent{}).Select("COALESCE(MAX(id), 0)").Scan(&before)

			if _, errOut, code := run("", "user", "delete", "alice@example.com"); code == 0 || !strings.Contains(errOut, "--yes") {
				t.Fatalf("delete without --yes: %d %s", code, errOut)
			}
			out, errOut, code := run("", "user", "delete", "alice@example.com", "--yes")
			if code != 0 {
				t.Fatalf("delete: %d %s", code, errOut)
			}
			if !strings.Contains(out, "removed from bob@example.com's FL, AL") || !strings.Contains(out, "removed from carol@example.com's BL, RL") {
				t.Errorf("delete output:\n%s", out)
			}

			// What the NS and clients see.
			if verifyTicket(t, s, tk) != 403 {
				t.Error("ticket of a deleted account accepted")
			}
			if tk, _ := signIn(t, s, "alice@example.com", "s3cret pass"); tk != "" {
				t.Error("deleted account signs in")
			}
			for _, who := range []string{"bob@example.com", "carol@example.com"} {
				code, body := nsCall(t, s, "GET", "/users/"+who+"/lists", "")
				if code != 200 || strings.Contains(body, "alice@example.com") {
					t.Errorf("%s's lists still name alice: %d %s", who, code, body)
				}
			}
			if code, _ := nsCall(t, s, "GET", "/users/alice@example.com/lists", ""); code != 404 {
				t.Errorf("lists of the deleted account: %d", code)
			}
			// bob's contact is a tombstone, so his next delta sync drops it.
			var c models.Contact
			s.Store.DB.Where("owner_id = ? AND passport_name = ?", bob.ID, "alice@example.com").Find(&c)
			if !c.Deleted || c.ContactAccountID != nil {
				t.Errorf("bob's contact of alice: deleted=%v link=%v", c.Deleted, c.ContactAccountID)
			}
			after, _ := s.Store.AccountByID(ctx, bob.ID)
			if c.Rev != after.Revision || after.Revision <= bob.Revision {
				t.Errorf("bob's revision did not move with the tombstone: %d %d %d", c.Rev, after.Revision, bob.Revision)
			}
			// One event per affected account: RML of the lists it was on, and NOT.
			var rows []models.OutboxEvent
			s.Store.DB.Where("id > ?", before).Order("id").Find(&rows)
			got := map[int64]string{}
			for _, r := range rows {
				got[r.RecipientID] += r.Payload
			}
			if len(rows) != 3 {
				t.Fatalf("%d events, want 3 (bob, carol, alice): %v", len(rows), got)
			}
			if p := got[alice.ID]; !strings.Contains(p, `"type":"account.deleted"`) || !strings.Contains(p, `"ns":[]`) {
				t.Errorf("the deleted account's own event (the NS closes its sessions): %s", p)
			}
			for id, bits := range map[int64]int{bob.ID: listbits.FL | listbits.AL, carol.ID: listbits.BL | listbits.RL} {
				p := got[id]
				for _, want := range []string{`"type":"addressbook.changed"`, `"op":"account.deleted"`, `"command":"RML"`, fmt.Sprintf(`l=\"%d\"`, bits), `"command":"NOT"`} {
					if !strings.Contains(p, want) {
						t.Errorf("event for %d lacks %s: %s", id, want, p)
					}
				}
			}
			var n int64
			s.Store.DB.Model(&models.Contact{}).Where("owner_id = ?", alice.ID).Count(&n)
			if n != 0 {
				t.Errorf("%d contacts of the deleted account remain", n)
			}
			if _, _, code := run("again\n", "user", "add", "alice@example.com", "--password-stdin"); code != 0 {
				t.Error("the address cannot be used again")
			}
			if _, errOut, code := run("", "user", "delete", "nobody@example.com", "--yes"); code == 0 || !strings.Contains(errOut, "no account") {
				t.Errorf("unknown account: %d %s", code, errOut)
			}
		})
	})
}

// TestUserDeleteRacesWithAdds deletes an account while ten others add it to
// their Forward Lists: whichever commits first, no book is left with a live
// contact of the deleted account.
func TestUserDeleteRacesWithAdds(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		ctx := context.Background()
		testenv.NewAccount(t, s, "alice@example.com", "pw", "")
		var adders []*models.Account
		for i := 0; i < 10; i++ {
			adders = append(adders, testenv.NewAccount(t, s, fmt.Sprintf("u%d@example.com", i), "pw", ""))
		}
		var wg sync.WaitGroup
		for i, a := range adders {
			wg.Add(1)
			go func(i int, a *models.Account) {
				defer wg.Done()
				if i == 5 {
					if _, err := s.Store.DeleteAccount(ctx, "alice@example.com"); err != nil {
						t.Errorf("delete: %v", err)
					}
				}
				_, _ = s.Store.AddContacts(ctx, a.ID, []models.NewContact{{PassportName: "alice@example.com", IsMessengerUser: true}}, true)
			}(i, a)
		}
		wg.Wait()
		var live []models.Contact
		s.Store.DB.Where("passport_name = ? AND NOT deleted", "alice@example.com").Find(&live)
		if _, err := s.Store.AccountByEmail(ctx, "alice@example.com"); err == nil {
			t.Fatal("alice still exists")
		}
		if len(live) != 0 {
			t.Errorf("%d live contacts of the deleted account remain", len(live))
		}
	})
}
