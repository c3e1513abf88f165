package passport

import (
	"context"
	"errors"
	"strings"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
)

// attempt is the request a sign-in comes with: RST's SOAP request or
// Passport 1.4's login2.srf (tweener.go).
type attempt struct {
	Ctx      context.Context
	ID       string // request id, for logs
	RemoteIP string
}

// errFailed is the one error every failed sign-in becomes: wrong password,
// unknown or disabled account and throttled attempts are indistinguishable
// on the wire (same fault bytes apart from ServerTime).
func errFailed(reason string) error {
	return &models.Error{Code: models.CodeFailedAuthentication, Message: "Authentication Failure", Err: errors.New(reason)}
}

// throttleKeys are the two counters a sign-in attempt is charged to: the
// account (normalised e-mail, or the raw name when it is not an address) and
// the source address.
func throttleKeys(username, remoteIP string) (account, source string) {
	name := strings.ToLower(strings.TrimSpace(username))
	if n, err := models.NormalizeEmail(username); err == nil {
		name = n
	}
	return "rst:acct:" + name, "rst:ip:" + remoteIP
}

// authenticate checks the password of username. Passwords are compared as
// sent: purple and BitlBee 3.0 cut passwords to 16 characters before sending
// (RST_OIM.md §1.2), so an account whose password is longer cannot sign in
// from them; we do not accept prefixes (that would weaken every password) —
// such users pick a password of at most 16 characters (docs/passport.md).
func (s *service) authenticate(r attempt, username, password string) (*models.Account, error) {
	acctKey, ipKey := throttleKeys(username, r.RemoteIP)
	th := s.deps.Throttle
	if th != nil {
		limit, err := th.Refusing(r.Ctx, acctKey, ipKey)
		if err != nil {
			return nil, err
		}
		if limit != "" {
			s.logThrottled(r, username, password, limit) // admin.go
			return nil, errFailed("throttled by the " + limit + " limit")
		}
	}
	fail := func(reason string) error {
		if th != nil {
			if err := th.Fail(r.Ctx, acctKey, ipKey); err != nil {
				return err
			}
		}
		return errFailed(reason)
	}
	params := s.params()
	acct, err := s.deps.Store.AccountByEmail(r.Ctx, username)
	if err != nil {
		switch models.ErrorCode(err) {
		case models.CodeNotFound, models.CodeInvalidEmail:
			// Spend the same work as a real check so timing does not tell
			// unknown accounts from wrong passwords.
			auth.VerifyPassword(s.dummy(), password, params)
			return nil, fail("unknown account")
		}
		return nil, err
	}
	ok, rehash := auth.VerifyPassword(acct.PasswordHash, password, params)
	if !ok {
		return nil, fail("wrong password")
	}
	if acct.Disabled {
		// The right password of a disabled account: the same fault, with
		// the locked-out reqstatus instead of wrong-password (admin.go).
		return nil, disabledFault(fail("account disabled"))
	}
	if th != nil {
		if err := th.Reset(r.Ctx, acctKey); err != nil {
			return nil, err
		}
	}
	if err := s.deps.Store.RecordSignIn(r.Ctx, acct.ID, s.now(), r.RemoteIP); err != nil && s.deps.Log != nil {
		s.deps.Log.Warn("recording the sign-in failed", "request_id", r.ID, "account", acct.Email, "error", err.Error())
	}
	if rehash {
		// Upgrade migrated (Escargot PBKDF2) or old-parameter hashes on the
		// first sign-in; the token version stays, so issued tickets live on.
		if h, err := auth.HashPassword(password, params); err == nil {
			if err := s.deps.Store.SetPassword(r.Ctx, acct.ID, h, false); err != nil && s.deps.Log != nil {
				s.deps.Log.Warn("password rehash failed", "request_id", r.ID, "account", acct.Email, "error", err.Error())
			}
		}
	}
	return acct, nil
}

func (s *service) params() auth.Argon2Params {
	c := s.deps.Config
	return auth.Argon2Params{MemoryKiB: c.Argon2Memory, Time: c.Argon2Time, Parallelism: c.Argon2Par}
}

// dummy is a hash of a random password with the current parameters, made on
// first use.
func (s *service) dummy() string {
	s.dummyOnce.Do(func() {
		h, err := auth.HashPassword("abch: no such account", s.params())
		if err == nil {
			s.dummyHash = h
		}
	})
	return s.dummyHash
}
