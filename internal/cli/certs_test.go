package cli_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestCertsServeRSTOverTLS runs `abch certs`, starts the server with the
// TLS listener on those files, and signs in over TLS the way pidgin does:
// SNI login.live.com, chain and host name verified against ca.pem.
func TestCertsServeRSTOverTLS(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		dir := filepath.Join(t.TempDir(), "certs")
		var out, errOut bytes.Buffer
		if code := cli.Run([]string{"certs", "--out", dir, "--host", "msn.example.org", "--host", "10.1.2.3"}, &out, &errOut); code != 0 {
			t.Fatalf("abch certs: exit %d: %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "byrdr.omega.contacts.msn.com") || !strings.Contains(out.String(), "msn.example.org") {
			t.Errorf("certs output does not list the names: %s", out.String())
		}
		for name, mode := range map[string]os.FileMode{"ca.pem": 0o644, "ca-key.pem": 0o600, "server.pem": 0o644, "server-key.pem": 0o600} {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil || st.Mode().Perm() != mode {
				t.Errorf("%s: %v mode %v, want %v", name, err, st.Mode().Perm(), mode)
			}
		}
		// Running it again must not replace a CA clients may have installed.
		if code := cli.Run([]string{"certs", "--out", dir}, io.Discard, io.Discard); code == 0 {
			t.Errorf("second run over an existing CA succeeded")
		}

		caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			t.Fatal("ca.pem unreadable")
		}
		srvPEM, _ := os.ReadFile(filepath.Join(dir, "server.pem"))
		blk, _ := pem.Decode(srvPEM)
		leaf, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if leaf.SignatureAlgorithm != x509.SHA256WithRSA || leaf.PublicKey.(interface{ Size() int }).Size() != 256 {
			t.Errorf("server certificate is %v with a %d-byte key", leaf.SignatureAlgorithm, leaf.PublicKey.(interface{ Size() int }).Size())
		}
		hosts := append([]string{"msn.example.org", "127.0.0.1", "10.1.2.3"}, cli.ClientHosts...)
		for _, h := range hosts {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: h, Roots: pool, CurrentTime: time.Now().AddDate(9, 0, 0)}); err != nil {
				t.Errorf("%s: %v", h, err)
			}
		}

		cfg.HTTPSAddr = "127.0.0.1:0"
		cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
		s := testenv.StartServer(t, cfg)
		testenv.NewAccount(t, s, "alice@example.com", "pw", "")
		_, port, _ := net.SplitHostPort(s.HTTPSAddr)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "login.live.com"},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			},
		}}
		body := `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsse:UsernameToken Id="user"><wsse:Username>alice@example.com</wsse:Username><wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS"><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST0"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST1"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>messengerclear.live.com</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken></ps:RequestMultipleSecurityTokens></Body></Envelope>`
		resp, err := client.Post("https://login.live.com//RST.srf", "text/xml; charset=utf-8", strings.NewReader(body))
		if err != nil {
			t.Fatalf("RST over TLS: %v", err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(data), `<wsse:BinarySecurityToken Id="Compact1">t=`) {
			t.Fatalf("RST over TLS: %d %s", resp.StatusCode, data)
		}
		if resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "login.live.com" {
			t.Errorf("unexpected TLS state")
		}

		// A client that does not trust our CA is refused by TLS, not served.
		strict := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{ServerName: "login.live.com"},
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
			},
		}}
		if _, err := strict.Post("https://login.live.com/RST.srf", "text/xml", strings.NewReader(body)); err == nil {
			t.Errorf("TLS handshake succeeded without trusting ca.pem")
		}
	})
}
