package e2e_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/importer"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/testenv"
)

// migDir is the Escargot migration fixture (fixtures/migration/escargot,
// EXPECTED.md).
func migDir(t *testing.T) string {
	t.Helper()
	return testenv.EscargotDir(t)
}

// migUser is the part of expected-sample.json a client can see.
type migUser struct {
	Email   string `json:"email"`
	Privacy struct{ BLP, GTC string }
	Groups  []struct {
		Name string `json:"name"`
	} `json:"groups"`
	Contacts []struct {
		Email  string   `json:"email"`
		Lists  []string `json:"lists"`
		Groups []struct {
			Name string `json:"name"`
		} `json:"groups"`
		Nickname        *string `json:"nickname"`
		IsMessengerUser bool    `json:"is_messenger_user"`
	} `json:"contacts"`
}

// view is what one account's client sees: the four membership roles, the
// address book contacts and groups, and the Me contact's privacy annotations.
type view struct {
	Roles    map[string][]string // role -> sorted lower-case passport names
	Contacts map[string]string   // lower-case e-mail -> "messenger=..|nick=..|groups=.."
	Groups   []string            // sorted group names
	BLP, GTC string
}

func wantView(u migUser, repaired bool) view {
	v := view{Roles: map[string][]string{}, Contacts: map[string]string{}}
	role := map[string]string{"AL": "Allow", "BL": "Block", "RL": "Reverse", "PL": "Pending"}
	add := func(r, e string) { v.Roles[r] = append(v.Roles[r], strings.ToLower(e)) }
	for _, c := range u.Contacts {
		for _, l := range c.Lists {
			if repaired && strings.EqualFold(u.Email, "user05@example.com") && c.Email == "user40@example.com" && (l == "RL" || l == "PL") {
				continue
			}
			if r, ok := role[l]; ok {
				add(r, c.Email)
			}
			if l == "FL" {
				v.Contacts[strings.ToLower(c.Email)] = contactKey(c.IsMessengerUser, c.Nickname, c.Groups)
			}
		}
	}
	if repaired && strings.EqualFold(u.Email, "user12@example.com") {
		add("Reverse", "user32@example.com")
		add("Pending", "user32@example.com")
	}
	for _, g := range u.Groups {
		v.Groups = append(v.Groups, g.Name)
	}
	v.BLP = map[string]string{"AL": "1", "BL": "0"}[u.Privacy.BLP]
	v.GTC = map[string]string{"A": "1", "N": "0"}[u.Privacy.GTC]
	return v.sorted()
}

func contactKey(messenger bool, nick *string, groups []struct {
	Name string `json:"name"`
}) string {
	n := ""
	if nick != nil {
		n = *nick
	}
	var gs []string
	for _, g := range groups {
		gs = append(gs, g.Name)
	}
	sort.Strings(gs)
	b, _ := json.Marshal([]any{messenger, n, gs})
	return string(b)
}

func (v view) sorted() view {
	for r := range v.Roles {
		sort.Strings(v.Roles[r])
	}
	sort.Strings(v.Groups)
	return v
}

// child returns the first child element of e with the local name tag.
func child(e *etree.Element, tag string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

func text(e *etree.Element, path ...string) string {
	for _, p := range path {
		e = child(e, p)
	}
	if e == nil {
		return ""
	}
	return e.Text()
}

// descendants returns every element under e with the local name tag.
func descendants(e *etree.Element, tag string) []*etree.Element {
	var out []*etree.Element
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			out = append(out, c)
		}
		out = append(out, descendants(c, tag)...)
	}
	return out
}

func parse(t *testing.T, body string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(body); err != nil {
		t.Fatalf("response is not XML: %v\n%s", err, body)
	}
	return doc.Root()
}

