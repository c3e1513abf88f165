package soap

import (
	"net/http"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
)

// ABEndpoint is what the Address Book and Sharing services are built with
// besides their store: the ticket check, the machine name their faults
// carry and the byte budget of their full-answer cache.
type ABEndpoint struct {
	Auth       ABAuth
	Hostname   string
	CacheBytes int
	// StoredAnswers keeps rendered full answers in the database too
	// (ABCH_STORED_ANSWERS, store.StoredAnswer).
	StoredAnswers bool
}

// ABDeps are an Address Book or Sharing service's dependencies: the store
// it declares (S, the small interface it uses) and the endpoint's parts.
type ABDeps[S any] struct {
	Store S
	ABEndpoint
}

// Service is the SOAP service of an Address Book endpoint (AB or Sharing)
// served at path: its operations, the AB fault shape naming e's machine
// and its WSDL.
func (e ABEndpoint) Service(name, path string, ops map[string]Handler, wsdl []byte) *Service {
	return &Service{Name: name, Paths: []string{path}, Ops: ops, Fault: ABFaults(e.Hostname), WSDL: wsdl}
}

// ABAuth checks the tickets of Address Book and Sharing requests.
type ABAuth struct {
	Auth *auth.Authenticator
}

// ABFaults is the FaultFunc of the Address Book and Sharing services: HTTP
// 500 with the fault shape of clients/RESPONSES.md §2.
func ABFaults(machine string) FaultFunc {
	return func(r *Request, e *models.Error) *Response {
		return &Response{Status: http.StatusInternalServerError, Body: ABFault(e, r.Operation, machine)}
	}
}

// ABCredentials returns the ticket an AB/Sharing request carries:
// ABAuthHeader/TicketToken (MSNP15), else the MSPAuth cookie (MSNP13: pidgin
// 2.4 sends no TicketToken, PROTOCOL.md §0.3). "" when there is none.
func ABCredentials(r *Request) string {
	if t := PathText(r.Header, "ABAuthHeader", "TicketToken"); t != "" {
		return t
	}
	if c, err := r.HTTP.Cookie("MSPAuth"); err == nil && c.Value != "" {
		return c.Value
	}
	return ""
}

// ABAudiences are the tickets the AB and Sharing services accept: the
// contacts ticket (TicketToken) and the messenger.msn.com ticket whose t=
// part the NS hands out as MSPAuth (PROTOCOL.md §0.3, §6.4).
var ABAudiences = []auth.Audience{auth.AudContacts, auth.AudMessenger}

// Authenticate checks the AB/Sharing credentials of r and records the
// account for the log.
func (a ABAuth) Authenticate(r *Request) (*auth.Principal, error) {
	c, err := a.CheckTicket(r)
	if err != nil {
		return nil, err
	}
	return a.Load(r, c)
}

// CheckTicket is the database-free half of Authenticate (auth.Check). A
// handler that goes on to read the account row together with its data (the
// pipelined delta) finishes the check with Accept on the row it read; any
// other finishes it with Load.
func (a ABAuth) CheckTicket(r *Request) (auth.Claims, error) {
	return a.Auth.Check(ABCredentials(r), ABAudiences...)
}

// Load finishes CheckTicket's check by reading the account row
// (auth.Authenticator.Load) and records the account for the log.
func (a ABAuth) Load(r *Request, c auth.Claims) (*auth.Principal, error) {
	p, err := a.Auth.Load(r.Ctx, c)
	if err != nil {
		return nil, err
	}
	r.Account = p.Email
	return p, nil
}

// Accept finishes CheckTicket's check with the account row st (nil when it
// is gone) and records the account for the log.
func (a ABAuth) Accept(r *Request, c auth.Claims, st *models.Account) (*auth.Principal, error) {
	p, err := a.Auth.Accept(c, st)
	if err != nil {
		return nil, err
	}
	r.Account = p.Email
	return p, nil
}
