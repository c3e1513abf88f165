// Package ab is the Address Book service (/abservice/abservice.asmx).
package ab

import "github.com/abch-im/abch/services/soap"
import "github.com/abch-im/abch/wsdl"

// New returns the Address Book service.
func New(d soap.Deps) *soap.Service {
	return &soap.Service{
		Name:  "abservice",
		Paths: []string{"/abservice/abservice.asmx"},
		Ops:   map[string]soap.Handler{},
		Fault: soap.ABFaults(d.Config.Hostname),
		WSDL:  wsdl.AB,
	}
}
