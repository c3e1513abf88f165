package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// tlsServer starts abch with the TLS listener on certificates made by
// `abch certs` and the given profile; it returns the server's TLS address
// and the CA file.
func tlsServer(t *testing.T, profile string) (addr, caFile string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	if _, err := cli.WriteCerts(dir, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	if profile != "" {
		cfg.TLSProfile = profile
	}
	s := testenv.StartServer(t, cfg)
	return s.HTTPSAddr, filepath.Join(dir, "ca.pem")
}

// sClient runs Debian's openssl s_client against addr with args, sends an
// HTTP/1.0 GET /healthz over the connection and returns everything it
// printed.
func sClient(t *testing.T, addr, caFile string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed (apt-get install openssl)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	full := append([]string{"s_client", "-connect", addr, "-servername", "login.live.com", "-CAfile", caFile, "-verify_return_error", "-ign_eof"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Stdin = strings.NewReader("GET /healthz HTTP/1.0\r\nHost: login.live.com\r\n\r\n")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestLegacyTLSProfile(t *testing.T) {
	addr, ca := tlsServer(t, "") // legacy is the default

	t.Run("openssl -tls1 (XP, Vista, 7 with TLS 1.2 off) signs in and is served", func(t *testing.T) {
		out, err := sClient(t, addr, ca, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
		if err != nil || !strings.Contains(out, "Protocol  : TLSv1\n") || !strings.Contains(out, "\r\n\r\nok") {
			t.Fatalf("TLS 1.0 handshake or request failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Verify return code: 0 (ok)") {
			t.Errorf("chain not verified against ca.pem:\n%s", out)
		}
	})
	t.Run("openssl -tls1_2 -cipher AES128-SHA (RSA key exchange) is served", func(t *testing.T) {
		out, err := sClient(t, addr, ca, "-tls1_2", "-cipher", "AES128-SHA")
		if err != nil || !strings.Contains(out, "Cipher    : AES128-SHA\n") || !strings.Contains(out, "\r\n\r\nok") {
			t.Fatalf("AES128-SHA handshake or request failed: %v\n%s", err, out)
		}
	})
	t.Run("openssl -tls1 -cipher AES128-SHA (Vista) is served", func(t *testing.T) {
		out, err := sClient(t, addr, ca, "-tls1", "-cipher", "AES128-SHA:@SECLEVEL=0")
		if err != nil || !strings.Contains(out, "Cipher    : AES128-SHA\n") || !strings.Contains(out, "Protocol  : TLSv1\n") {
			t.Fatalf("TLS 1.0 AES128-SHA failed: %v\n%s", err, out)
		}
	})
	t.Run("a modern client still gets TLS 1.3", func(t *testing.T) {
		out, err := sClient(t, addr, ca)
		if err != nil || !strings.Contains(out, "TLSv1.3") {
			t.Fatalf("default handshake: %v\n%s", err, out)
		}
	})
	t.Run("a TLS 1.2 client offering ECDHE and RSA suites gets ECDHE", func(t *testing.T) {
		out, err := sClient(t, addr, ca, "-tls1_2", "-cipher", "AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256")
		if err != nil || !strings.Contains(out, "Cipher    : ECDHE-RSA-AES128-GCM-SHA256\n") {
			t.Fatalf("want ECDHE preferred: %v\n%s", err, out)
		}
	})
	t.Run("XP's TLS 1.0 ClientHello with only 3DES gets a ServerHello choosing 3DES", func(t *testing.T) {
		vers, suite, err := rawHello(addr, tls.VersionTLS10, []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA})
		if err != nil || vers != tls.VersionTLS10 || suite != tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA {
			t.Fatalf("ServerHello: version %#04x suite %#04x, %v", vers, suite, err)
		}
	})
	t.Run("XP's suite list (RC4-MD5, RC4-SHA, 3DES, DES) gets 3DES, not RC4", func(t *testing.T) {
		vers, suite, err := rawHello(addr, tls.VersionTLS10, []uint16{0x0004, tls.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA, 0x0009})
		if err != nil || vers != tls.VersionTLS10 || suite != tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA {
			t.Fatalf("ServerHello: version %#04x suite %#04x, %v", vers, suite, err)
		}
	})
	t.Run("a client offering only RC4-SHA gets RC4-SHA", func(t *testing.T) {
		vers, suite, err := rawHello(addr, tls.VersionTLS10, []uint16{tls.TLS_RSA_WITH_RC4_128_SHA})
		if err != nil || vers != tls.VersionTLS10 || suite != tls.TLS_RSA_WITH_RC4_128_SHA {
			t.Fatalf("ServerHello: version %#04x suite %#04x, %v", vers, suite, err)
		}
	})
	t.Run("a full TLS 1.0 3DES handshake serves a request", func(t *testing.T) {
		body, state, err := getOver(addr, ca, &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10, CipherSuites: []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}})
		if err != nil || body != "ok\n" || state.CipherSuite != tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA || state.Version != tls.VersionTLS10 {
			t.Fatalf("3DES request: %q %v", body, err)
		}
	})
}

func TestModernTLSProfile(t *testing.T) {
	addr, ca := tlsServer(t, "modern")
	t.Run("openssl -tls1 is refused", func(t *testing.T) {
		if out, err := sClient(t, addr, ca, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"); err == nil && strings.Contains(out, "Protocol  : TLSv1\n") {
			t.Fatalf("TLS 1.0 accepted by the modern profile:\n%s", out)
		}
	})
	t.Run("TLS 1.2 AES128-SHA is refused", func(t *testing.T) {
		if out, err := sClient(t, addr, ca, "-tls1_2", "-cipher", "AES128-SHA"); err == nil && strings.Contains(out, "Cipher    : AES128-SHA") {
			t.Fatalf("RSA key exchange accepted by the modern profile:\n%s", out)
		}
	})
	t.Run("a TLS 1.2 3DES ClientHello gets no ServerHello", func(t *testing.T) {
		if _, suite, err := rawHello(addr, tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}); err == nil {
			t.Fatalf("modern profile chose %#04x", suite)
		}
	})
	t.Run("TLS 1.3 is served", func(t *testing.T) {
		body, state, err := getOver(addr, ca, &tls.Config{})
		if err != nil || body != "ok\n" || state.Version != tls.VersionTLS13 {
			t.Fatalf("TLS 1.3 request: %q %v", body, err)
		}
	})
}

func TestTLSProfileValidated(t *testing.T) {
	cfg := config.Defaults()
	cfg.TLSProfile = "ancient"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "ABCH_TLS_PROFILE") {
		t.Fatalf("unknown profile accepted: %v", err)
	}
}

// getOver makes GET /healthz over TLS with conf (plus the CA and SNI
// login.live.com) and returns the body and the connection state.
func getOver(addr, caFile string, conf *tls.Config) (string, *tls.ConnectionState, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return "", nil, err
	}
	conf.RootCAs = x509.NewCertPool()
	conf.RootCAs.AppendCertsFromPEM(pem)
	conf.ServerName = "login.live.com"
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	resp, err := c.Get("https://login.live.com/healthz")
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), resp.TLS, err
}

