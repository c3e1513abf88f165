package auth

import "context"

// The login-throttle limits an attempt can be refused by, as logged.
const (
	LimitAccount = "account"        // ABCH_LOGIN_FAILURES
	LimitAddress = "source address" // ABCH_LOGIN_FAILURES_PER_ADDRESS
)

// Refusing reports which limit refuses an attempt charged to accountKey and
// addressKey: LimitAccount when the account has used up Max failures in its
// window, else LimitAddress when the source address has used up AddressMax
// (Max when AddressMax is 0), else "".
func (t *Throttle) Refusing(ctx context.Context, accountKey, addressKey string) (string, error) {
	counts, err := t.Store.LoginFailures(ctx, t.Now().Add(-t.Window), accountKey, addressKey)
	if err != nil {
		return "", err
	}
	addrMax := t.AddressMax
	if addrMax <= 0 {
		addrMax = t.Max
	}
	switch {
	case counts[accountKey] >= t.Max:
		return LimitAccount, nil
	case counts[addressKey] >= addrMax:
		return LimitAddress, nil
	}
	return "", nil
}
