// Package oim is Offline IM: the OIM Store service (/OimWS/oim.asmx) and RSI
// retrieval (/rsi/rsi.asmx).
package oim

import "github.com/abch-im/abch/services/soap"
import "github.com/abch-im/abch/wsdl"

// NewStore returns the OIM Store service.
func NewStore(d soap.Deps) *soap.Service {
	return &soap.Service{
		Name:  "oim",
		Paths: []string{"/OimWS/oim.asmx"},
		Ops:   map[string]soap.Handler{},
		Fault: soap.ABFaults(d.Config.Hostname),
		WSDL:  wsdl.OIM,
	}
}

// NewRSI returns the RSI service.
func NewRSI(d soap.Deps) *soap.Service {
	return &soap.Service{
		Name:  "rsi",
		Paths: []string{"/rsi/rsi.asmx"},
		Ops:   map[string]soap.Handler{},
		Fault: soap.ABFaults(d.Config.Hostname),
		WSDL:  wsdl.RSI,
	}
}
