// Package msnp is the MSNP wire codec and protocol vocabulary of abch's
// Notification Server: reading client command lines and payloads with
// limits, writing server lines, the ADL/RML/FQY and UUX/UBX payloads,
// presence statuses, client capabilities, MSNObjects, the sign-in payloads
// (TWN challenge, profile message, GCF policies, CVR and URL answers) and
// the CHL/QRY challenge hash.
//
// It holds pure functions only and imports nothing from the project but
// models. It serves MSNP8–12 (SYN-era lists: syn.go) and MSNP13/15; details
// that differ between MSNP8 and MSNP15 are parameters (a protocol version
// number), not separate code paths.
//
// Sources are cited where a quirk is implemented: PROTOCOL.md and
// clients/NS_CLIENT_FACTS.md in the shared reference, the captured client
// dialogues (clients/captures/*/ns.log), and pidgin's
// libpurple/protocols/msn (tags v2.2.2 for MSNP9, v2.4.3, v2.10.1), and for
// MSNP8–12 formats yellows111's msnp-wiki command and version pages.
package msnp
