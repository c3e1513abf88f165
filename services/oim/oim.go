// Package oim is Offline IM: the OIM Store service (/OimWS/oim.asmx), where
// a client leaves a message for an offline contact, and RSI
// (/rsi/rsi.asmx), where the recipient lists, reads and deletes them
// (PROTOCOL.md §7, clients/RST_OIM.md Parts 2 and 3).
package oim

import (
	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// Namespaces and addresses of the OIM services.
const (
	// NSOIM2006 is the MSNP15 Store2 SOAPAction prefix; request bodies stay in
	// the 2004 namespace (soap.NSOIM) either way.
	NSOIM2006 = "http://messenger.live.com/ws/2006/09/oim/"
	// StoreActor and RSIActor are the faultactor values of the real services.
	StoreActor = "https://ows.messenger.msn.com/OimWS/oim.asmx"
	RSIActor   = "https://rsi.hotmail.com/rsi/rsi.asmx"
	// rmIdentifier is the WS-RM sequence every client names.
	rmIdentifier = "http://messenger.msn.com"
)

// StoreAudiences are the tickets Store accepts in Ticket/@passport: the
// messengersecure.live.com (MBI_SSL) ticket of MSNP15 clients and the
// messenger.msn.com (TWN) ticket of MSNP13/14 ones (RST_OIM.md §2.1).
var StoreAudiences = []auth.Audience{auth.AudMessengerSecure, auth.AudMessenger}

// RSIAudiences are the tickets RSI accepts in PassportCookie: only the
// messenger.msn.com ticket, which every client sends there (RST_OIM.md §3.1).
var RSIAudiences = []auth.Audience{auth.AudMessenger}

// NewStore returns the OIM Store service. Its body has no operation
// element, so the operation comes from the SOAPAction: …/oim/Store
// (MSNP13) or …/oim/Store2 (MSNP15, also the default when the header is
// missing or unknown).
func NewStore(d soap.Deps) *soap.Service {
	h := &storeHandler{d: d}
	return &soap.Service{
		Name:  "oim",
		Paths: []string{"/OimWS/oim.asmx"},
		Ops:   map[string]soap.Handler{"Store": h.store, "Store2": h.store},
		OpFor: storeOp,
		Fault: storeFault,
		WSDL:  wsdl.OIM,
	}
}

// NewRSI returns the RSI service.
func NewRSI(d soap.Deps) *soap.Service {
	h := &rsiHandler{d: d}
	return &soap.Service{
		Name:  "rsi",
		Paths: []string{"/rsi/rsi.asmx"},
		Ops: map[string]soap.Handler{
			"GetMetadata":    h.getMetadata,
			"GetMessage":     h.getMessage,
			"DeleteMessages": h.deleteMessages,
		},
		Fault: rsiFault,
		WSDL:  wsdl.RSI,
	}
}

// storeOp names the Store operation from the SOAPAction.
func storeOp(r *soap.Request) string {
	if soap.ActionName(r.Action) == "Store" {
		return "Store"
	}
	return "Store2"
}
