package server

import (
	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
)

// newThrottle is the login throttle of cfg: ABCH_LOGIN_FAILURES per account,
// ABCH_LOGIN_FAILURES_PER_ADDRESS per source address (0: the same), both in
// ABCH_LOGIN_FAILURE_WINDOW.
func newThrottle(st *store.Store, cfg config.Config) *auth.Throttle {
	th := auth.NewThrottle(st, cfg.LoginFailuresPerAccount, cfg.LoginFailureWindow)
	th.AddressMax = cfg.LoginFailuresPerAddress
	return th
}
