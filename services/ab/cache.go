package ab

// cacheID names one cached full answer (internal/answercache): the
// account's book in one of the two find forms, cached at the revision the
// book was read at. The ticket check already loads the account's current
// revision (auth.Principal.Revision), so a hit costs no database read.
type cacheID struct {
	account int64
	form    findForm
}
