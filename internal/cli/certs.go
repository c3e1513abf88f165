package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// ClientHosts are the host names real clients connect to over TLS, so the
// server certificate covers every one of them (PROTOCOL.md, RST_OIM.md,
// captures/README.md: pidgin verifies the chain and the host name).
var ClientHosts = []string{
	"login.live.com", "loginnet.passport.com", "msnia.login.live.com", "login.passport.com",
	"nexus.passport.com", // Passport 1.4 nexus, GET /rdr/pprdr.asp (pidgin 2.2.2, NS_CLIENT_FACTS.md)
	"contacts.msn.com", "omega.contacts.msn.com", "local-bay.contacts.msn.com", "byrdr.omega.contacts.msn.com",
	"rsi.hotmail.com", "ows.messenger.msn.com",
	"storage.msn.com", "tkrdr.storage.msn.com", "storage.live.com",
	"messenger.msn.com",
	"localhost",
}

func init() {
	extraCommands = append(extraCommands, func(a *app) *cobra.Command {
		var out string
		var hosts []string
		var sha1 bool
		c := &cobra.Command{
			Use:   "certs",
			Short: "Write a local CA and a server certificate for the MSN host names",
			Long: "certs writes ca.pem, ca-key.pem, server.pem and server-key.pem to --out.\n" +
				"Install ca.pem as a trusted root on client machines, point the MSN host names at\n" +
				"this server (hosts file or DNS) and run abch with ABCH_HTTPS_ADDR=:443,\n" +
				"ABCH_TLS_CERT=DIR/server.pem and ABCH_TLS_KEY=DIR/server-key.pem (docs/passport.md).",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if out == "" {
					return fmt.Errorf("--out DIR is required")
				}
				sig := x509.SHA256WithRSA
				if sha1 {
					sig = x509.SHA1WithRSA
				}
				names, err := WriteCertsSigned(out, hosts, time.Now(), sig)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "wrote %s (CA) and %s for:\n  %s\n", filepath.Join(out, "ca.pem"),
					filepath.Join(out, "server.pem"), strings.Join(names, "\n  "))
				return nil
			},
		}
		c.Flags().StringVar(&out, "out", "", "directory to write the certificates to (created if missing)")
		c.Flags().StringSliceVar(&hosts, "host", nil, "extra DNS name or IP address for the server certificate (repeatable)")
		c.Flags().BoolVar(&sha1, "sha1", false, "sign with SHA-1 instead of SHA-256, for Windows XP before SP3 (modern clients refuse such certificates; docs/passport.md)")
		return c
	})
}

// WriteCerts creates dir and writes a 10-year RSA-2048 CA and an RSA-2048,
// SHA-256 server certificate signed by it for ClientHosts, 127.0.0.1, ::1
// and extra (DNS names or IP addresses). Private keys are written 0600. It
// refuses to overwrite an existing CA key, so re-running cannot silently
// invalidate a CA already installed on clients. It returns the names
// covered.
func WriteCerts(dir string, extra []string, now time.Time) ([]string, error) {
	return WriteCertsSigned(dir, extra, now, x509.SHA256WithRSA)
}

// WriteCertsSigned is WriteCerts with both certificates signed with sig:
// x509.SHA1WithRSA for Windows XP before SP3, which cannot check SHA-256
// signatures (crypto/x509 still signs SHA-1, it only refuses to verify it).
func WriteCertsSigned(dir string, extra []string, now time.Time, sig x509.SignatureAlgorithm) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "ca-key.pem")); err == nil {
		return nil, fmt.Errorf("%s already holds ca-key.pem; remove it or choose another --out", dir)
	}
	ca, caKey, caDER, err := newCA(now, sig)
	if err != nil {
		return nil, err
	}
	srvKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "login.live.com", Organization: []string{"abch"}},
		NotBefore:    now.Add(-time.Hour),
		// Just under 10 years, inside the CA's validity.
		NotAfter:           now.AddDate(10, 0, -1),
		KeyUsage:           x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SignatureAlgorithm: sig,
	}
	names := serverNames(srvTmpl, extra)
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	err = writePEMs(dir, []pemFile{
		{"ca.pem", "CERTIFICATE", caDER, 0o644},
		{"ca-key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(caKey), 0o600},
		{"server.pem", "CERTIFICATE", srvDER, 0o644},
		{"server-key.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(srvKey), 0o600},
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// newCA makes the local CA: a 10-year self-signed certificate signed with
// sig, its key and its DER.
func newCA(now time.Time, sig x509.SignatureAlgorithm) (*x509.Certificate, *rsa.PrivateKey, []byte, error) {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "abch local CA", Organization: []string{"abch"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SignatureAlgorithm:    sig,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, err
	}
	return ca, caKey, caDER, nil
}

// serverNames puts every client host, loopback and the extra names into
// tmpl's DNS names and IP addresses (lower-cased, each once) and returns
// them in that order.
func serverNames(tmpl *x509.Certificate, extra []string) []string {
	seen := map[string]bool{}
	var names []string
	add := func(h string) {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || seen[h] {
			return
		}
		seen[h] = true
		names = append(names, h)
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	for _, h := range ClientHosts {
		add(h)
	}
	add("127.0.0.1")
	add("::1")
	for _, h := range extra {
		add(h)
	}
	return names
}

// pemFile is one file WriteCerts writes.
type pemFile struct {
	name, kind string
	der        []byte
	mode       os.FileMode
}

// writePEMs writes each file PEM-encoded into dir with its mode.
func writePEMs(dir string, files []pemFile) error {
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		path := filepath.Join(dir, f.name)
		if err := os.WriteFile(path, data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(path, f.mode); err != nil { // WriteFile keeps an existing file's mode
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		panic(err)
	}
	return n
}
