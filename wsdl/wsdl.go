// Package wsdl holds abch's own WSDL documents, embedded in the binary and
// served at GET <service path>?wsdl. They name the operations abch
// implements, with the namespaces and SOAPActions of the historical services
// (../shared/reference/wsdl), and leave element contents open: the request
// shapes clients really send are documented in PROTOCOL.md.
package wsdl

import _ "embed"

// AB describes the Address Book service (/abservice/abservice.asmx).
//
//go:embed ab.wsdl
var AB []byte

// Sharing describes the Sharing service (/abservice/SharingService.asmx).
//
//go:embed sharing.wsdl
var Sharing []byte

// Passport describes Passport RST (/RST.srf, /RST2.srf).
//
//go:embed passport.wsdl
var Passport []byte

// OIM describes the Offline IM Store service (/OimWS/oim.asmx).
//
//go:embed oim.wsdl
var OIM []byte

// RSI describes offline message retrieval (/rsi/rsi.asmx).
//
//go:embed rsi.wsdl
var RSI []byte

// Storage describes the Storage service, SchematizedStore
// (/storageservice/SchematizedStore.asmx).
//
//go:embed storage.wsdl
var Storage []byte
