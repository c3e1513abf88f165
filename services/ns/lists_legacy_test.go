package ns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/importer"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/internal/testenv/msnptest"
	"github.com/abch-im/abch/models"
)

// legacy is a SYN-era (MSNP8–12) test session.
type legacy struct {
	*msnptest.Conn
	ver int
	// version reads the account's list version from the NS API (answer's
	// {v}); set by the tests that use it.
	version func() int64
}

// signInLegacy signs a in with protocol ver as the SYN-era client of that
// version does (loginLegacy: TWN with a ticket of the messenger audience,
// what login2.srf issues) and runs a full SYN; it returns the session and
// the SYN answer.
func signInLegacy(t *testing.T, e *msnptest.Env, a *models.Account, ver int) (*legacy, []string) {
	t.Helper()
	l := &legacy{Conn: loginLegacy(t, e, e.S.MSNPAddr, a, ver), ver: ver}
	return l, l.syn("0")
}

// syn sends "SYN trid have" (MSNP10–12: two stamps) and returns the lines
// from its answer on, up to the QNG of a PNG sent right after it (the
// session answers in order).
func (l *legacy) syn(have string) []string {
	l.T.Helper()
	trid := l.Next()
	if l.ver >= 10 {
		have += " " + have
	}
	l.Send("SYN " + trid + " " + have)
	l.Send("PNG")
	var out []string
	started := false
	for {
		line, _, err := l.Read(soon)
		if err != nil {
			l.T.Fatalf("SYN answer: %v (seen %q)", err, out)
		}
		if strings.HasPrefix(line, "QNG") {
			return out
		}
		if strings.HasPrefix(line, "SYN "+trid+" ") {
			started = true
		}
		if started {
			out = append(out, line)
		}
	}
}

// expectedImport is what expected-sample.json says each imported account
// holds (EXPECTED.md §2).
type expectedImport struct {
	Users []struct {
		Email    string `json:"email"`
		Privacy  struct{ BLP, GTC string }
		Contacts []struct {
			Email       string `json:"email"`
			Bits        int    `json:"bits"`
			DisplayName string `json:"display_name"`
			Messenger   bool   `json:"is_messenger_user"`
			Groups      []struct {
				Name string `json:"name"`
			} `json:"groups"`
		} `json:"contacts"`
	} `json:"users"`
}

// TestLegacySYNAfterImport imports the Escargot sample into one abch,
// exports it (abch export's lists format) and imports that into a second,
// empty abch; then every account signs in there with MSNP9 and its SYN must
// list exactly the expected contacts: each address with its FL/AL/BL/RL
// bits (PL does not exist before MSNP13) and, for FL contacts, the name
// and the LSG ids of exactly its groups (0 when none), plus BLP and GTC.
// FL is abch's rule (docs/events.md §7): address-book contacts that are
// messenger users, so a contact an MSNP13 client marked as not a messenger
// user (is_messenger_user false) is not on an MSNP9 client's FL; entries on
// AL/BL/RL only carry no name of their own (abch keeps names in the
// address book), so only their address and bits are compared.
func TestLegacySYNAfterImport(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testenv.EscargotDir(t), "expected-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expectedImport
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		first := msnptest.Start(t, cfg)
		src, err := importer.OpenEscargot(ctx, filepath.Join(testenv.EscargotDir(t), "escargot-sample.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := importer.Run(ctx, first.S.Store, src, importer.Options{}); err != nil {
			t.Fatal(err)
		}
		dump := filepath.Join(t.TempDir(), "export.jsonl")
		f, err := os.Create(dump)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := importer.Export(ctx, first.S.Store, f, ""); err != nil {
			t.Fatal(err)
		}
		f.Close()

		kind := testenv.DB{Name: "sqlite"}
		if cfg.DatabaseURL != "" {
			kind.Name = "postgres"
		}
		e := msnptest.Start(t, testenv.Config(t, kind))
		lists, closeLists, err := importer.OpenLists(dump, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeLists()
		if _, err := importer.Run(ctx, e.S.Store, lists, importer.Options{}); err != nil {
			t.Fatal(err)
		}

		for _, u := range exp.Users {
			acct, err := e.S.Store.AccountByEmail(ctx, u.Email)
			if err != nil {
				t.Fatalf("%s: %v", u.Email, err)
			}
			m, syn := signInLegacy(t, e, acct, 9)
			got, want := synView(syn), []string{"BLP " + u.Privacy.BLP, "GTC " + u.Privacy.GTC}
			for _, c := range u.Contacts {
				bits := c.Bits & 15
				if !c.Messenger {
					bits &^= 1
				}
				if bits == 0 {
					continue
				}
				line := fmt.Sprintf("LST %s - %d", strings.ToLower(c.Email), bits)
				if bits&1 != 0 {
					line = fmt.Sprintf("LST %s %s %d", strings.ToLower(c.Email), msnpName(c.DisplayName, c.Email), bits)
					var gs []string
					for _, g := range c.Groups {
						gs = append(gs, g.Name)
					}
					if len(gs) == 0 {
						gs = []string{"Other Contacts"}
					}
					slices.Sort(gs)
					line += " [" + strings.Join(gs, "|") + "]"
				}
				want = append(want, line)
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: SYN\n got  %q\n want %q\n(answer %q)", u.Email, got, want, syn)
			}
			m.Send("OUT")
		}
	})
}

// msnpName is the URL-encoded name an LST line carries (the address when
// there is no name).
func msnpName(name, email string) string {
	if name == "" {
		name = email
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// synView reduces an MSNP8–9 SYN answer to comparable lines: "BLP x",
// "GTC x" and "LST email name bits [group names]" (name "-" off the FL) with each LST's group
// ids resolved through the LSG lines, sorted. It checks the counts of the
// SYN line against the LSG and LST lines.
func synView(syn []string) []string {
	groups := map[string]string{}
	var out []string
	var nLST, nLSG int
	for _, l := range syn {
		f := strings.Fields(l)
		switch f[0] {
		case "LSG":
			nLSG++
			name, _ := url.PathUnescape(f[2])
			groups[f[1]] = name
		case "GTC", "BLP":
			out = append(out, l)
		}
	}
	for _, l := range syn {
		f := strings.Fields(l)
		if f[0] != "LST" {
			continue
		}
		nLST++
		if bits, _ := strconv.Atoi(f[3]); bits&1 == 0 {
			f[2] = "-"
		}
		line := strings.Join(f[:4], " ")
		if len(f) > 4 {
			var gs []string
			for _, id := range strings.Split(f[4], ",") {
				gs = append(gs, groups[id])
			}
			slices.Sort(gs)
			line += " [" + strings.Join(gs, "|") + "]"
		}
		out = append(out, line)
	}
	if f := strings.Fields(syn[0]); len(f) != 5 || f[3] != strconv.Itoa(nLST) || f[4] != strconv.Itoa(nLSG) {
		out = append(out, fmt.Sprintf("bad counts %q: %d LST, %d LSG", syn[0], nLST, nLSG))
	}
	slices.Sort(out)
	return out
}
