package auth

import (
	"context"
	"errors"
	"sync"
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
	// Account is the whole account row as read by the ticket check, so a
	// delta sync needs no second read of it.
	Account *models.Account
	Claims  Claims
}

// Authenticator checks tickets against the accounts table.
type Authenticator struct {
	Tickets *Ticketer
	Store   *store.Store
}

// Verify checks ticket text (any form TPart accepts) for one of the allowed
// audiences. Every failure (missing, malformed, forged, expired, wrong
// audience, disabled account, ticket issued before a password change) is a
// CodeAuthFailed error; the reason is kept in Err for the log only.
func (a *Authenticator) Verify(ctx context.Context, text string, allowed ...Audience) (*Principal, error) {
	c, err := a.Check(text, allowed...)
	if err != nil {
		return nil, err
	}
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
	return &Principal{AccountID: st.ID, Email: st.Email, Revision: st.Revision, Account: st, Claims: c}, nil
}

// authFailed is the one error every ticket failure becomes.
func authFailed(reason error) error {
	return &models.Error{Code: models.CodeAuthFailed, Message: "Passport authentication failed", Err: reason}
}

// Throttle counts failures per key (an account or a source address) in a
// fixed window; past the limit the key is refused until the window ends.
type Throttle struct {
	Max    int
	Window time.Duration
	Now    func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	start time.Time
	fails int
}

// NewThrottle returns a throttle allowing max failures per window.
func NewThrottle(max int, window time.Duration) *Throttle {
	return &Throttle{Max: max, Window: window, Now: time.Now, entries: map[string]*throttleEntry{}}
}

// Blocked reports whether key has used up its failures in this window.
func (t *Throttle) Blocked(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entries[key]
	if e == nil {
		return false
	}
	if t.Now().Sub(e.start) >= t.Window {
		delete(t.entries, key)
		return false
	}
	return e.fails >= t.Max
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if len(t.entries) > 100_000 { // bound memory under a spray of keys
		for k, e := range t.entries {
			if now.Sub(e.start) >= t.Window {
				delete(t.entries, k)
			}
		}
	}
	e := t.entries[key]
	if e == nil || now.Sub(e.start) >= t.Window {
		e = &throttleEntry{start: now}
		t.entries[key] = e
	}
	e.fails++
}

// Reset forgets key's failures (after a successful sign-in).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.entries, key)
	t.mu.Unlock()
}
