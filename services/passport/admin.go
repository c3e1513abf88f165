package passport

import (
	"errors"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
)

// detailReqStatus is the models.Error Detail key that overrides the
// psf:reqstatus of a FailedAuthentication fault.
const detailReqStatus = "reqstatus"

// reqStatusLockedOut is PPCRL_REQUEST_E_PASSWORD_LOCKED_OUT (0x80048823 in
// the IDCRL error table of the library WLM signs in with): the documented
// code for an account that may not sign in, where a wrong password is
// PPCRL_REQUEST_E_BAD_MEMBER_NAME_OR_PASSWORD (0x80048821). ESC's RST.srf
// template sent it for every failure (PROTOCOL.md §6.3); clients other
// than WLM only look at the faultcode (docs/passport.md).
const reqStatusLockedOut = "0x80048823"

// disabledFault marks err (the FailedAuthentication of a disabled account
// whose password was right) with the locked-out reqstatus. Only a caller who
// knows the password learns that the account is disabled.
func disabledFault(err error) error {
	var e *models.Error
	if errors.As(err, &e) && e.Code == models.CodeFailedAuthentication {
		c := *e
		c.Detail = map[string]string{detailReqStatus: reqStatusLockedOut}
		return &c
	}
	return err
}

// logThrottled logs a sign-in refused by the login throttle, naming the
// limit that applied. When only the source-address limit applied, the
// password is checked for the log alone (the answer is the same fault
// either way): a right password refused there is a real user behind a
// shared address (NAT, a proxy) locked out by someone else's guesses, and
// the operator should raise ABCH_LOGIN_FAILURES_PER_ADDRESS.
func (s *service) logThrottled(r attempt, username, password, limit string) {
	if s.deps.Log == nil {
		return
	}
	args := []any{"request_id", r.ID, "limit", limit, "account", username, "source", r.RemoteIP}
	if limit == auth.LimitAddress {
		right := false
		if acct, err := s.deps.Store.AccountByEmail(r.Ctx, username); err == nil {
			right, _ = auth.VerifyPassword(acct.PasswordHash, password, s.params())
		} else {
			auth.VerifyPassword(s.dummy(), password, s.params())
		}
		args = append(args, "password_correct", right)
		if right {
			s.deps.Log.Warn("sign-in with the right password refused by the source-address login limit (raise ABCH_LOGIN_FAILURES_PER_ADDRESS if many users share this address)", args...)
			return
		}
	}
	s.deps.Log.Warn("sign-in refused by the login throttle", args...)
}
