// Package services is the route table: every SOAP service abch serves, each
// with its paths and operations (see each package's New).
package services

import (
	"github.com/abch-im/abch/services/ab"
	"github.com/abch-im/abch/services/oim"
	"github.com/abch-im/abch/services/passport"
	"github.com/abch-im/abch/services/sharing"
	"github.com/abch-im/abch/services/soap"
)

// SOAP returns the client-facing SOAP services.
func SOAP(d soap.Deps) []*soap.Service {
	return []*soap.Service{
		passport.New(d), // /RST.srf, /RST2.srf
		ab.New(d),       // /abservice/abservice.asmx
		sharing.New(d),  // /abservice/SharingService.asmx
		oim.NewStore(d), // /OimWS/oim.asmx
		oim.NewRSI(d),   // /rsi/rsi.asmx
	}
}
