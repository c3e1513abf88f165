package server

import (
	"crypto/tls"
	"fmt"
)

// TLS profiles for the client-facing TLS listener (ABCH_TLS_PROFILE).
const (
	// TLSProfileLegacy accepts what 2006–2009 Windows clients speak: TLS 1.0
	// to 1.3, Go's modern suites first, then the RSA key-exchange, 3DES and
	// RC4 suites Schannel on XP, Vista and 7 offers. It is the default:
	// these clients are the reason abch exists.
	TLSProfileLegacy = "legacy"
	// TLSProfileModern is Go's default: TLS 1.2 and 1.3, ECDHE suites only.
	TLSProfileModern = "modern"
)

// legacySuites are the TLS 1.0–1.2 cipher suites of the legacy profile.
// Go picks among the suites both sides offer in its own preference order
// (ECDHE AEAD, ECDHE CBC, RSA AES, 3DES, RC4 last), so listing the old
// suites never moves a modern client onto them; the list only widens what
// is accepted. Listing them in Config.CipherSuites is what enables them:
// Go 1.22 dropped RSA key exchange and Go 1.23 dropped 3DES from the
// default list, and an explicit list needs no GODEBUG (crypto/tls
// Config.CipherSuites).
//
// What the clients offer (Schannel defaults):
//   - XP (WLM 8.x): TLS 1.0 only, RSA key exchange only, RC4_128_MD5,
//     RC4_128_SHA, 3DES_EDE_CBC_SHA, DES_CBC_SHA; no AES, no ECDHE.
//     3DES is what Go can agree on with it (RC4_128_MD5 and DES are not
//     implemented in Go; RC4_128_SHA is, and is kept as the last resort).
//   - Vista, and 7 with TLS 1.2 off (its default): TLS 1.0, AES_128/256_CBC_SHA
//     with RSA or ECDHE (P-256/P-384), 3DES, RC4.
//   - 7 with TLS 1.2 on: also the TLS 1.2 RSA and ECDHE suites.
var legacySuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	tls.TLS_RSA_WITH_RC4_128_SHA,
}

// TLSConfig is the server TLS configuration of a profile (certificates are
// added by the caller). An unknown profile is an error.
func TLSConfig(profile string) (*tls.Config, error) {
	switch profile {
	case TLSProfileLegacy, "":
		// MinVersion set explicitly: Go's server default is TLS 1.2
		// (tls10server), an explicit minimum needs no GODEBUG.
		return &tls.Config{MinVersion: tls.VersionTLS10, CipherSuites: append([]uint16(nil), legacySuites...)}, nil
	case TLSProfileModern:
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	return nil, fmt.Errorf("server: unknown TLS profile %q (legacy or modern)", profile)
}
