package auth

import (
	"context"
	"errors"
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Principal is the account a request is authenticated as.
type Principal struct {
	AccountID int64
	Email     string
	// Revision is the account's current book revision, loaded with the
	// ticket check (response caches key on it).
	Revision int64
	Claims   Claims
}

// Authenticator checks tickets against the accounts table.
type Authenticator struct {
	Tickets *Ticketer
	Store   *store.Store
}

// Verify checks ticket text (any form TPart accepts) for one of the allowed
// audiences. Every failure (missing, malformed, forged, expired, wrong
// audience, disabled account, ticket issued before a password change) is a
// CodePassportAuthFail error; the reason is kept in Err for the log only.
func (a *Authenticator) Verify(ctx context.Context, text string, allowed ...Audience) (*Principal, error) {
	c, err := a.Check(text, allowed...)
	if err != nil {
		return nil, err
	}
	return a.Load(ctx, c)
}

// Load finishes Check's check the usual way: it reads the claims' account
// row and judges it with Accept.
func (a *Authenticator) Load(ctx context.Context, c Claims) (*Principal, error) {
	st, err := a.Store.AccountByID(ctx, c.AccountID)
	if models.ErrorCode(err) == models.CodeNotFound {
		st, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.Accept(c, st)
}

// Check is the first half of Verify, which needs no database: the ticket's
// form, signature, expiry and audience. Its Claims may only be trusted once
// Accept has passed them with the account row; until then they only say
// which row to read.
func (a *Authenticator) Check(text string, allowed ...Audience) (Claims, error) {
	if TPart(text) == "" {
		return Claims{}, authFailed(errors.New("no ticket"))
	}
	c, err := a.Tickets.Parse(text)
	if err != nil {
		return Claims{}, authFailed(err)
	}
	for _, aud := range allowed {
		if c.Audience == aud {
			return c, nil
		}
	}
	if len(allowed) == 0 {
		return c, nil
	}
	return Claims{}, authFailed(errors.New("ticket audience " + c.Audience.String() + " not accepted here"))
}

// Accept is the second half of Verify: it judges Check's claims against the
// account row st (nil when the account is gone), read after Check.
func (a *Authenticator) Accept(c Claims, st *models.Account) (*Principal, error) {
	switch {
	case st == nil || st.ID != c.AccountID:
		return nil, authFailed(errors.New("account gone"))
	case st.Disabled:
		return nil, authFailed(errors.New("account disabled"))
	case st.TokenVersion != c.TokenVersion:
		return nil, authFailed(errors.New("ticket issued before a password change"))
	}
	return &Principal{AccountID: st.ID, Email: st.Email, Revision: st.Revision, Claims: c}, nil
}

// authFailed is the one error every ticket failure becomes.
func authFailed(reason error) error {
	return &models.Error{Code: models.CodePassportAuthFail, Message: "Passport authentication failed", Err: reason}
}

// Throttle counts failed sign-ins per key (an account, a source address) in
// fixed windows; past Max failures in a window the key is refused until the
// window ends. The counts live in the database (store.LoginFailures), so
// every abch process sharing it enforces one limit: a guesser spreading
// attempts over several processes behind a balancer gets no more tries.
type Throttle struct {
	Max    int
	Window time.Duration
	Now    func() time.Time
	Store  *store.Store

	// AddressMax is the limit per source address (Refusing; 0: Max).
	AddressMax int
}

// NewThrottle returns a throttle allowing max failures per window, counted
// in st.
func NewThrottle(st *store.Store, max int, window time.Duration) *Throttle {
	return &Throttle{Max: max, Window: window, Now: time.Now, Store: st}
}

// Blocked reports whether any of keys has used up its failures in its
// current window.
func (t *Throttle) Blocked(ctx context.Context, keys ...string) (bool, error) {
	counts, err := t.Store.LoginFailures(ctx, t.Now().Add(-t.Window), keys...)
	if err != nil {
		return false, err
	}
	for _, n := range counts {
		if n >= t.Max {
			return true, nil
		}
	}
	return false, nil
}

// Fail records a failure for each of keys.
func (t *Throttle) Fail(ctx context.Context, keys ...string) error {
	now := t.Now()
	return t.Store.RecordLoginFailure(ctx, now, now.Add(-t.Window), keys...)
}

// Reset forgets key's failures (after a successful sign-in).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	return t.Store.ClearLoginFailures(ctx, key)
}
