// Package sharing is the Sharing service (/abservice/SharingService.asmx):
// the Allow, Block, Reverse and Pending lists.
package sharing

import "github.com/abch-im/abch/services/soap"
import "github.com/abch-im/abch/wsdl"

// New returns the Sharing service.
func New(d soap.Deps) *soap.Service {
	return &soap.Service{
		Name:  "sharing",
		Paths: []string{"/abservice/SharingService.asmx"},
		Ops:   map[string]soap.Handler{},
		Fault: soap.ABFaults(d.Config.Hostname),
		WSDL:  wsdl.Sharing,
	}
}
