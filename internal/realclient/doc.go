// Package realclient holds the opt-in test that signs real, unmodified MSN
// clients in to abch: pidgin's MSN protocol plugin (tags v2.4.3 for MSNP13 and
// v2.10.1 for MSNP15) loaded by Debian's libpurple through a small headless
// driver (testdata/driver.c), against `abch serve` alone. The package has no
// code of its own; see README.md for what the test needs and what it proves.
package realclient
