package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strings"
)

// ssoHeaderLen is the fixed header of the MSNP15 USR SSO S answer blob:
// seven little-endian uint32 {28, CBC, 3DES, SHA1, IV len, hash len, cipher
// len}, followed by the 8-byte IV and the 20-byte HMAC (RST_OIM.md §1.1).
const ssoHeaderLen = 28

// VerifySSOResponse checks the second argument of MSNP15 "USR SSO S": the
// base64 blob a client computes from the messengerclear.live.com proof key
// (the RST BinarySecret) and the nonce the NS sent. Only the 20-byte
// HMAC-SHA1 of the nonce is compared: the cipher part differs between
// clients (purple and BitlBee copy heap garbage, papyon and aMSN pad
// differently), so it proves nothing (RST_OIM.md §1.1).
func VerifySSOResponse(proofKey []byte, nonce, blob string) bool {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(blob))
	if err != nil || len(raw) < ssoHeaderLen+8+sha1.Size || len(proofKey) == 0 {
		return false
	}
	key2 := ssoDerive(proofKey, "WS-SecureConversationSESSION KEY HASH")
	m := hmac.New(sha1.New, key2)
	m.Write([]byte(nonce))
	got := raw[ssoHeaderLen+8 : ssoHeaderLen+8+sha1.Size]
	return hmac.Equal(m.Sum(nil), got)
}

// ssoDerive is the WS-SecureConversation key derivation the clients use:
// h1 = HMAC(k, m), h2 = HMAC(k, h1||m), h3 = HMAC(k, h1), h4 = HMAC(k, h3||m),
// result h2 || h4[0:4] (24 bytes).
func ssoDerive(key []byte, magic string) []byte {
	mac := func(parts ...[]byte) []byte {
		m := hmac.New(sha1.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	msg := []byte(magic)
	h1 := mac(msg)
	h2 := mac(h1, msg)
	h3 := mac(h1)
	h4 := mac(h3, msg)
	return append(h2, h4[:4]...)
}
