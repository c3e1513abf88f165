package auth

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// ProductKeys maps the product ids clients send (OIM Ticket/@appid, NS QRY)
// to their product keys, for the MSNP11+ challenge hash (RST_OIM.md §2.2).
var ProductKeys = map[string]string{
	"PROD0119GSJUC$18": "ILTXC!4IXB5FB*PX", // MSNP15: purple 2.5+, aMSN, BitlBee, msnp-sharp
	"PROD01065C%ZFN6F": "O4BG@C7BWLYQX?5G", // MSNP13/14: purple 2.4, emesene 1.6.3, WLM 8.0
	"PROD0114ES4Z%Q5W": "PK}_A_0N_K%O?A9S", // papyon
	"PROD0090YUAUV{2B": "YMM8C_H7KCQ2S_KL", // MSNP11 (published example product)
}

// QRYHash is the MSNP11 CHL/QRY challenge response: 32 lower-case hex
// characters computed from challenge with a product id and key. OIM clients
// answer the LockKeyChallenge with it (PROTOCOL.md §7.1, RST_OIM.md §2.2).
//
// The algorithm: MD5(challenge+key) gives four little-endian 32-bit words
// h[i] (and the same words masked to 31 bits, m[i]); challenge+productID,
// padded with '0' to a multiple of 8 bytes, gives little-endian words c[];
// a pairwise mix of c[] modulo 2^31-1 yields hi/lo, and the answer is
// h[0]^hi, h[1]^lo, h[2]^hi, h[3]^lo written little-endian in hex.
func QRYHash(challenge, productID, productKey string) string {
	const mod = 0x7FFFFFFF
	sum := md5.Sum([]byte(challenge + productKey))
	var h, m [4]uint64
	for i := range h {
		h[i] = uint64(binary.LittleEndian.Uint32(sum[i*4:]))
		m[i] = h[i] & mod
	}
	buf := []byte(challenge + productID)
	if r := len(buf) % 8; r != 0 {
		buf = append(buf, strings.Repeat("0", 8-r)...)
	}
	var hi, lo uint64
	for i := 0; i+8 <= len(buf); i += 8 {
		c0 := uint64(binary.LittleEndian.Uint32(buf[i:]))
		c1 := uint64(binary.LittleEndian.Uint32(buf[i+4:]))
		t := (0x0E79A9C1 * c0) % mod
		t = (m[0]*(t+hi) + m[1]) % mod
		hi = (m[2]*((c1+t)%mod) + m[3]) % mod
		lo += hi + t
	}
	hi = (hi + m[1]) % mod
	lo = (lo + m[3]) % mod
	var out [16]byte
	binary.LittleEndian.PutUint32(out[0:], uint32(h[0]^hi))
	binary.LittleEndian.PutUint32(out[4:], uint32(h[1]^lo))
	binary.LittleEndian.PutUint32(out[8:], uint32(h[2]^hi))
	binary.LittleEndian.PutUint32(out[12:], uint32(h[3]^lo))
	return hex.EncodeToString(out[:])
}

// CheckQRY reports whether answer is the challenge response for challenge
// under productID's key (hex compared case-insensitively, in constant time).
// known is false when the product id is not in ProductKeys.
func CheckQRY(challenge, productID, answer string) (ok, known bool) {
	key, known := ProductKeys[productID]
	if !known {
		return false, false
	}
	want := QRYHash(challenge, productID, key)
	got := strings.ToLower(strings.TrimSpace(answer))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1, true
}
