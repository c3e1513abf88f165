// Package accounts is the one code path of the account operations an
// operator or a user starts outside the Messenger protocols: `abch user …`
// on the command line and the web pages (services/web) both call it, so an
// account made, changed, disabled, unlocked or deleted from either ends up
// the same (same address rules, password policy, argon2id parameters,
// ticket invalidation, events and throttle counters).
package accounts

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/passport"
)

// Ops are the account operations over one store with the configured
// argon2id parameters and login-throttle limits.
type Ops struct {
	Store       *store.Store
	Params      auth.Argon2Params
	MaxFailures int           // ABCH_LOGIN_FAILURES
	Window      time.Duration // ABCH_LOGIN_FAILURE_WINDOW
}

// New returns the operations of cfg over st.
func New(st *store.Store, cfg config.Config) *Ops {
	return &Ops{
		Store:       st,
		Params:      auth.Argon2Params{MemoryKiB: cfg.Argon2Memory, Time: cfg.Argon2Time, Parallelism: cfg.Argon2Par},
		MaxFailures: cfg.LoginFailuresPerAccount,
		Window:      cfg.LoginFailureWindow,
	}
}

// PasswordRules is a password policy: a length range in characters, no
// control characters (no client can type them), and not the sign-in name.
type PasswordRules struct {
	Min, Max int
}

// Operator is the policy of `abch user add/passwd`: the operator is
// trusted to set what a migration or a test account needs (any length up
// to 128), within the rules no client could sign in without.
var Operator = PasswordRules{Min: 1, Max: 128}

// SelfService is the policy of the web pages: at least 8 characters and at
// most 16, because purple and BitlBee send only the first 16 characters of
// a password (RST_OIM.md §1.2, docs/passport.md), and Passport itself
// allowed no more; an account made on the web signs in from every client.
var SelfService = PasswordRules{Min: 8, Max: 16}

// ClientCut is the password length some clients cut to (docs/passport.md).
const ClientCut = 16

// Check returns CodeInvalidPassword with a sentence a person can act on
// when password breaks the rules for the account email.
func (p PasswordRules) Check(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return models.Errorf(models.CodeInvalidPassword, "the password is not valid text")
	case n < p.Min && p.Min <= 1:
		return models.Errorf(models.CodeInvalidPassword, "empty password")
	case n < p.Min:
		return models.Errorf(models.CodeInvalidPassword, "the password must have at least %d characters", p.Min)
	case n > p.Max:
		return models.Errorf(models.CodeInvalidPassword, "the password must have at most %d characters", p.Max)
	case strings.IndexFunc(password, unicode.IsControl) >= 0:
		return models.Errorf(models.CodeInvalidPassword, "the password must not contain control characters (tabs, line breaks)")
	case email != "" && strings.EqualFold(password, email):
		return models.Errorf(models.CodeInvalidPassword, "the password must not be the e-mail address")
	}
	return nil
}

// CheckDisplayName refuses a name no client can show: empty, longer than
// store.MaxDisplayNameBytes, not UTF-8 or with line breaks
// (CodeBadArgumentLength). An empty name is allowed when the address is to
// stand in for it (sign-up, user add).
func CheckDisplayName(name string, allowEmpty bool) error {
	if name == "" && allowEmpty {
		return nil
	}
	if name == "" || len(name) > store.MaxDisplayNameBytes || !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\x00") {
		return models.Errorf(models.CodeBadArgumentLength, "the display name must be 1 to %d bytes of text on one line", store.MaxDisplayNameBytes)
	}
	return nil
}

// NewUser is an account to create.
type NewUser struct {
	Email, Password, DisplayName string
	// Invite, when not empty, is the invitation code used up in the same
	// transaction (ABCH_SIGNUP=invite).
	Invite string
}

// Create makes an account after checking the address (CodeInvalidEmail;
// addresses in any letter case are one account: CodeAccountExists), the
// display name and the password against rules, then hashes the password
// with argon2id. With an invitation code the code is used up in the same
// transaction (CodeNotFound when it is unknown or used).
func (o *Ops) Create(ctx context.Context, u NewUser, rules PasswordRules) (*models.Account, error) {
	lower, err := models.NormalizeEmail(u.Email)
	if err != nil {
		return nil, err
	}
	if err := CheckDisplayName(u.DisplayName, true); err != nil {
		return nil, err
	}
	if err := rules.Check(u.Password, lower); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(u.Password, o.Params)
	if err != nil {
		return nil, err
	}
	na := store.NewAccount{Email: strings.TrimSpace(u.Email), PasswordHash: hash, DisplayName: u.DisplayName}
	if u.Invite != "" {
		return o.Store.CreateAccountWithInvite(ctx, na, u.Invite)
	}
	return o.Store.CreateAccount(ctx, na)
}

// SetPassword sets the password of the account with the address (checked
// against rules) and ends every ticket issued before, as a password change
// must (the token version goes up).
func (o *Ops) SetPassword(ctx context.Context, email, password string, rules PasswordRules) (*models.Account, error) {
	acct, err := o.Store.AccountByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if err := rules.Check(password, acct.EmailLower); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(password, o.Params)
	if err != nil {
		return nil, err
	}
	if err := o.Store.SetPassword(ctx, acct.ID, hash, true); err != nil {
		return nil, err
	}
	return o.Store.AccountByID(ctx, acct.ID)
}

// Summary is what an operator sees of an account.
type Summary struct {
	store.AccountSummary
	Failures    int  // failed sign-ins in the current throttle window
	MaxFailures int  // ABCH_LOGIN_FAILURES
	Locked      bool // Failures reached MaxFailures: sign-in refused until unlock or the window ends
}

// Show loads the account's summary with its login-throttle state.
func (o *Ops) Show(ctx context.Context, email string) (*Summary, error) {
	sum, err := o.Store.AccountSummary(ctx, email)
	if err != nil {
		return nil, err
	}
	acctKey, _ := passport.ThrottleKeys(sum.Account.Email, "")
	fails, err := o.Store.LoginFailures(ctx, o.Store.Now().Add(-o.Window), acctKey)
	if err != nil {
		return nil, err
	}
	n := fails[acctKey]
	return &Summary{AccountSummary: *sum, Failures: n, MaxFailures: o.MaxFailures, Locked: n >= o.MaxFailures}, nil
}

// SetDisabled disables or enables the account (store.SetDisabled: a
// disabled account's tickets stop at once and its NS sessions close). It
// reports whether anything changed.
func (o *Ops) SetDisabled(ctx context.Context, email string, disabled bool) (*models.Account, bool, error) {
	return o.Store.SetDisabled(ctx, email, disabled)
}

// Unlock clears the account's failed sign-ins and, when address is not
// empty, that source address's.
func (o *Ops) Unlock(ctx context.Context, email, address string) error {
	acctKey, ipKey := passport.ThrottleKeys(email, address)
	if err := o.Store.ClearLoginFailures(ctx, acctKey); err != nil {
		return err
	}
	if address != "" {
		return o.Store.ClearLoginFailures(ctx, ipKey)
	}
	return nil
}

// Delete deletes the account and everything it owns (store.DeleteAccount)
// and forgets its failed sign-ins.
func (o *Ops) Delete(ctx context.Context, email string) (*store.DeletedAccount, error) {
	res, err := o.Store.DeleteAccount(ctx, email)
	if err != nil {
		return nil, err
	}
	acctKey, _ := passport.ThrottleKeys(res.Account.Email, "")
	if err := o.Store.ClearLoginFailures(ctx, acctKey); err != nil {
		return nil, err
	}
	return res, nil
}
