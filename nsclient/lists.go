package nsclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// The list writes of SYN-era sessions (MSNP8–12): ADD/ADC/REM, ADG/RMG/REG,
// SBP/REA. Each is one abch transaction with the semantics and events of the
// SOAP operation it stands for (PROTOCOL.md §4.1, docs/events.md §7). A
// refusal is an *APIError whose MSNP field is the error number the NS
// answers ("<number> <trid>").

// MSNP error numbers the list writes answer (pidgin 2.2.2 error.c).
const (
	ErrInvalidParameter    = 201 // bad list name, RL/PL written by a client, own address, bad request
	ErrInvalidUser         = 205 // no account with that address
	ErrInvalidUserName     = 208 // malformed address
	ErrInvalidFriendlyName = 209 // nickname/friendly name empty, too long or with line breaks
	ErrListFull            = 210 // contact, member or list limit reached
	ErrAlreadyThere        = 215 // already on that list / in that group
	ErrNotOnList           = 216 // not on that list (unknown contact GUID too)
	ErrOppositeList        = 219 // ADD AL while on BL, or ADD BL while on AL
	ErrTooManyGroups       = 223 // group limit reached
	ErrInvalidGroup        = 224 // unknown group id or GUID (another user's too)
	ErrNotInGroup          = 225 // REM FL from a group the contact is not in
	ErrGroupExists         = 228 // a group with that name exists (any letter case)
	ErrGroupNameTooLong    = 229 // group name over 61 characters (or empty)
	ErrGroupZero           = 230 // RMG 0 / REG 0: group 0 is not a stored group
)

// MSNPError returns the MSNP error number carried by err (an *APIError from
// a list write), or 0 when err carries none: then the NS answers 500
// ("service temporarily unavailable").
func MSNPError(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.MSNP
	}
	return 0
}

// ListWrite is one ADD/ADC/REM.
type ListWrite struct {
	// List is "FL", "AL", "BL", "RL" or "PL". RL is never written by a
	// client (ErrInvalidParameter); PL can only be removed from.
	List string `json:"list"`
	// Address names the entry by sign-in name (MSNP8–9 ADD/REM, ADC N=,
	// REM AL/BL/PL). Any letter case.
	Address string `json:"address,omitempty"`
	// Contact names an FL entry by its contact GUID instead (MSNP10–12
	// ADC FL C=<guid> …, REM FL <guid> …).
	Contact string `json:"contact,omitempty"`
	// Nickname is ADD's friendly name / ADC's F=: a new FL contact's
	// display name, unless it is empty or equals the address (then the
	// account's own name is used, as ABContactAdd does).
	Nickname string `json:"nickname,omitempty"`
	// Group is only for FL. "" = none given. A decimal SYN group id
	// ("0" = no group) selects the MSNP8–9 rule: a contact's groups are a
	// set in which "0" is a member like any other, and removing it from
	// its last one takes it off the FL. A group GUID selects the
	// MSNP10–12 rule: ADC/REM with a group only add to/remove from that
	// group, and the contact stays on the FL.
	Group string `json:"group,omitempty"`
}

// ListWriteResult is the state after a list write.
type ListWriteResult struct {
	// Version is the SYN list version after the change (ADD/REM answers
	// in MSNP8–9 carry it).
	Version int64 `json:"version"`
	// Revision is the account's cursor after the change (the lastChange
	// form; MSNP10–12 SYN timestamps can use it).
	Revision string `json:"revision"`
	// Entry is the contact after the change, as Lists would show it;
	// Lists == 0 when it left every list.
	Entry ListEntry `json:"entry"`
}

// GroupResult is the state of a group after ADG/RMG/REG.
type GroupResult struct {
	Version  int64  `json:"version"`
	Revision string `json:"revision"`
	Group    Group  `json:"group"`
}

// AddToList is ADD (MSNP8–9) / ADC (MSNP10–12). FL: ABContactAdd (no
// Allow-list management: SYN-era clients send ADD AL themselves), with a
// group ABGroupContactAdd; AL/BL: AddMember Allow/Block (ErrOppositeList
// when on the other one). POST /ns/v1/users/:email/lists/add.
func (c *Client) AddToList(ctx context.Context, email string, w ListWrite) (*ListWriteResult, error) {
	var out ListWriteResult
	return &out, c.call(ctx, http.MethodPost, userPath(email, "lists/add"), w, &out)
}

// RemoveFromList is REM. FL without a group: ABContactDelete; FL with a
// group: ABGroupContactDelete (with an integer group, its last group takes
// it off the FL); AL/BL/PL: DeleteMember Allow/Block/Pending.
// POST /ns/v1/users/:email/lists/remove.
func (c *Client) RemoveFromList(ctx context.Context, email string, w ListWrite) (*ListWriteResult, error) {
	var out ListWriteResult
	return &out, c.call(ctx, http.MethodPost, userPath(email, "lists/remove"), w, &out)
}

// AddGroup is ADG (ABGroupAdd): the new group with its SYN id and GUID.
// POST /ns/v1/users/:email/groups.
func (c *Client) AddGroup(ctx context.Context, email, name string) (*GroupResult, error) {
	var out GroupResult
	return &out, c.call(ctx, http.MethodPost, userPath(email, "groups"), map[string]string{"name": name}, &out)
}

// RemoveGroup is RMG (ABGroupDelete; its contacts stay on the FL). group is
// the SYN id (decimal) or the GUID. DELETE /ns/v1/users/:email/groups/:group.
func (c *Client) RemoveGroup(ctx context.Context, email, group string) (*GroupResult, error) {
	var out GroupResult
	return &out, c.call(ctx, http.MethodDelete, userPath(email, "groups/"+url.PathEscape(group)), nil, &out)
}

// RenameGroup is REG (ABGroupUpdate GroupName). PUT /ns/v1/users/:email/groups/:group.
func (c *Client) RenameGroup(ctx context.Context, email, group, name string) (*GroupResult, error) {
	var out GroupResult
	return &out, c.call(ctx, http.MethodPut, userPath(email, "groups/"+url.PathEscape(group)), map[string]string{"name": name}, &out)
}

// SetContactName is SBP <guid> MFN (MSNP10–12) and REA on another contact
// (MSNP8–9): ABContactUpdate DisplayName of the FL contact named by its
// GUID or address. REA on the user's own address is SetDisplayName.
// PUT /ns/v1/users/:email/contacts/:contact.
func (c *Client) SetContactName(ctx context.Context, email, contact, name string) (*ListWriteResult, error) {
	var out ListWriteResult
	return &out, c.call(ctx, http.MethodPut, userPath(email, "contacts/"+url.PathEscape(contact)), map[string]string{"display_name": name}, &out)
}
