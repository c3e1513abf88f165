// Package passport is Passport RST login (/RST.srf, /RST2.srf).
package passport

import "github.com/abch-im/abch/services/soap"

// New returns the Passport RST service.
func New(d soap.Deps) *soap.Service {
	return &soap.Service{
		Name:  "passport",
		Paths: []string{"/RST.srf", "/RST2.srf", "/pp550/RST.srf", "/pp900/RST.srf"},
		Ops:   map[string]soap.Handler{},
		Fault: soap.ABFaults(d.Config.Hostname),
	}
}
