package sb

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/abch-im/abch/services/ns/sbwire"
)

// xfrCookie is a checked XFR SB cookie.
type xfrCookie struct {
	cid    int64
	nonce  string
	expiry int64
}

// checkXFRCookie verifies "<cid>.<expiry>.<nonce>.<mac>" as the NS made it
// (services/ns/sb.go, docs/sb.md): the MAC (sbwire.CookieMAC) covers this
// switchboard's public address and the address the client gave in USR. It
// does not check single use (the caller takes the nonce).
func checkXFRCookie(key []byte, addr, email, cookie string, now time.Time) (xfrCookie, bool) {
	f := strings.Split(cookie, ".")
	if len(f) != 4 || len(f[2]) != 16 || len(f[3]) != 32 {
		return xfrCookie{}, false
	}
	cid, err1 := strconv.ParseInt(f[0], 10, 64)
	exp, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || exp < now.Unix() {
		return xfrCookie{}, false
	}
	want, err := hex.DecodeString(f[3])
	if err != nil {
		return xfrCookie{}, false
	}
	if !hmac.Equal(sbwire.CookieMAC(key, addr, email, f[0], f[1], f[2]), want) {
		return xfrCookie{}, false
	}
	return xfrCookie{cid: cid, nonce: f[2], expiry: exp}, true
}

// newInviteCookie is the cookie of one CAL's RNG: random, held in this
// switchboard's memory until the invitee answers or it expires, in the
// dotted-decimal shape of the captures' cookies.
func newInviteCookie() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	part := func(p []byte) string {
		return strconv.FormatUint(uint64(p[0])<<24|uint64(p[1])<<16|uint64(p[2])<<8|uint64(p[3]), 10)
	}
	return part(b[0:4]) + "." + part(b[4:8]) + "." + part(b[8:12])
}
