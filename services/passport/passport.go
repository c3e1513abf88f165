// Package passport is Passport RST login (/RST.srf, /RST2.srf and the
// msnia.login.live.com variants): a client sends its sign-in name and
// password with a list of services it wants tokens for, and gets one compact
// ticket per service (clients/RST_OIM.md Part 1, PROTOCOL.md §6).
package passport

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// MaxTokens is the most RequestSecurityToken items one request may carry.
// Real clients ask for 2 (papyon) to 8 (purple 2.5); a longer list is refused
// with the Invalid Request fault before any password is checked, so a request
// with 1,000 items costs no more than parsing it.
const MaxTokens = 32

// maxAddress bounds one AppliesTo address (real ones are under 40 bytes).
const maxAddress = 256

// Status codes written to psf:reqstatus / psf:authstate (PROTOCOL.md §6.3).
// We follow the §6.3 recommendation: 0x80048821 ("the entered and stored
// passwords do not match") for every failed sign-in, SOAP 1.1 fault shape on
// both RST.srf and RST2.srf.
const (
	reqStatusOK             = "0x0"
	authStateOK             = "0x48803"
	authStateFailed         = "0x80048800"
	reqStatusFailedAuth     = "0x80048821"
	reqStatusInvalidRequest = "0x80048820"
)

// Store is the storage the Passport service uses (*store.Store).
type Store interface {
	AccountByEmail(ctx context.Context, email string) (*models.Account, error)
	SetPassword(ctx context.Context, id int64, hash string, invalidate bool) error
	RecordSignIn(ctx context.Context, id int64, at time.Time, ip string) error
}

// Deps are the Passport service's dependencies.
type Deps struct {
	Store    Store
	Tickets  *auth.Ticketer
	Throttle *auth.Throttle
	Config   config.Config // Argon2 parameters, machine name
	Log      *slog.Logger
}

// service is the Passport RST service.
type service struct {
	deps Deps

	dummyOnce sync.Once
	dummyHash string // verified against for unknown accounts (same cost as a real check)
}

// New returns the Passport RST service.
func New(deps Deps) *soap.Service {
	s := &service{deps: deps}
	return &soap.Service{
		Name: "passport",
		// Matched case-insensitively with repeated slashes collapsed, so
		// purple's //RST.srf lands here too (captures/README.md).
		Paths: []string{"/RST.srf", "/RST2.srf", "/pp550/RST.srf", "/pp900/RST.srf", "/pp550/RST2.srf", "/pp900/RST2.srf"},
		Ops: map[string]soap.Handler{
			"RequestMultipleSecurityTokens": s.requestTokens,
			// PROTOCOL.md §6.1: a single RequestSecurityToken may replace the list.
			"RequestSecurityToken": s.requestTokens,
		},
		Repair: repairPassword,
		Fault:  s.Fault,
		WSDL:   wsdl.Passport,
	}
}

// tokenRequest is one RequestSecurityToken item as the client sent it.
type tokenRequest struct {
	Index    int    // position in the request: the N of RST<N> and Compact<N>
	Address  string // AppliesTo address, trimmed, echoed verbatim
	Audience auth.Audience
}

// signIn is a decoded RST request.
type signIn struct {
	Username string
	Password string
	Tokens   []tokenRequest
}

// decode reads the credentials and the token list. Everything structural is
// checked here, before any password work, so malformed or oversized requests
// are cheap to refuse.
func decode(r *soap.Request) (*signIn, error) {
	tok := soap.Path(r.Header, "Security", "UsernameToken")
	userEl := soap.Child(tok, "Username")
	passEl := soap.Child(tok, "Password")
	if userEl == nil || soap.Text(userEl) == "" {
		return nil, models.Errorf(models.CodeInvalidRequest, "Security/UsernameToken/Username is missing")
	}
	if passEl == nil {
		return nil, models.Errorf(models.CodeInvalidRequest, "Security/UsernameToken/Password is missing")
	}
	in := &signIn{Username: soap.Text(userEl), Password: passEl.Text()}
	var items = soap.Children(r.Op, "RequestSecurityToken")
	if strings.EqualFold(r.Op.Tag, "RequestSecurityToken") {
		items = append(items[:0], r.Op)
	}
	if len(items) == 0 {
		return nil, models.Errorf(models.CodeInvalidRequest, "no RequestSecurityToken in the request")
	}
	if len(items) > MaxTokens {
		return nil, models.Errorf(models.CodeInvalidRequest, "%d tokens requested, at most %d are served", len(items), MaxTokens)
	}
	for i, it := range items {
		addr := soap.PathText(it, "AppliesTo", "EndpointReference", "Address")
		if addr == "" {
			return nil, models.Errorf(models.CodeInvalidRequest, "RequestSecurityToken %d has no AppliesTo/EndpointReference/Address", i)
		}
		if len(addr) > maxAddress {
			return nil, models.Errorf(models.CodeInvalidRequest, "RequestSecurityToken %d: address too long", i)
		}
		in.Tokens = append(in.Tokens, tokenRequest{Index: i, Address: addr, Audience: auth.AudienceFor(addr)})
	}
	return in, nil
}

// requestTokens is the RST operation: check the password (throttled), then
// issue one ticket per requested address.
func (s *service) requestTokens(r *soap.Request) (*soap.Response, error) {
	in, err := decode(r)
	if err != nil {
		return nil, err
	}
	r.Account = in.Username // logged with the outcome (never the password)
	acct, err := s.authenticate(attempt{Ctx: r.Ctx, ID: r.ID, RemoteIP: r.RemoteIP}, in.Username, in.Password)
	if err != nil {
		return nil, err
	}
	r.Account = acct.Email
	return soap.OK(s.render(acct, in.Tokens)), nil
}