// rawHello writes a hand-made ClientHello (record and hello version vers,
// the given suites, no compression; below TLS 1.2 no extensions at all, as
// Schannel on XP sends it (no SNI before Vista); from TLS 1.2 SNI
// login.live.com and signature_algorithms) over plain TCP and returns the version and cipher suite of
// the ServerHello, or an error when the server answers with an alert or
// closes. It does not finish the handshake.
func rawHello(addr string, vers uint16, suites []uint16) (uint16, uint16, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	var hello bytes.Buffer
	be := func(v any) { _ = binary.Write(&hello, binary.BigEndian, v) }
	be(vers)
	hello.Write(bytes.Repeat([]byte{0x42}, 32)) // random
	hello.WriteByte(0)                          // no session id
	be(uint16(2 * len(suites)))
	for _, s := range suites {
		be(s)
	}
	hello.Write([]byte{1, 0}) // compression: null
	if vers < tls.VersionTLS12 {
		return finishHello(conn, vers, hello.Bytes())
	}
	name := "login.live.com"
	var ext bytes.Buffer
	ebe := func(v any) { _ = binary.Write(&ext, binary.BigEndian, v) }
	ebe(uint16(0))             // server_name
	ebe(uint16(len(name) + 5)) // extension length
	ebe(uint16(len(name) + 3)) // list length
	ext.WriteByte(0)           // host_name
	ebe(uint16(len(name)))
	ext.WriteString(name)
	// signature_algorithms: rsa_pkcs1_sha256, rsa_pkcs1_sha1.
	ext.Write([]byte{0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x01, 0x02, 0x01})
	be(uint16(ext.Len()))
	hello.Write(ext.Bytes())
	return finishHello(conn, vers, hello.Bytes())
}

