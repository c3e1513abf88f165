package nsapi

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/strictjson"
	"github.com/abch-im/abch/models"
)

// verifyRequest is the body of POST /ns/v1/tickets/verify.
type verifyRequest struct {
	// Ticket is the first argument of USR TWN S / USR SSO S: "t=…&p=…".
	Ticket string `json:"ticket"`
	// Email, when given, is the name from USR … I; a ticket of another
	// account is refused.
	Email string `json:"email,omitempty"`
	// SSONonce and SSOResponse, when both given, are the nonce the NS sent
	// in USR SSO S and the client's MBI answer blob (RST_OIM.md §1.1).
	SSONonce    string `json:"sso_nonce,omitempty"`
	SSOResponse string `json:"sso_response,omitempty"`
}

// verifyResponse describes the account a valid ticket belongs to.
type verifyResponse struct {
	Email        string `json:"email"`
	CID          int64  `json:"cid"`
	PUID         uint64 `json:"puid"`
	MemberIDHigh uint32 `json:"member_id_high"` // PUID >> 32, for the NS profile message
	MemberIDLow  uint32 `json:"member_id_low"`  // PUID & 0xFFFFFFFF
	DisplayName  string `json:"display_name"`
	Audience     string `json:"audience"`
	ExpiresAt    string `json:"expires_at"` // RFC 3339, UTC
	ProofKey     string `json:"proof_key"`  // base64 BinarySecret of this ticket
	// MSPAuth is the t= part of a fresh messenger.msn.com ticket, for the
	// MSPAuth header of the NS profile message: purple 2.4 sends it back as
	// its only AB/Sharing credential (PROTOCOL.md §0.3).
	MSPAuth     string `json:"mspauth"`
	SSOVerified *bool  `json:"sso_verified,omitempty"`
}

// nsAudiences are the tickets an NS may be shown at sign-in: MSNP15 sends
// the messengerclear.live.com token, MSNP13 the messenger.msn.com one
// (RST_OIM.md §1.1, PROTOCOL.md §6.4).
var nsAudiences = []auth.Audience{auth.AudMessengerClear, auth.AudMessenger}

// maxVerifyBody bounds the JSON body (a ticket is under 200 bytes).
const maxVerifyBody = 16 << 10

// verifyTicket checks a ticket for the NS (USR TWN S / USR SSO S). Every
// ticket failure is 403 {"error":"invalid_ticket"} with the reason in
// "message" (the NS answers the client with 911 whatever it is); a body we
// cannot read is 400.
func (s *service) verifyTicket(c *gin.Context) {
	var in verifyRequest
	raw, err := io.ReadAll(io.LimitReader(c.Request.Body, maxVerifyBody+1))
	if err != nil || len(raw) > maxVerifyBody {
		c.JSON(http.StatusBadRequest, gin.H{"error": "bad_request", "message": "body unreadable or over 16 KiB"})
		return
	}
	if err := strictjson.Check(raw); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "bad_request", "message": err.Error()})
		return
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": "bad_request", "message": "body is not a JSON object: " + err.Error()})
		return
	}
	if strings.TrimSpace(in.Ticket) == "" {
		c.JSON(http.StatusBadRequest, gin.H{"error": "bad_request", "message": `"ticket" is required`})
		return
	}
	reject := func(msg string) {
		c.JSON(http.StatusForbidden, gin.H{"error": "invalid_ticket", "message": msg})
	}
	p, err := s.deps.Auth.Verify(c.Request.Context(), in.Ticket, nsAudiences...)
	if err != nil {
		if models.ErrorCode(err) == models.CodePassportAuthFail {
			reject(reason(err))
			return
		}
		c.JSON(http.StatusInternalServerError, gin.H{"error": "internal", "message": "ticket check failed"})
		return
	}
	// The p= part is derived from t; when the client sends one it must be
	// ours (a tampered p is as bad as a tampered t).
	if _, pPart, ok := strings.Cut(strings.TrimSpace(in.Ticket), "&p="); ok && pPart != s.deps.Tickets.ProfilePart(p.Claims.T) {
		reject("ticket p= part does not belong to its t= part")
		return
	}
	acct, err := s.deps.Store.AccountByID(c.Request.Context(), p.AccountID)
	if err != nil {
		reject("account gone")
		return
	}
	if in.Email != "" {
		want, err := models.NormalizeEmail(in.Email)
		if err != nil || want != acct.EmailLower {
			reject("ticket belongs to another account")
			return
		}
	}
	proof := s.deps.Tickets.ProofKey(p.Claims.T)
	out := verifyResponse{
		Email: acct.Email, CID: acct.CID, PUID: acct.PUIDUnsigned(),
		MemberIDHigh: uint32(acct.PUIDUnsigned() >> 32), MemberIDLow: uint32(acct.PUIDUnsigned()),
		DisplayName: acct.DisplayName, Audience: p.Claims.Audience.String(),
		ExpiresAt: p.Claims.Expires.UTC().Format(time.RFC3339),
		ProofKey:  base64.StdEncoding.EncodeToString(proof),
		MSPAuth:   s.deps.Tickets.Issue(acct.ID, acct.TokenVersion, auth.AudMessenger).T,
	}
	if in.SSONonce != "" || in.SSOResponse != "" {
		ok := auth.VerifySSOResponse(proof, in.SSONonce, in.SSOResponse)
		if !ok {
			reject("USR SSO S answer does not match the ticket's proof key and nonce")
			return
		}
		out.SSOVerified = &ok
	}
	c.JSON(http.StatusOK, out)
}

// reason is the log-only cause kept inside an auth failure.
func reason(err error) string {
	if e, ok := err.(*models.Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}
