// Package sbwire is the contract between the Notification Server
// (services/ns) and the switchboard (services/sb), docs/sb.md: the NATS
// subjects and messages they exchange and the XFR SB cookie the NS signs
// and the switchboard checks. Both sides import it; neither imports the
// other, so NS and switchboard processes can be deployed apart.
package sbwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"strings"
)

// UserSubjectPrefix starts the NATS core subject of a signed-in account,
// "abch.ns.user.<cid>", to which the NS holding it subscribes; a
// switchboard sends its Requests there (NATS request/reply; with nobody
// subscribed the account is offline: "no responders").
const UserSubjectPrefix = "abch.ns.user."

// UserSubject is the user subject of the account with cid.
func UserSubject(cid int64) string { return UserSubjectPrefix + strconv.FormatInt(cid, 10) }

// SignOutPrefix starts the subject "abch.sb.signout.<cid>" on which an NS
// announces that a session ended (body: SignOut). Switchboards end that
// session's connections with BYE.
const SignOutPrefix = "abch.sb.signout."

// SignOut is the body of a sign-out notice: the session that ended.
type SignOut struct {
	NSID string `json:"ns_session"`
}

// Request kinds.
const (
	KindWho  = "sb.who"  // describe the user
	KindRing = "sb.ring" // send the user RNG
)

// Request is a switchboard's request about a signed-in user.
type Request struct {
	Kind string `json:"kind"`
	// ring: the session (id, address, ANS cookie) and who calls.
	Session  string `json:"session,omitempty"`
	Addr     string `json:"addr,omitempty"`
	Cookie   string `json:"cookie,omitempty"`
	From     string `json:"from,omitempty"`
	FromCID  int64  `json:"from_cid,omitempty"`
	FromName string `json:"from_name,omitempty"`
}

// Member answers a Request: the user as the switchboard shows it (address
// as the account spells it, friendly name decoded, client id of its CHG,
// protocol version, NS session name), or with OK false the error number
// the caller gets (217).
type Member struct {
	OK      bool   `json:"ok"`
	Code    int    `json:"code,omitempty"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	Caps    string `json:"caps,omitempty"`
	Ver     int    `json:"ver,omitempty"`
	NSID    string `json:"ns_session,omitempty"`
	Visible bool   `json:"visible,omitempty"`
}

// CookieKey derives the HMAC key of XFR SB cookies from the NS key
// (ABCH_NS_KEY) every NS and switchboard process shares.
func CookieKey(nsKey string) []byte {
	h := sha256.Sum256([]byte("abch sb cookie\x00" + nsKey))
	return h[:]
}

// CookieMAC is the MAC of the XFR SB cookie "<cid>.<expiry>.<nonce>.<mac>":
// HMAC-SHA256 with key over "xfr", the switchboard's public address, the
// lower-cased e-mail address, the CID, the expiry and the nonce, each
// NUL-separated; its first 16 bytes (hex in the cookie).
func CookieMAC(key []byte, addr, email, cid, expiry, nonce string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("xfr\x00" + addr + "\x00" + strings.ToLower(email) + "\x00" + cid + "\x00" + expiry + "\x00" + nonce))
	return mac.Sum(nil)[:16]
}
