package services

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/abch-im/abch/services/soap"
)

// ProbeHost is the host MSNPSharp sends its first Address Book and Sharing
// call of a session to. The real service answered it with a fault whose
// ServiceHeader names the PreferredHostName (and a CacheKey) the client
// then uses for every later call (captures/msnpsharp-login
// 002_redirect-probe-FindMembership, 004_redirect-probe-ABFindAll). The
// probe's body equals the real call's, so only the Host header tells it
// apart (NS_CLIENT_FACTS.md "Storage service").
const ProbeHost = "byrdr.omega.contacts.msn.com"

// PreferredHost is the PreferredHostName the probe answer names: the AB
// host of the capture, which the README asks operators to point at abch.
const PreferredHost = "omega.contacts.msn.com"

// probePaths are the services the probe is sent to.
var probePaths = map[string]bool{"/abservice/abservice.asmx": true, "/abservice/sharingservice.asmx": true}

// Probe wraps the SOAP dispatcher with the answer to MSNPSharp's probe.
func Probe(d Deps, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if r.Method != http.MethodPost || !strings.EqualFold(host, ProbeHost) || !probePaths[soap.NormalizePath(r.URL.Path)] {
			next.ServeHTTP(w, r)
			return
		}
		// The request is not read further than needed to answer cleanly.
		_, _ = io.CopyN(io.Discard, r.Body, d.Config.MaxBodyBytes)
		w.Header().Set("Cache-Control", "private")
		body := probeFault(d.Store.NewGUID())
		// The capture's answer is typed text/html, and that is what
		// MSNPSharp was seen to handle.
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(body)
	})
}

// probeFault is the capture's answer with this session's id.
func probeFault(sessionID string) []byte {
	w := soap.Begin(1024)
	soap.ServiceHeader{CacheKey: "12r1:" + sessionID, PreferredHostName: PreferredHost, SessionID: sessionID}.Write(w)
	soap.BeginBody(w)
	w.Open("soap:Fault")
	w.Leaf("faultcode", "soap:Client")
	w.Leaf("faultstring", "Use preferred host")
	w.Close("soap:Fault")
	return soap.End(w)
}