// finishHello frames hello as a handshake record, sends it and reads the
// answer's version and cipher suite.
func finishHello(conn net.Conn, vers uint16, hello []byte) (uint16, uint16, error) {
	msg := append([]byte{1, 0, byte(len(hello) >> 8), byte(len(hello))}, hello...) // ClientHello, 24-bit length
	rec := append([]byte{22, byte(vers >> 8), byte(vers), byte(len(msg) >> 8), byte(len(msg))}, msg...)
	if _, err := conn.Write(rec); err != nil {
		return 0, 0, err
	}
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(conn, hdr); err != nil {
		return 0, 0, fmt.Errorf("no answer: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:]))
	if _, err := io.ReadFull(conn, body); err != nil {
		return 0, 0, err
	}
	if hdr[0] == 21 {
		return 0, 0, fmt.Errorf("alert %d", body[len(body)-1])
	}
	// handshake type(1) length(3) version(2) random(32) sid_len(1) sid suite(2)
	if hdr[0] != 22 || len(body) < 39 || body[0] != 2 {
		return 0, 0, fmt.Errorf("not a ServerHello: record %d % x", hdr[0], body[:min(len(body), 8)])
	}
	sid := int(body[38])
	if len(body) < 39+sid+2 {
		return 0, 0, fmt.Errorf("short ServerHello")
	}
	return binary.BigEndian.Uint16(body[4:6]), binary.BigEndian.Uint16(body[39+sid:]), nil
}

// TestSHA1CertsForOldXP runs `abch certs --sha1` (for XP before SP3, which
// cannot check SHA-256 signatures) and serves them: both certificates are
// SHA-1-signed, and openssl (at SECLEVEL 0, as an old client) verifies the
// chain over TLS 1.0 against ca.pem.
func TestSHA1CertsForOldXP(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out, errOut bytes.Buffer
	if code := cli.Run([]string{"certs", "--out", dir, "--sha1"}, &out, &errOut); code != 0 {
		t.Fatalf("abch certs --sha1: exit %d: %s", code, errOut.String())
	}
	for _, name := range []string{"ca.pem", "server.pem"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		blk, _ := pem.Decode(data)
		if blk == nil {
			t.Fatalf("%s: no PEM", name)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil || c.SignatureAlgorithm != x509.SHA1WithRSA {
			t.Fatalf("%s: %v, signed %v", name, err, c.SignatureAlgorithm)
		}
	}
	cfg := testenv.Config(t, testenv.Databases(t)[0])
	cfg.HTTPSAddr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	s := testenv.StartServer(t, cfg)
	res, err := sClient(t, s.HTTPSAddr, filepath.Join(dir, "ca.pem"), "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
	if err != nil || !strings.Contains(res, "Verify return code: 0 (ok)") || !strings.Contains(res, "\r\n\r\nok") {
		t.Fatalf("TLS 1.0 with the SHA-1 chain: %v\n%s", err, res)
	}
}