// gotView reads an account's lists through FindMembership and ABFindAll
// over HTTP, as a client would.
func gotView(t *testing.T, c *client) view {
	v := view{Roles: map[string][]string{}, Contacts: map[string]string{}}
	fm := parse(t, findMembership(c))
	for _, m := range descendants(fm, "Membership") {
		r := text(m, "MemberRole")
		for _, mem := range descendants(m, "Member") {
			if text(mem, "Deleted") == "true" {
				continue
			}
			name := text(mem, "PassportName")
			if name == "" {
				t.Errorf("%s: %s member without PassportName", c.email, r)
			}
			v.Roles[r] = append(v.Roles[r], strings.ToLower(name))
		}
	}
	ab := parse(t, findAll(c, ""))
	groupName := map[string]string{}
	for _, g := range descendants(ab, "Group") {
		if text(g, "fDeleted") == "true" {
			continue
		}
		n := text(g, "groupInfo", "name")
		groupName[text(g, "groupId")] = n
		v.Groups = append(v.Groups, n)
	}
	for _, ct := range descendants(ab, "Contact") {
		if text(ct, "fDeleted") == "true" {
			continue
		}
		info := child(ct, "contactInfo")
		annot := map[string]string{}
		for _, a := range descendants(info, "Annotation") {
			annot[text(a, "Name")] = text(a, "Value")
		}
		if text(info, "contactType") == "Me" {
			v.BLP, v.GTC = annot["MSN.IM.BLP"], annot["MSN.IM.GTC"]
			continue
		}
		email := text(info, "passportName")
		if email == "" { // an e-mail-only contact carries its address in emails
			for _, e := range descendants(info, "email") {
				email = e.Text()
			}
		}
		var nick *string
		if n, ok := annot["AB.NickName"]; ok {
			nick = &n
		}
		var gs []struct {
			Name string `json:"name"`
		}
		for _, g := range descendants(child(info, "groupIds"), "guid") {
			n, ok := groupName[g.Text()]
			if !ok {
				t.Errorf("%s → %s: unknown group id %s", c.email, email, g.Text())
			}
			gs = append(gs, struct {
				Name string `json:"name"`
			}{n})
		}
		key := strings.ToLower(email)
		if _, dup := v.Contacts[key]; dup {
			t.Errorf("%s: contact %s listed twice", c.email, key)
		}
		v.Contacts[key] = contactKey(text(info, "isMessengerUser") == "true", nick, gs)
	}
	return v.sorted()
}

