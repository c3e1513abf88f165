package msnp

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// ProductKeys maps the product ids clients send (NS QRY, OIM Ticket/@appid)
// to their product keys, for the MSNP11+ challenge hash (QRYHash;
// RST_OIM.md §2.2; pidgin notification.h; the same pairs appear in
// MSNPSharp's and Escargot's challenge tables).
var ProductKeys = map[string]string{
	"PROD0119GSJUC$18": "ILTXC!4IXB5FB*PX", // MSNP15: purple 2.5+, aMSN, BitlBee, msnp-sharp
	"PROD01065C%ZFN6F": "O4BG@C7BWLYQX?5G", // MSNP13/14: purple 2.4, emesene 1.6.3, WLM 8.0
	"PROD0114ES4Z%Q5W": "PK}_A_0N_K%O?A9S", // papyon
	"PROD0090YUAUV{2B": "YMM8C_H7KCQ2S_KL", // MSNP11 (published example product)
	"PROD0120PW!CCV9@": "C1BX{V4W}Q3*10SM", // MSNP18: WLM 2009 (pidgin 2.10 notification.h)
	"PROD0101{0RM?UBW": "CFHUR$52U_{VIX5T", // MSNP11/12 clients
	"PROD0112J1LW7%NB": "RH96F{PHI8PPX_TJ", // MSNP13/14 clients
	"PROD0113H11T8$X_": "RG@XY*28Q5QHS%Q5", // MSNP15 clients
	"PROD0118R6%2WYOS": "YIXPX@5I2P0UT*LK", // MSNP15 clients
}

// ProductKeysMD5 maps the product ids of MSNP8–10 clients to the keys of
// the MD5 challenge answer (QRYHashMD5). Microsoft's clients answer as
// msmsgs@msnmsgr.com; pidgin 2.2.2 with PROD0038W!61ZTF9
// (clients/NS_CLIENT_FACTS.md; pidgin 2.2.2 notification.c chl_cmd);
// aMSN and the Perl Net::MSN client with PROD0061VRRZH@4F. The other pairs
// are MSN Messenger 6.x builds' (the pairs are listed alike by MSNPSharp's
// and Escargot's challenge tables).
var ProductKeysMD5 = map[string]string{
	"msmsgs@msnmsgr.com": "Q1P7W2E4J9R8U3S5", // MSN Messenger 5.0, Windows Messenger
	"PROD0038W!61ZTF9":   "VT6PX?UQTM4WM%YR", // pidgin ≤ 2.3 (MSNP9)
	"PROD0058#7IL2{QD":   "QHDCY@7R1TB6W?5B", // MSN Messenger 6.x
	"PROD0061VRRZH@4F":   "JXQ6J@TUOGYV@N0M", // aMSN, Net::MSN; MSN Messenger 6.x
	"PROD00504RLUG%WL":   "I2EBK%PYNLZL5_J4", // MSN Messenger 6.x
	"PROD0076ENE8*@AW":   "CEQJ8}OE0!WTSWII", // MSN Messenger 6.x
}

// NewChallenge returns a fresh CHL challenge: 20 decimal digits, as the
// captures show ("CHL 0 16687012172422803371").
func NewChallenge() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("msnp: crypto/rand: " + err.Error())
	}
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	if b[0] == '0' {
		b[0] = '1'
	}
	return string(b[:])
}

// QRYHash is the MSNP11+ CHL/QRY challenge response: 32 lower-case hex
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

// QRYHashMD5 is the MSNP8–10 challenge response: MD5(challenge+key) in
// lower-case hex (pidgin 2.2.2 notification.c chl_cmd).
func QRYHashMD5(challenge, productKey string) string {
	sum := md5.Sum([]byte(challenge + productKey))
	return hex.EncodeToString(sum[:])
}

// CheckQRY reports whether answer is the MSNP11+ challenge response for
// challenge under productID's key (hex compared case-insensitively, in
// constant time). known is false when the product id is not in ProductKeys.
func CheckQRY(challenge, productID, answer string) (ok, known bool) {
	key, known := ProductKeys[productID]
	if !known {
		return false, false
	}
	return equalHex(QRYHash(challenge, productID, key), answer), true
}

// CheckQRYVersion checks a QRY answer for a session of protocol version:
// MSNP8–10 use the MD5 form with ProductKeysMD5, MSNP11+ QRYHash with
// ProductKeys. A wrong answer gets ErrChallenge (540) and ends the session.
func CheckQRYVersion(challenge, productID, answer string, version int) (ok, known bool) {
	if version >= 11 {
		return CheckQRY(challenge, productID, answer)
	}
	key, known := ProductKeysMD5[productID]
	if !known {
		return false, false
	}
	return equalHex(QRYHashMD5(challenge, key), answer), true
}

func equalHex(want, answer string) bool {
	got := strings.ToLower(strings.TrimSpace(answer))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
