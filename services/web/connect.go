package web

import (
	"bytes"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/abch-im/abch/services/ns/msnp"
)

// client is one Messenger client and the protocol it speaks.
type client struct {
	Name     string
	Protocol int    // MSNP version
	Needs    string // what it needs from the server besides the hosts lines
	Works    bool   // the NS speaks its protocol and the needed listeners run
	Why      string // what is missing, or a caveat
}

// knownClients are the clients the captures and NS_CLIENT_FACTS.md name,
// with their protocol (pidgin's from its plugin versions; Microsoft's from
// the version each shipped with).
var knownClients = []client{
	{Name: "Windows Live Messenger 8.5", Protocol: 15, Needs: "HTTPS (SOAP and Passport RST) with the certificate installed"},
	{Name: "Windows Live Messenger 8.0/8.1", Protocol: 13, Needs: "HTTPS (SOAP and Passport RST) with the certificate installed"},
	{Name: "pidgin 2.5 – 2.10, BitlBee 3.0, aMSN 0.98", Protocol: 15, Needs: "HTTPS (SOAP and Passport RST); passwords of at most 16 characters"},
	{Name: "pidgin 2.4", Protocol: 13, Needs: "HTTPS (SOAP and Passport RST); passwords of at most 16 characters"},
	{Name: "MSN Messenger 7.5", Protocol: 12, Needs: "Passport 1.4 login over HTTPS"},
	{Name: "MSN Messenger 7.0", Protocol: 11, Needs: "Passport 1.4 login over HTTPS"},
	{Name: "MSN Messenger 6.2", Protocol: 10, Needs: "Passport 1.4 login over HTTPS"},
	{Name: "pidgin 2.0 – 2.3, MSN Messenger 6.0", Protocol: 9, Needs: "Passport 1.4 login over HTTPS"},
	{Name: "MSN Messenger 5.0", Protocol: 8, Needs: "Passport 1.4 login over HTTPS"},
}

// connectPage is what the "how to connect" page shows, from the server's
// own settings.
type connectPage struct {
	Address      string // the address the hosts lines point at
	Hosts        string
	Certificate  bool // a certificate can be downloaded
	HTTPS        bool // ABCH_HTTPS_ADDR is set
	NS           bool // this process runs the NS
	TLSProfile   string
	Protocols    string
	Clients      []client
	HostsEnabled bool
}

// serverIP is the address clients should reach: the host of the web
// request when it is an IP address (the operator's own view of the
// server), else the HTTPS or HTTP listener's, else 127.0.0.1.
func (w *Web) serverIP(r *http.Request) net.IP {
	for _, a := range []string{r.Host, w.deps.Config.HTTPSAddr, w.deps.Config.HTTPAddr} {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && !ip.IsUnspecified() {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

func (w *Web) hostsText(r *http.Request) string {
	if w.deps.Hosts == nil {
		return ""
	}
	var buf bytes.Buffer
	ip := w.serverIP(r)
	w.deps.Hosts(&buf, ip, ip)
	return buf.String()
}

func (w *Web) connect(rw http.ResponseWriter, r *http.Request) {
	c := w.deps.Config
	p := connectPage{Address: w.serverIP(r).String(), Hosts: w.hostsText(r), HostsEnabled: w.deps.Hosts != nil,
		HTTPS: c.HTTPSAddr != "", NS: c.MSNPEnabled(), TLSProfile: c.TLSProfile, Certificate: w.certPEM() != nil}
	var ps []string
	for _, v := range msnp.Versions {
		ps = append(ps, "MSNP"+strconv.Itoa(v))
	}
	p.Protocols = strings.Join(ps, ", ")
	for _, k := range knownClients {
		switch {
		case !slices.Contains(msnp.Versions, k.Protocol):
			k.Why = "the Notification Server does not speak MSNP" + strconv.Itoa(k.Protocol) + " yet"
		case !p.HTTPS:
			k.Why = "this server has no HTTPS listener (ABCH_HTTPS_ADDR)"
		case c.TLSProfile == "modern":
			k.Works, k.Why = true, "not on Windows XP/Vista: the modern TLS profile (ABCH_TLS_PROFILE) refuses their TLS"
		default:
			k.Works = true
		}
		p.Clients = append(p.Clients, k)
	}
	w.render(rw, r, http.StatusOK, "connect", view{Title: "How to connect", Data: p})
}

func (w *Web) hostsFile(rw http.ResponseWriter, r *http.Request) {
	txt := w.hostsText(r)
	if txt == "" {
		w.fail(rw, r, http.StatusNotFound, "No hosts lines here.")
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Content-Disposition", `attachment; filename="hosts.txt"`)
	_, _ = rw.Write([]byte(txt))
}

// certPEM is the certificate clients must trust: ca.pem beside
// ABCH_TLS_CERT when `abch certs` made them (the CA signs the server
// certificate), else the first certificate of ABCH_TLS_CERT itself. nil
// when there is none.
func (w *Web) certPEM() []byte {
	cert := w.deps.Config.TLSCert
	if cert == "" {
		return nil
	}
	for _, f := range []string{filepath.Join(filepath.Dir(cert), "ca.pem"), cert} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if blk, _ := pem.Decode(b); blk != nil && blk.Type == "CERTIFICATE" {
			return pem.EncodeToMemory(blk)
		}
	}
	return nil
}

// certificate serves the certificate as abch-ca.pem, or as abch-ca.crt
// (DER: what Windows' certificate import opens with a double click).
func (w *Web) certificate(rw http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	b := w.certPEM()
	if b == nil || (file != "abch-ca.pem" && file != "abch-ca.crt") {
		w.fail(rw, r, http.StatusNotFound, "There is no such file here.")
		return
	}
	ctype := "application/x-pem-file"
	if file == "abch-ca.crt" {
		blk, _ := pem.Decode(b)
		b, ctype = blk.Bytes, "application/x-x509-ca-cert"
	}
	rw.Header().Set("Content-Type", ctype)
	rw.Header().Set("Content-Disposition", `attachment; filename="`+file+`"`)
	_, _ = rw.Write(b)
}
