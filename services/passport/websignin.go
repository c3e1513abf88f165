package passport

import (
	"context"
	"errors"

	"github.com/abch-im/abch/models"
)

// SignIn checks a Messenger password for another front end (the web pages,
// services/web) exactly as RST does: the same login throttle counters (a
// guess on the web counts against the same account and source address as
// one over RST), the same argon2id check, the sign-in record and the hash
// upgrade. Every failure is one FailedAuthentication error; Disabled tells
// whether it was the right password of a disabled account.
type SignIn struct{ s *service }

// NewSignIn returns the password check of the Passport service deps.
func NewSignIn(deps Deps) *SignIn { return &SignIn{s: &service{deps: deps}} }

// Check returns the account whose password this is, signing it in from
// remoteIP; requestID names the attempt in the logs.
func (c *SignIn) Check(ctx context.Context, username, password, remoteIP, requestID string) (*models.Account, error) {
	return c.s.authenticate(attempt{Ctx: ctx, ID: requestID, RemoteIP: remoteIP}, username, password)
}

// Disabled reports whether err (from Check) is the refusal of a disabled
// account whose password was right.
func Disabled(err error) bool {
	var e *models.Error
	return errors.As(err, &e) && e.Code == models.CodeFailedAuthentication && e.Detail[detailReqStatus] == reqStatusLockedOut
}
