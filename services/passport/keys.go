package passport

// ThrottleKeys returns the login-throttle keys a sign-in attempt by
// username from remoteIP is counted under (account, source address), for
// `abch user unlock` and `abch user delete`.
func ThrottleKeys(username, remoteIP string) (account, source string) {
	return throttleKeys(username, remoteIP)
}
