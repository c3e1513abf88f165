package importer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// escargotDir is fixtures/migration/escargot (the Escargot sample and its
// expected results).
func escargotDir(t testing.TB) string {
	t.Helper()
	return testenv.EscargotDir(t)
}

// wantReport fails unless sum counts created and skipped accounts and its
// written report holds every line of want.
func wantReport(t testing.TB, sum *Summary, created, skipped int, want ...string) {
	t.Helper()
	var out bytes.Buffer
	sum.Write(&out)
	report := out.String()
	if sum.Created != created || sum.Skipped != skipped {
		t.Fatalf("summary:\n%s", report)
	}
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
}

func openStore(t testing.TB, cfg config.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type expContact struct {
	Email           string                  `json:"email"`
	Bits            int                     `json:"bits"`
	Groups          []struct{ Name string } `json:"groups"`
	DisplayName     string                  `json:"display_name"`
	Nickname        *string                 `json:"nickname"`
	IsMessengerUser bool                    `json:"is_messenger_user"`
	ABDetails       *struct {
		FirstName  string `json:"first_name"`
		MiddleName string `json:"middle_name"`
		LastName   string `json:"last_name"`
		Notes      string `json:"notes"`
		Birthdate  string `json:"birthdate"`
	} `json:"ab_details"`
}

type expUser struct {
	Email        string `json:"email"`
	FriendlyName string `json:"friendly_name"`
	PasswordHash string `json:"password_hash"`
	DateCreated  string `json:"date_created"`
	Privacy      struct{ BLP, GTC string }
	Mpop         *string `json:"mpop"`
	Groups       []struct {
		Name       string `json:"name"`
		IsFavorite bool   `json:"is_favorite"`
	} `json:"groups"`
	Contacts []expContact `json:"contacts"`
}

type expected struct {
	Inconsistencies []struct{ Kind, Owner, Contact string } `json:"deliberate_inconsistencies"`
	Users           []expUser                               `json:"users"`
}

func loadExpected(t testing.TB) *expected {
	b, err := os.ReadFile(filepath.Join(escargotDir(t), "expected-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func importEscargot(t *testing.T, st *store.Store, opt Options) *Summary {
	t.Helper()
	src, err := OpenEscargot(context.Background(), filepath.Join(escargotDir(t), "escargot-sample.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), st, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// compareExpected checks every account of the fixture as the services see
// it (View: non-deleted contacts and memberships) against expected-sample.json.
func compareExpected(t *testing.T, st *store.Store, e *expected, repaired, details bool) {
	t.Helper()
	ctx := context.Background()
	for _, u := range e.Users {
		v, err := View(ctx, st, u.Email)
		if err != nil {
			t.Errorf("%s: %v", u.Email, err)
			continue
		}
		if v.Email != u.Email || v.DisplayName != u.FriendlyName || v.BLP != u.Privacy.BLP || v.GTC != u.Privacy.GTC {
			t.Errorf("%s: profile %q %q %s %s, want %q %q %s %s", u.Email, v.Email, v.DisplayName, v.BLP, v.GTC, u.Email, u.FriendlyName, u.Privacy.BLP, u.Privacy.GTC)
		}
		if v.Created == "" || !strings.HasPrefix(strings.Replace(v.Created, "T", " ", 1), strings.TrimRight(u.DateCreated, "0")) {
			t.Errorf("%s: created %q, want %q", u.Email, v.Created, u.DateCreated)
		}
		if u.Mpop != nil && v.MPOP != *u.Mpop || u.Mpop == nil && v.MPOP != "" {
			t.Errorf("%s: MPOP %q", u.Email, v.MPOP)
		}
		var wantG, gotG []string
		for _, g := range u.Groups {
			wantG = append(wantG, g.Name+map[bool]string{true: "*"}[g.IsFavorite])
		}
		for _, g := range v.Groups {
			gotG = append(gotG, g.Name+map[bool]string{true: "*"}[g.Favorite])
		}
		if strings.Join(wantG, "|") != strings.Join(gotG, "|") {
			t.Errorf("%s: groups %q, want %q", u.Email, gotG, wantG)
		}
		want := map[string]expContact{}
		for _, c := range u.Contacts {
			c.Email = strings.ToLower(c.Email)
			if repaired {
				switch {
				case strings.EqualFold(u.Email, "user05@example.com") && c.Email == "user40@example.com":
					c.Bits &^= listbits.RL | listbits.PL
				}
			}
			want[c.Email] = c
		}
		if repaired && strings.EqualFold(u.Email, "user12@example.com") {
			want["user32@example.com"] = expContact{Email: "user32@example.com", Bits: listbits.RL | listbits.PL, DisplayName: "user32@example.com"}
		}
		got := map[string]ContactDoc{}
		for _, c := range v.Contacts {
			got[c.Email] = c
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d contacts, want %d", u.Email, len(got), len(want))
		}
		for addr, w := range want {
			g, ok := got[addr]
			if !ok {
				t.Errorf("%s: contact %s missing", u.Email, addr)
				continue
			}
			if g.bits() != w.Bits {
				t.Errorf("%s → %s: lists %d, want %d", u.Email, addr, g.bits(), w.Bits)
			}
			if w.Bits&listbits.FL == 0 {
				if len(g.Groups) > 0 || g.Nickname != "" {
					t.Errorf("%s → %s: non-FL entry has groups/nickname", u.Email, addr)
				}
				continue
			}
			nick := ""
			if w.Nickname != nil {
				nick = *w.Nickname
			}
			var wg []string
			for _, x := range w.Groups {
				wg = append(wg, x.Name)
			}
			sort.Strings(wg)
			if details {
				var want [5]string
				if ad := w.ABDetails; ad != nil {
					want = [5]string{ad.FirstName, ad.MiddleName, ad.LastName, ad.Notes, strings.Replace(strings.TrimSuffix(ad.Birthdate, ".000000"), " ", "T", 1)}
				}
				if got := [5]string{g.FirstName, g.MiddleName, g.LastName, g.Comment, g.Birthdate}; got != want {
					t.Errorf("%s → %s: details %q, want %q", u.Email, addr, got, want)
				}
			}
			if g.Nickname != nick || g.DisplayName != w.DisplayName || g.messenger() != w.IsMessengerUser || strings.Join(g.Groups, "|") != strings.Join(wg, "|") {
				t.Errorf("%s → %s: nick %q name %q messenger %v groups %q; want %q %q %v %q", u.Email, addr,
					g.Nickname, g.DisplayName, g.messenger(), g.Groups, nick, w.DisplayName, w.IsMessengerUser, wg)
			}
		}
	}
}

func revisions(t *testing.T, st *store.Store) map[string]int64 {
	var accts []models.Account
	if err := st.DB.Find(&accts).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, a := range accts {
		out[a.EmailLower] = a.Revision
	}
	return out
}

func TestImportEscargotSample(t *testing.T) {
	e := loadExpected(t)
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		sum := importEscargot(t, st, Options{})
		if sum.Created != 40 || sum.Skipped != 0 || sum.Updated != 0 {
			var b bytes.Buffer
			sum.Write(&b)
			t.Fatalf("summary:\n%s", b.String())
		}
		if len(sum.Inconsistencies) != 2 || sum.Repaired != 0 {
			t.Fatalf("inconsistencies %+v", sum.Inconsistencies)
		}
		for _, want := range e.Inconsistencies {
			found := false
			for _, in := range sum.Inconsistencies {
				found = found || in.Kind == want.Kind && in.Owner == want.Owner && in.Contact == want.Contact
			}
			if !found {
				t.Errorf("inconsistency %+v not reported; got %+v", want, sum.Inconsistencies)
			}
		}
		compareExpected(t, st, e, false, true)

		// Old passwords still verify (and ask for an argon2id upgrade).
		f, err := os.Open(filepath.Join(escargotDir(t), "escargot-sample-passwords.csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != 41 {
			t.Fatalf("csv: %v %d", err, len(recs))
		}
		params := auth.Argon2Params{MemoryKiB: cfg.Argon2Memory, Time: cfg.Argon2Time, Parallelism: cfg.Argon2Par}
		for _, r := range recs[1:] {
			a, err := st.AccountByEmail(context.Background(), strings.ToUpper(r[0]))
			if err != nil {
				t.Fatal(err)
			}
			if ok, rehash := auth.VerifyPassword(a.PasswordHash, r[1], params); !ok || !rehash {
				t.Errorf("%s: password ok=%v rehash=%v", r[0], ok, rehash)
			}
			if ok, _ := auth.VerifyPassword(a.PasswordHash, r[1]+"x", params); ok {
				t.Errorf("%s: wrong password accepted", r[0])
			}
		}

		// The same import again changes nothing.
		before := revisions(t, st)
		var outbox int64
		st.DB.Model(&models.OutboxEvent{}).Count(&outbox)
		sum = importEscargot(t, st, Options{})
		if sum.Unchanged != 40 || sum.Created+sum.Updated+sum.Skipped != 0 {
			t.Fatalf("second run: %+v", sum)
		}
		after := revisions(t, st)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s: revision moved %d → %d on an idempotent re-run", k, v, after[k])
			}
		}
		var outbox2 int64
		st.DB.Model(&models.OutboxEvent{}).Count(&outbox2)
		if outbox != 0 || outbox2 != 0 {
			t.Errorf("import emitted %d/%d events", outbox, outbox2)
		}

		// --repair on top fixes the two pairs and touches only those accounts.
		sum = importEscargot(t, st, Options{Repair: true})
		if sum.Repaired != 2 || sum.Updated != 2 || sum.Unchanged != 38 {
			var b bytes.Buffer
			sum.Write(&b)
			t.Fatalf("repair run:\n%s", b.String())
		}
		compareExpected(t, st, e, true, true)
	})
}

func TestImportEscargotRepairAndDryRun(t *testing.T) {
	e := loadExpected(t)
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		st := openStore(t, cfg)
		sum := importEscargot(t, st, Options{DryRun: true})
		if sum.Created != 40 || len(sum.Inconsistencies) != 2 {
			t.Fatalf("dry run summary %+v", sum)
		}
		var n int64
		st.DB.Model(&models.Account{}).Count(&n)
		if n != 0 {
			t.Fatalf("dry run wrote %d accounts", n)
		}
		sum = importEscargot(t, st, Options{Repair: true})
		if sum.Created != 40 || sum.Repaired != 2 {
			t.Fatalf("repair summary %+v", sum)
		}
		compareExpected(t, st, e, true, true)
	})
}
