package testenv

import (
	"bufio"
	"context"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// update is the -update flag of every test package with golden files.
var update = flag.Bool("update", false, "rewrite the golden files under fixtures/ instead of comparing with them")

// Updating reports whether the tests run with -update, for a golden
// comparison Golden does not fit.
func Updating() bool { return *update }

// Golden compares got with fixtures/<area>/<name> byte for byte, or
// rewrites that file when the tests run with -update (review the diff).
func Golden(t testing.TB, area, name, got string) {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "fixtures", area, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run the tests with -update)", path, err)
	}
	if string(want) != got {
		t.Errorf("answer differs from golden %s:\n got: %s\nwant: %s", path, got, want)
	}
}

// Clock is the deterministic clock and GUID source of a Service
// (Deterministic): readings start at Start and advance by Step (0: the
// clock stands still), GUIDs are GUIDPrefix and a 12-digit counter.
type Clock struct {
	Start      time.Time
	Step       time.Duration
	GUIDPrefix string
}

// Service is a running abch on loopback made deterministic, so its answers
// can be compared with golden files, with what tests need to act as a
// client: accounts with fixed ids, tickets, and requests read the way
// clients read them.
type Service struct {
	*server.Server
	T     testing.TB
	Base  string        // "http://" + HTTPAddr
	Reads *atomic.Int64 // clock readings so far (Deterministic)
}

// NewService starts abch on cfg with clock.
func NewService(t testing.TB, cfg config.Config, clock Clock) *Service {
	t.Helper()
	s := StartServer(t, cfg)
	reads := Deterministic(s.Store, clock.Start, clock.Step, clock.GUIDPrefix)
	return &Service{Server: s, T: t, Base: "http://" + s.HTTPAddr, Reads: reads}
}

// Account creates an account (address book included) directly in the store.
func (s *Service) Account(email, displayName string) *models.Account {
	s.T.Helper()
	a, err := s.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, DisplayName: displayName})
	if err != nil {
		s.T.Fatalf("create %s: %v", email, err)
	}
	return a
}

// SetIDs gives a a fixed CID (on its account row and on every contact row
// that points to it) and, when puid is not 0, a fixed PUID: the random ones
// would change every answer that shows them.
func (s *Service) SetIDs(a *models.Account, cid, puid int64) {
	s.T.Helper()
	if puid == 0 {
		puid = a.PUID
	}
	if err := s.Store.DB.Exec("UPDATE accounts SET cid = ?, puid = ? WHERE id = ?", cid, puid, a.ID).Error; err != nil {
		s.T.Fatal(err)
	}
	if err := s.Store.DB.Exec("UPDATE contacts SET cid = ? WHERE contact_account_id = ?", cid, a.ID).Error; err != nil {
		s.T.Fatal(err)
	}
	a.CID, a.PUID = cid, puid
}

// Ticket mints a ticket for a with audience aud.
func (s *Service) Ticket(a *models.Account, aud auth.Audience) auth.Ticket {
	return s.Deps.Tickets.Issue(a.ID, a.TokenVersion, aud)
}

// Reply is an HTTP answer as a client sees it.
type Reply struct {
	Status int
	Body   string
	Header http.Header
}

// Post sends body to path with the given headers (Content-Type defaults to
// text/xml) and reads the whole answer; an answer whose Content-Length is
// not its length fails the test (clients read exactly Content-Length
// bytes, clients/RESPONSES.md §1 rule 2).
func (s *Service) Post(path, body string, hdr http.Header) Reply {
	s.T.Helper()
	req, err := http.NewRequest(http.MethodPost, s.Base+path, strings.NewReader(body))
	if err != nil {
		s.T.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.T.Fatal(err)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(b)) {
		s.T.Errorf("Content-Length %q for a %d-byte answer", cl, len(b))
	}
	return Reply{Status: resp.StatusCode, Body: string(b), Header: resp.Header}
}

// Count counts the rows of table matching where.
func (s *Service) Count(table, where string, args ...any) int64 {
	s.T.Helper()
	var n int64
	if err := s.Store.DB.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		s.T.Fatal(err)
	}
	return n
}

// Exchange writes request (a complete HTTP/1.x request, exactly as given:
// no path cleaning, the client's own headers) to addr over TCP and reads
// the answer the way pidgin and papyon do: the status line literally
// ("HTTP/1.1 <code>", returned as statusLine), then exactly Content-Length
// bytes. An answer without Content-Length, or chunked, fails the test
// (clients/RESPONSES.md §1 rules 1–2).
func Exchange(t testing.TB, addr, request string) (statusLine string, r Reply) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(line), br)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.TransferEncoding) > 0 || resp.Header.Get("Content-Length") != strconv.Itoa(len(b)) {
		t.Errorf("answer %v with Content-Length %q for %d bytes: clients need the exact length", resp.TransferEncoding, resp.Header.Get("Content-Length"), len(b))
	}
	return strings.TrimRight(line, "\r\n"), Reply{Status: resp.StatusCode, Body: string(b), Header: resp.Header}
}