// diff reports every difference between want and got for one account.
func diff(t *testing.T, who string, want, got view) {
	t.Helper()
	for _, r := range []string{"Allow", "Block", "Reverse", "Pending"} {
		if strings.Join(want.Roles[r], " ") != strings.Join(got.Roles[r], " ") {
			t.Errorf("%s %s role:\n  want %q\n  got  %q", who, r, want.Roles[r], got.Roles[r])
		}
	}
	for r := range got.Roles {
		if _, ok := want.Roles[r]; !ok && r != "Allow" && r != "Block" && r != "Reverse" && r != "Pending" {
			t.Errorf("%s: unexpected role %s: %q", who, r, got.Roles[r])
		}
	}
	for e, w := range want.Contacts {
		if g, ok := got.Contacts[e]; !ok {
			t.Errorf("%s: contact %s missing from ABFindAll (want %s)", who, e, w)
		} else if g != w {
			t.Errorf("%s → %s: [messenger, nickname, groups]\n  want %s\n  got  %s", who, e, w, g)
		}
	}
	for e, g := range got.Contacts {
		if _, ok := want.Contacts[e]; !ok {
			t.Errorf("%s: unexpected contact %s %s", who, e, g)
		}
	}
	if strings.Join(want.Groups, "|") != strings.Join(got.Groups, "|") {
		t.Errorf("%s groups:\n  want %q\n  got  %q", who, want.Groups, got.Groups)
	}
	if want.BLP != got.BLP || want.GTC != got.GTC {
		t.Errorf("%s: Me BLP/GTC %q/%q, want %q/%q", who, got.BLP, got.GTC, want.BLP, want.GTC)
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func importSample(t *testing.T, s *server.Server, repair bool) *importer.Summary {
	t.Helper()
	src, err := importer.OpenEscargot(context.Background(), filepath.Join(migDir(t), "escargot-sample.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.Run(context.Background(), s.Store, src, importer.Options{Repair: repair})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestMigrationThroughServices imports the Escargot sample into a running
// server, signs every account in through RST with its old password (which
// upgrades the stored hash to argon2id), and checks that FindMembership and
// ABFindAll show exactly the lists of expected-sample.json; then --repair
// fixes the two deliberate FL⇔RL inconsistencies, again seen through the
// services (EXPECTED.md §1–§4).
func TestMigrationThroughServices(t *testing.T) {
	dir := migDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "expected-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Users []migUser `json:"users"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "escargot-sample-passwords.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	passwords := map[string]string{}
	for _, r := range recs[1:] {
		passwords[strings.ToLower(r[0])] = r[1]
	}
	if len(exp.Users) != 40 || len(passwords) != 40 {
		t.Fatalf("fixture: %d users, %d passwords", len(exp.Users), len(passwords))
	}

	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		// The test sends two deliberate wrong passwords per account from
		// one loopback address; the source-address throttle (same limit as
		// the per-account one) would otherwise block the later accounts.
		cfg.LoginFailuresPerAccount = 4 * len(exp.Users)
		s := testenv.StartServer(t, cfg)
		base := "http://" + s.HTTPAddr
		ctx := context.Background()
		if sum := importSample(t, s, false); sum.Created != 40 || sum.Skipped != 0 || len(sum.Inconsistencies) != 2 {
			t.Fatalf("import summary %+v", sum)
		}

		clients := map[string]*client{}
		totals := map[string]int{}
		for _, u := range exp.Users {
			pw := passwords[strings.ToLower(u.Email)]
			before, err := s.Store.AccountByEmail(ctx, u.Email)
			if err != nil {
				t.Fatalf("%s: %v", u.Email, err)
			}
			if !strings.HasPrefix(before.PasswordHash, "pbkdf2_sha256$") {
				t.Errorf("%s: imported hash %.20q is not the Escargot PBKDF2 hash", u.Email, before.PasswordHash)
			}
			// A wrong password is refused and leaves the hash alone.
			status, body := post(t, base+"/RST.srf", "", rstBody(u.Email, pw+"x"), nil)
			if status != 500 || !strings.Contains(body, "wsse:FailedAuthentication") {
				t.Errorf("%s wrong password: status %d\n%s", u.Email, status, body)
			}
			c := signIn(t, base, xmlEscape(u.Email), xmlEscape(pw))
			c.email = u.Email
			after, err := s.Store.AccountByEmail(ctx, u.Email)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(after.PasswordHash, "$argon2id$") {
				t.Errorf("%s: hash after sign-in %.20q, want $argon2id$", u.Email, after.PasswordHash)
			}
			// The upgraded hash verifies the same password, and the
			// e-mail is matched case-insensitively.
			signIn(t, base, xmlEscape(strings.ToUpper(u.Email)), xmlEscape(pw))
			status, body = post(t, base+"/RST.srf", "", rstBody(u.Email, pw+"x"), nil)
			if status != 500 || !strings.Contains(body, "wsse:FailedAuthentication") {
				t.Errorf("%s wrong password after upgrade: status %d\n%s", u.Email, status, body)
			}
			clients[u.Email] = c
			got := gotView(t, c)
			diff(t, u.Email, wantView(u, false), got)
			for r, l := range got.Roles {
				totals[r] += len(l)
			}
			for _, k := range got.Contacts {
				totals["contacts"]++
				if strings.HasPrefix(k, "[false,") {
					totals["e-mail only"]++
				}
			}
		}
		// EXPECTED.md §3: FL 163 (2 e-mail only), AL 180, BL 25, RL 163, PL 31.
		wantTotals := map[string]int{"contacts": 163, "e-mail only": 2, "Allow": 180, "Block": 25, "Reverse": 163, "Pending": 31}
		for k, n := range wantTotals {
			if totals[k] != n {
				t.Errorf("services show %d %s entries in all, want %d", totals[k], k, n)
			}
		}

		// --repair after the users signed in: the two pairs are fixed and
		// the upgraded argon2id hashes are kept.
		sum := importSample(t, s, true)
		if sum.Repaired != 2 || sum.Skipped != 0 {
			t.Fatalf("repair summary %+v", sum)
		}
		for _, u := range exp.Users {
			a, err := s.Store.AccountByEmail(ctx, u.Email)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(a.PasswordHash, "$argon2id$") {
				t.Errorf("%s: re-import replaced the upgraded hash with %.20q", u.Email, a.PasswordHash)
			}
			diff(t, u.Email+" (repaired)", wantView(u, true), gotView(t, clients[u.Email]))
		}
		signIn(t, base, "user05@example.com", xmlEscape(passwords["user05@example.com"]))
	})
}

func rstBody(email, password string) string {
	return strings.Replace(strings.Replace(rstTemplate, "%s", xmlEscape(email), 1), "%s", xmlEscape(password), 1)
}
