package auth

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
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

// SSOResponse computes the USR SSO S answer blob an MSNP15 client sends for
// nonce, from the messengerclear proof key and an 8-byte IV (RST_OIM.md
// §1.1): the 28-byte header, the IV, HMAC-SHA1(key2, nonce) and
// 3DES-CBC(key3, IV, nonce padded with 8 bytes of 0x08). Test clients and
// tools use it; the server only checks the HMAC (VerifySSOResponse).
func SSOResponse(proofKey []byte, nonce string, iv []byte) (string, error) {
	if len(iv) != des.BlockSize {
		return "", errors.New("auth: SSO IV must be 8 bytes")
	}
	key2 := ssoDerive(proofKey, "WS-SecureConversationSESSION KEY HASH")
	key3 := ssoDerive(proofKey, "WS-SecureConversationSESSION KEY ENCRYPTION")
	m := hmac.New(sha1.New, key2)
	m.Write([]byte(nonce))
	plain := append([]byte(nonce), bytes.Repeat([]byte{8}, 8)...)
	if pad := len(plain) % des.BlockSize; pad != 0 {
		plain = append(plain, bytes.Repeat([]byte{0}, des.BlockSize-pad)...)
	}
	block, err := des.NewTripleDESCipher(key3)
	if err != nil {
		return "", err
	}
	cipherText := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(cipherText, plain)
	out := make([]byte, ssoHeaderLen, ssoHeaderLen+8+sha1.Size+len(cipherText))
	for i, v := range []uint32{ssoHeaderLen, 1, 0x6603, 0x8004, 8, sha1.Size, uint32(len(cipherText))} {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	out = append(out, iv...)
	out = append(out, m.Sum(nil)...)
	out = append(out, cipherText...)
	return base64.StdEncoding.EncodeToString(out), nil
}
