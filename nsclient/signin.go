package nsclient

import (
	"context"
	"net/http"
)

// SignIn is the full ticket check of USR TWN S / USR SSO S: the ticket, the
// sign-in name of USR … I (a ticket of another account is refused) and, for
// MSNP15, the nonce the NS sent in "USR SSO S MBI_KEY_OLD <nonce>" with the
// client's answer, which the API checks against the ticket's proof key
// (POST /ns/v1/tickets/verify, services/nsapi/tickets.go).
type SignIn struct {
	Ticket      string `json:"ticket"`
	Email       string `json:"email,omitempty"`
	SSONonce    string `json:"sso_nonce,omitempty"`
	SSOResponse string `json:"sso_response,omitempty"`
}

// SignInInfo is the answer to a SignIn: the account, plus the PUID halves and
// a fresh MSPAuth for the profile MSG, and whether the SSO answer was checked.
type SignInInfo struct {
	TicketInfo
	MemberIDHigh uint32 `json:"member_id_high"`
	MemberIDLow  uint32 `json:"member_id_low"`
	MSPAuth      string `json:"mspauth"`
	SSOVerified  *bool  `json:"sso_verified,omitempty"`
}

// VerifySignIn checks a sign-in. A refused ticket or SSO answer is an
// *APIError with Status 403 (the NS answers 911).
func (c *Client) VerifySignIn(ctx context.Context, in SignIn) (*SignInInfo, error) {
	var out SignInInfo
	return &out, c.call(ctx, http.MethodPost, "/ns/v1/tickets/verify", in, &out)
}
