// Package nsclient is what a Notification Server written in Go imports to
// pair with abch: a client of the NS-facing JSON API (ticket check, profile,
// lists, privacy, watchers, mail data) and a JetStream subscriber for the
// change events abch publishes (one subject per recipient CID). The JSON
// shapes are documented in docs/events.md; an NS in another language speaks
// the same HTTP and NATS directly.
package nsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the NS API on ABCH_NS_ADDR with the ABCH_NS_KEY bearer key.
type Client struct {
	// BaseURL is the NS API root, for example "http://127.0.0.1:8090".
	BaseURL string
	// Key is ABCH_NS_KEY.
	Key string
	// HTTP is the client used; nil means one with a 10 s timeout.
	HTTP *http.Client
}

// New returns a client for the NS API at baseURL with key.
func New(baseURL, key string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Key: key, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// APIError is a non-2xx answer: Status is the HTTP status (401 wrong key,
// 404 unknown user, 400 bad input, 422 a list write refused with an MSNP
// error), Code and Message the JSON error body, MSNP the MSNP error number
// of a refused list write (0 otherwise; see MSNPError).
type APIError struct {
	Status  int
	Code    string `json:"error"`
	Message string `json:"message"`
	MSNP    int    `json:"msnp_error,omitempty"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("nsclient: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// TicketInfo is the account a valid ticket belongs to (USR TWN S / USR SSO S).
type TicketInfo struct {
	Email       string    `json:"email"`
	CID         int64     `json:"cid"`
	PUID        uint64    `json:"puid"`
	DisplayName string    `json:"display_name"`
	Audience    string    `json:"audience"`
	ExpiresAt   time.Time `json:"expires_at"`
	// ProofKey is the base64 proof key (MSNP15 messengerclear tickets).
	ProofKey string `json:"proof_key"`
}

// Profile is the data of the text/x-msmsgsprofile MSG (PROTOCOL.md §8 B3).
// The NS API (services/nsapi) answers with this same type.
type Profile struct {
	Email string `json:"email"`
	CID   int64  `json:"cid"`
	PUID  uint64 `json:"puid"`
	// MemberIDHigh/Low are the PUID halves the profile MSG carries as
	// MemberIdHigh/MemberIdLow (decimal).
	MemberIDHigh uint32 `json:"member_id_high"`
	MemberIDLow  uint32 `json:"member_id_low"`
	DisplayName  string `json:"display_name"`
	// PersonalMessage is the personal status of the roaming profile (set
	// through the Storage service's UpdateProfile); "" when none.
	PersonalMessage string `json:"personal_message"`
	// MSPAuth is the t= part of a fresh messenger.msn.com ticket: the NS puts
	// it in the profile MSG and clients send it back to the AB and Sharing
	// services as the MSPAuth cookie (PROTOCOL.md §0.3, §6.4).
	MSPAuth  string    `json:"mspauth"`
	BLP      string    `json:"blp"`
	GTC      string    `json:"gtc"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	// Revision is the account's address-book/membership cursor.
	Revision string `json:"revision"`
	// ListVersion is the SYN list version (REA answers carry it).
	ListVersion int64 `json:"list_version"`
}

// List bits of ListEntry.Lists (ADL l=).
const (
	FL = 1
	AL = 2
	BL = 4
	RL = 8
	PL = 16
)

// Group is an address-book group. ID is its SYN id for MSNP8–9 (LSG, ADD
// FL … gid): a small positive integer, stable for the account across
// sessions and never renumbered; 0 is "no group" and is never a stored
// group (the NS lists it itself).
type Group struct {
	ID   int    `json:"id"`
	GUID string `json:"guid"`
	Name string `json:"name"`
}

// ListEntry is one contact in MSNP terms.
type ListEntry struct {
	Email       string  `json:"email"`
	Network     int     `json:"network"`
	Lists       int     `json:"lists"`
	CID         int64   `json:"cid,omitempty"`
	DisplayName string  `json:"display_name"`
	NickName    string  `json:"nickname,omitempty"`
	ContactGUID string  `json:"contact_guid,omitempty"`
	Groups      []Group `json:"groups"`
	// SynGroups are the MSNP8–9 group ids of an FL entry, ascending: its
	// groups' IDs, with 0 when it is in no group (or was put in group 0
	// by an MSNP8–9 ADD as well). Empty for entries not on the FL.
	SynGroups     []int  `json:"syn_groups"`
	InviteMessage string `json:"invite_message,omitempty"`
}

// Lists is an account's contacts and groups.
type Lists struct {
	Contacts []ListEntry `json:"contacts"`
	Groups   []Group     `json:"groups"`
	// Version is the SYN list version: an integer ≥ 1 that moves whenever
	// any of the account's lists, groups, BLP, GTC or its friendly name
	// change, through the SOAP services or the NS API. It was read before
	// the lists, so a change racing the read makes the next SYN a full one.
	Version int64 `json:"version"`
	// Revision is the account's cursor in the lastChange form.
	Revision string `json:"revision"`
	BLP      string `json:"blp"`
	GTC      string `json:"gtc"`
}

// Privacy is BLP ("AL"/"BL") and GTC ("A"/"N"). Version is the SYN list
// version after a SetPrivacy (BLP/GTC answers in MSNP8–9 carry it).
type Privacy struct {
	BLP     string `json:"blp"`
	GTC     string `json:"gtc,omitempty"`
	Version int64  `json:"version,omitempty"`
}

// Watcher is an account with the target on its FL; CanSee is PROTOCOL.md §5.4.
type Watcher struct {
	Email       string `json:"email"`
	CID         int64  `json:"cid"`
	PUID        uint64 `json:"puid"`
	DisplayName string `json:"display_name"`
	Allowed     bool   `json:"allowed"`
	Blocked     bool   `json:"blocked"`
	CanSee      bool   `json:"can_see"`
}

// Watchers answers "who may see this account's presence".
type Watchers struct {
	Email    string    `json:"email"`
	BLP      string    `json:"blp"`
	Watchers []Watcher `json:"watchers"`
}

// VerifyTicket checks a ticket ("t=…&p=…" or the bare t= part) presented in
// USR TWN S.
func (c *Client) VerifyTicket(ctx context.Context, ticket string) (*TicketInfo, error) {
	var out TicketInfo
	return &out, c.call(ctx, http.MethodPost, "/ns/v1/tickets/verify", map[string]string{"ticket": ticket}, &out)
}

// Profile returns the profile MSG fields, with a fresh MSPAuth.
func (c *Client) Profile(ctx context.Context, email string) (*Profile, error) {
	var out Profile
	return &out, c.call(ctx, http.MethodGet, userPath(email, "profile"), nil, &out)
}

// SetDisplayName is PRP MFN; it returns the updated profile.
func (c *Client) SetDisplayName(ctx context.Context, email, name string) (*Profile, error) {
	var out Profile
	return &out, c.call(ctx, http.MethodPut, userPath(email, "profile"), map[string]string{"display_name": name}, &out)
}

// Lists returns the account's contacts with their FL/AL/BL/RL/PL bits.
func (c *Client) Lists(ctx context.Context, email string) (*Lists, error) {
	var out Lists
	return &out, c.call(ctx, http.MethodGet, userPath(email, "lists"), nil, &out)
}

// Privacy returns BLP and GTC.
func (c *Client) Privacy(ctx context.Context, email string) (*Privacy, error) {
	var out Privacy
	return &out, c.call(ctx, http.MethodGet, userPath(email, "privacy"), nil, &out)
}

// SetPrivacy is the BLP command (p.GTC may be empty). Re-sending an
// unchanged value is free: abch changes and emits nothing.
func (c *Client) SetPrivacy(ctx context.Context, email string, p Privacy) (*Privacy, error) {
	var out Privacy
	return &out, c.call(ctx, http.MethodPut, userPath(email, "privacy"), p, &out)
}

// Watchers returns who has the account on their FL and who of them may see it.
func (c *Client) Watchers(ctx context.Context, email string) (*Watchers, error) {
	var out Watchers
	return &out, c.call(ctx, http.MethodGet, userPath(email, "watchers"), nil, &out)
}

// MailData returns the initial mail-data document for the sign-in MSG
// (PROTOCOL.md §7.2). Its JSON shape belongs to the OIM service
// (docs/oim.md), so it is returned undecoded.
func (c *Client) MailData(ctx context.Context, email string) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.call(ctx, http.MethodGet, userPath(email, "maildata"), nil, &out)
}

func userPath(email, what string) string {
	return "/ns/v1/users/" + url.PathEscape(email) + "/" + what
}

func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("nsclient: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("nsclient: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode}
		_ = json.Unmarshal(raw, e)
		return e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("nsclient: %s %s: decode: %w", method, path, err)
	}
	return nil
}
