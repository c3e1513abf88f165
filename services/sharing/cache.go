package sharing

// cacheKey names one cached full FindMembership answer
// (internal/answercache): the account's lists with or without the
// Messenger service, cached at the revision they were read at.
type cacheKey struct {
	account   int64
	messenger bool
}
