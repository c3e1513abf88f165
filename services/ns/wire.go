package ns

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// Sign-in payloads this NS sends. The texts follow the captured stand-in
// that real clients accepted (clients/captures/*/ns.log) and the MSNP13
// seed (seeds/msnp13-changes.txt).

// cvrAnswer is "CVR trid rec rec min dl info" as the captures show it.
func cvrAnswer(trid string) []byte {
	return msnp.AppendLine(nil, "CVR", trid, "8.5.1302", "8.5.1302", "8.5.1302",
		"http://msgr.dlservice.microsoft.com", "http://messenger.msn.com")
}

// twnPolicy is the USR TWN S Passport policy string. pidgin 2.2.2 crashes
// without ct and pidgin 2.4.3 needs lc, id, tw, ru, kpp, kv, ver and tpf
// (NS_CLIENT_FACTS.md); the values are those of the captured dialogue.
func twnPolicy() string {
	return "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=" +
		strconv.FormatInt(time.Now().Unix(), 10) +
		",kpp=1,kv=7,ver=2.1.6000.1,rn=1lgjBfIL,tpf=" + randomHex(16)
}

// gcfShields is the MSNP13 "GCF 0" policy document the seed shows after
// USR TWN S: a SHIELDS policy that denies no client version.
var gcfShields = []byte(`<Policies><Policy type="SHIELDS"><config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config></Policy></Policies>`)

// newNonce is the USR SSO S MBI_KEY_OLD nonce: 48 random bytes in base64
// (64 characters, as in the captures).
func newNonce() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func randomHex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	out := make([]byte, 2*n)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// profilePayload is the text/x-msmsgsprofile MSG body (PROTOCOL.md §8 B3;
// the field list of the captures, ending with an empty line). MSPAuth is
// what pidgin 2.4.3 sends back as its AB/Sharing cookie.
func profilePayload(p *nsclient.Profile, peer net.Addr) []byte {
	ip, port := clientAddr(peer)
	var b strings.Builder
	field := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	field("MIME-Version", "1.0")
	field("Content-Type", "text/x-msmsgsprofile; charset=UTF-8")
	field("LoginTime", strconv.FormatInt(time.Now().Unix(), 10))
	field("EmailEnabled", "0")
	field("MemberIdHigh", strconv.FormatUint(uint64(p.MemberIDHigh), 10))
	field("MemberIdLow", strconv.FormatUint(uint64(p.MemberIDLow), 10))
	field("lang_preference", "1033")
	for _, k := range []string{"preferredEmail", "country", "PostalCode", "Gender"} {
		field(k, "")
	}
	field("Kid", "0")
	for _, k := range []string{"Age", "BDayPre", "Birthday", "Wallet"} {
		field(k, "")
	}
	field("Flags", "536872513")
	field("sid", "507")
	field("MSPAuth", p.MSPAuth)
	field("ClientIP", ip)
	field("ClientPort", port)
	field("ABCHMigrated", "1")
	field("MPOPEnabled", "0")
	b.WriteString("\r\n")
	return []byte(b.String())
}

// URLs are the base addresses of the URL command's answers
// (ABCH_MSNP_URL_* settings; msnp8-miscellaneous seed lists the services).
type URLs struct {
	// Passport is the login page the client opens with its MSPAuth
	// ("https://login.live.com/ppsecure/md5auth.srf?lc=1033" style).
	Passport string
	// Hotmail is the mail site (INBOX, FOLDERS, COMPOSE).
	Hotmail string
	// Profile is the member profile site (PROFILE, PERSON).
	Profile string
	// Mobile is the mobile settings site (CHGMOB, MOBILE).
	Mobile string
	// Chat is the chat rooms site (CHAT).
	Chat string
}

func (u *URLs) defaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&u.Passport, "https://login.live.com/ppsecure/md5auth.srf?lc=1033")
	def(&u.Hotmail, "http://www.hotmail.com")
	def(&u.Profile, "http://members.msn.com")
	def(&u.Mobile, "http://mobile.msn.com")
	def(&u.Chat, "http://chat.msn.com")
}

// answer returns the rru and url of "URL trid rru url 2" for a service
// name (INBOX FOLDERS COMPOSE CHGMOB PROFILE PERSON CHAT MOBILE ADDRBOOK
// ADVSEARCH INTSEARCH, msnp8-miscellaneous seed): rru is the page, url the
// Passport page that signs the browser in and forwards to it.
func (u *URLs) answer(service, param string) (rru, url string, ok bool) {
	switch strings.ToUpper(service) {
	case "INBOX":
		rru = u.Hotmail + "/cgi-bin/HoTMaiL"
	case "FOLDERS":
		rru = u.Hotmail + "/cgi-bin/folders"
	case "COMPOSE":
		rru = u.Hotmail + "/cgi-bin/compose"
		if param != "" && strings.Contains(param, "@") {
			rru += "?mailto=1&to=" + param
		}
	case "PROFILE", "PERSON":
		rru = u.Profile + "/default.msnw"
	case "CHGMOB", "MOBILE":
		rru = u.Mobile
	case "CHAT":
		rru = u.Chat
	case "ADDRBOOK", "ADVSEARCH", "INTSEARCH":
		rru = u.Profile + "/search.msnw"
	default:
		return "", "", false
	}
	return rru, u.Passport, true
}
