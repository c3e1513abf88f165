package store

// Watchers (the NS API's …/watchers, at every NS sign-in) finds contacts by
// lower(passport_name) as well as by contact_account_id; without an index on
// the expression that arm scans every contact of every account
// (NS_BENCH_FINDINGS N2).
func init() {
	register(sqlMigration{ID: "0390_contacts_passport_lower", SQL: `
CREATE INDEX contacts_passport_lower ON contacts (lower(passport_name));
`})
}
