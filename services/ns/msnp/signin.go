package msnp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
)

// Protocol versions abch's NS speaks.
const (
	MSNP8  = 8  // MSN Messenger 5.0; Passport 1.4 (TWN), SYN with integer group ids
	MSNP9  = 9  // MSN Messenger 6.0, pidgin ≤ 2.3: adds MSNObjects to presence
	MSNP10 = 10 // MSN Messenger 6.1/6.2: ADC, GUIDs once the account is ABCH-migrated
	MSNP11 = 11 // MSN Messenger 7.0: personal messages (UUX/UBX), the MSNP11 CHL hash
	MSNP12 = 12 // MSN Messenger 7.5: LST carries the network of the contact
	MSNP13 = 13 // Windows Live Messenger 8.0, pidgin 2.4: lists through SOAP (ADL)
	MSNP15 = 15 // Windows Live Messenger 8.5, pidgin 2.5+: SSO sign-in
)

// Versions abch's NS speaks, highest first. NegotiateVersion picks from it.
var Versions = []int{MSNP15, MSNP13, MSNP12, MSNP11, MSNP10, MSNP9, MSNP8}

// SYNEra reports whether a session of protocol version keeps its lists with
// SYN and the list commands (ADD/ADC, REM, ADG …) rather than through the
// SOAP services and ADL (MSNP8–12; seeds/msnp13-changes.txt removed them).
// Before VER (version 0) it is false.
func SYNEra(version int) bool { return version >= MSNP8 && version < MSNP13 }

// GroupGUIDs reports whether a SYN-era session names groups and contacts by
// GUID: MSNP10–12 clients of an ABCH-migrated account ("ABCHMigrated: 1" in
// the profile) get "LSG name guid" and "LST N= F= C=guid …" and send GUIDs
// in ADC, REM, ADG, RMG and REG; MSNP8–9 know integer group ids only.
func GroupGUIDs(version int) bool { return version >= MSNP10 }

// ListVersionInts reports whether list answers of version carry the integer
// list version (MSNP8–9: "ADD trid FL 12 …", "BLP trid 12 AL"); MSNP10–12
// answers of an ABCH-migrated account carry none.
func ListVersionInts(version int) bool { return version <= MSNP9 }

// NegotiateVersion answers VER: the highest version in supported (highest
// first) that the client offers in args (VER's Args after the trid, e.g.
// "MSNP14", "MSNP13", "CVR0"). ok is false when there is none; the server
// then answers "VER <trid> 0" and closes. pidgin 2.4.3 offers MSNP14 MSNP13
// and accepts only MSNP13 back; pidgin 2.10.1 offers MSNP16 MSNP15
// (clients/NS_CLIENT_FACTS.md).
func NegotiateVersion(args []string, supported []int) (version int, ok bool) {
	offered := map[int]bool{}
	for _, a := range args {
		if v, isVer := ParseVersion(a); isVer {
			offered[v] = true
		}
	}
	for _, v := range supported {
		if offered[v] {
			return v, true
		}
	}
	return 0, false
}

// ParseVersion parses "MSNPn" (1 ≤ n ≤ 99).
func ParseVersion(s string) (int, bool) {
	rest, ok := strings.CutPrefix(s, "MSNP")
	if !ok || rest == "" || len(rest) > 2 || rest[0] == '0' {
		return 0, false
	}
	n, ok := parseLength(rest)
	return n, ok
}

// VersionName returns "MSNPn".
func VersionName(v int) string { return "MSNP" + strconv.Itoa(v) }

// TWNChallenge is the Passport policy string of "USR trid TWN S <policy>"
// (PROTOCOL.md §6.4). pidgin 2.4.3 refuses to sign in unless lc, id, tw,
// ru, ct, kpp, kv, ver and tpf are all present (nexus.c: "WLM Authenticate
// Key Error"); pidgin 2.2.2 (MSNP9) crashes without ct (strtoul on NULL).
// The values are copied into an XML body and an HTTP header by the
// clients, so they must hold no ',', '=', '&', '<', space or control
// character (TWNChallenge.String does not escape them).
type TWNChallenge struct {
	LC  int    // locale id: 1033
	ID  int    // site id: 507 (messenger)
	TW  int    // 40
	FS  int    // 1
	RU  string // return URL, URL-encoded: http%3A%2F%2Fmessenger%2Emsn%2Ecom
	CT  int64  // challenge time, Unix seconds
	KPP int    // 1
	KV  int    // key version: 7
	Ver string // 2.1.6000.1
	RN  string // random nonce (8 letters and digits)
	TPF string // 32 lower-case hex
}

// NewTWNChallenge returns the challenge clients accepted in the captures
// (clients/captures/pidgin-2.4.3-msnp13-login/ns.log) with ct = now (Unix
// seconds) and fresh rn and tpf.
func NewTWNChallenge(now int64) TWNChallenge {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("msnp: crypto/rand: " + err.Error())
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	rn := make([]byte, 8)
	for i := range rn {
		rn[i] = alnum[int(b[i])%len(alnum)]
	}
	return TWNChallenge{
		LC: 1033, ID: 507, TW: 40, FS: 1,
		RU: "http%3A%2F%2Fmessenger%2Emsn%2Ecom",
		CT: now, KPP: 1, KV: 7, Ver: "2.1.6000.1",
		RN: string(rn), TPF: hex.EncodeToString(b[8:24]),
	}
}

// String writes the policy: lc,id,tw,fs,ru,ct,kpp,kv,ver,rn,tpf in that
// order, as the capture shows.
func (c TWNChallenge) String() string {
	var b strings.Builder
	b.WriteString("lc=" + strconv.Itoa(c.LC))
	b.WriteString(",id=" + strconv.Itoa(c.ID))
	b.WriteString(",tw=" + strconv.Itoa(c.TW))
	b.WriteString(",fs=" + strconv.Itoa(c.FS))
	b.WriteString(",ru=" + c.RU)
	b.WriteString(",ct=" + strconv.FormatInt(c.CT, 10))
	b.WriteString(",kpp=" + strconv.Itoa(c.KPP))
	b.WriteString(",kv=" + strconv.Itoa(c.KV))
	b.WriteString(",ver=" + c.Ver)
	b.WriteString(",rn=" + c.RN)
	b.WriteString(",tpf=" + c.TPF)
	return b.String()
}

// NewSSONonce returns the nonce of "USR trid SSO S MBI_KEY_OLD <nonce>":
// 48 random bytes in base64, 64 characters, as the captures show.
func NewSSONonce() string {
	var b [48]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("msnp: crypto/rand: " + err.Error())
	}
	return base64.StdEncoding.EncodeToString(b[:])
}

// SSOPolicy is the policy name sent in "USR trid SSO S <policy> <nonce>".
const SSOPolicy = "MBI_KEY_OLD"

// ProfileFields are the headers of the text/x-msmsgsprofile message sent
// after "USR OK" (PROTOCOL.md §8 step B3).
type ProfileFields struct {
	LoginTime      int64  // Unix seconds; pidgin keeps it as "sl" for the URL creds
	EmailEnabled   bool   // account has e-mail notifications
	MemberIDHigh   uint32 // PUID >> 32
	MemberIDLow    uint32 // PUID & 0xFFFFFFFF
	LangPreference int    // 1033
	PreferredEmail string // empty in the captures (as are the fields to Wallet)
	Country        string // ISO country code
	PostalCode     string // postal code
	Gender         string // M or F
	Kid            int    // 1 for a child account; 0
	Age            string // years
	BDayPre        string // birthday precision
	Birthday       string // birthday
	Wallet         string // Passport wallet flag
	Flags          int64  // 536872513 in the captures
	SID            int    // 507
	KV             string // written only when set (the seed's "kv: 11"; pidgin 2.4.3 stores it)
	MSPAuth        string // the ticket's t part: MSNP13 clients send it back as the MSPAuth cookie
	ClientIP       string // the client's address as the server sees it
	// ClientPort is written as is. MSN wrote the client's port byte-swapped
	// (pidgin: client_port = ntohs(atoi(value))), for which SwapPort is;
	// the captured stand-ins wrote the plain port and every client accepted
	// it (clients/captures/*/ns.log), which is what services/ns sends.
	ClientPort   uint16
	ABCHMigrated bool // tells MSNP10+ clients the lists live in the address book (GUIDs)
	MPOPEnabled  bool // multiple points of presence (MSNP16); 0 here
	// Version is the session's protocol version; 0 means MSNP13 and
	// later. MSNP8–9 profiles end at ClientPort (no ABCHMigrated: their
	// clients know integer group ids only), MSNP10–12 profiles add
	// ABCHMigrated but not MPOPEnabled (yellows111's msnp-wiki version
	// pages show the MSNP8–10 profiles; MPOP came with MSNP16).
	Version int
}

// SwapPort swaps the bytes of a port, as MSN wrote ClientPort.
func SwapPort(p uint16) uint16 { return p<<8 | p>>8 }

// cleanHeader cuts a header value at its first CR or LF, which would
// otherwise split the header block.
func cleanHeader(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}

// ProfilePayload builds the payload of "MSG Hotmail Hotmail <len>" with
// content type text/x-msmsgsprofile: every field is a MIME header
// ("Name: value\r\n", empty values keep "Name: ") and the header block
// ends with an empty line, with no body. pidgin (msg.c
// msn_message_parse_payload, v2.4.3 and v2.10.1) takes only the lines
// before the first "\r\n\r\n" as headers and profile_msg
// (notification.c) reads MSPAuth, ClientIP, ClientPort, LoginTime and kv
// with msn_message_get_attr, so an empty line after Content-Type would
// hide them all; it gives up on a payload without "\r\n\r\n". The
// captures agree: clients/captures/*/ns.log declare 2 bytes more than
// their header lines, and pidgin 2.4.3 sent the captured MSPAuth back as
// its AB cookie (pidgin-2.4.3-msnp13-login/002_FindMembership.http).
func ProfilePayload(f ProfileFields) []byte {
	b := make([]byte, 0, 512)
	h := func(name, value string) {
		b = append(b, name...)
		b = append(b, ": "...)
		b = append(b, cleanHeader(value)...)
		b = append(b, '\r', '\n')
	}
	i := strconv.Itoa
	h("MIME-Version", "1.0")
	h("Content-Type", "text/x-msmsgsprofile; charset=UTF-8")
	h("LoginTime", strconv.FormatInt(f.LoginTime, 10))
	h("EmailEnabled", bit(f.EmailEnabled))
	h("MemberIdHigh", strconv.FormatUint(uint64(f.MemberIDHigh), 10))
	h("MemberIdLow", strconv.FormatUint(uint64(f.MemberIDLow), 10))
	h("lang_preference", i(f.LangPreference))
	h("preferredEmail", f.PreferredEmail)
	h("country", f.Country)
	h("PostalCode", f.PostalCode)
	h("Gender", f.Gender)
	h("Kid", i(f.Kid))
	h("Age", f.Age)
	h("BDayPre", f.BDayPre)
	h("Birthday", f.Birthday)
	h("Wallet", f.Wallet)
	h("Flags", strconv.FormatInt(f.Flags, 10))
	h("sid", i(f.SID))
	if f.KV != "" {
		h("kv", f.KV)
	}
	h("MSPAuth", f.MSPAuth)
	h("ClientIP", f.ClientIP)
	h("ClientPort", strconv.FormatUint(uint64(f.ClientPort), 10))
	if f.Version == 0 || f.Version >= MSNP10 {
		h("ABCHMigrated", bit(f.ABCHMigrated))
	}
	if f.Version == 0 || f.Version >= MSNP13 {
		h("MPOPEnabled", bit(f.MPOPEnabled))
	}
	return append(b, '\r', '\n')
}

// bit writes a boolean profile field as "1" or "0".
func bit(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// DefaultProfile returns the fixed fields the captures show (lang 1033,
// Flags 536872513, sid 507, ABCHMigrated 1, MPOPEnabled 0); the caller
// fills LoginTime, member ids, MSPAuth and the client address.
func DefaultProfile() ProfileFields {
	return ProfileFields{LangPreference: 1033, Flags: 536872513, SID: 507, ABCHMigrated: true}
}

// MailDataPayload builds the initial mail-data message sent after the
// profile message (PROTOCOL.md §7.2): mailData is the Mail-Data value
// (an <MD> document, or "too-large").
func MailDataPayload(mailData string) []byte {
	b := make([]byte, 0, 128+len(mailData))
	b = append(b, "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\nMail-Data: "...)
	b = append(b, cleanHeader(mailData)...)
	return append(b, "\r\n"...)
}

// HotmailArgs are the arguments of the MSG lines the NS sends as the
// Hotmail service ("MSG Hotmail Hotmail <len>").
var HotmailArgs = []string{"Hotmail", "Hotmail"}

// GCFShields is the GCF payload MSNP13 clients get after "USR TWN S"
// ("GCF 0 <len>"): the SHIELDS policy of seeds/msnp13-changes.txt, compact
// (every MSNP13 client version allowed, nothing blocked). pidgin only logs
// it (notification.c gcf_cmd_post).
func GCFShields() []byte {
	return []byte(`<Policies><Policy type="SHIELDS"><config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config></Policy></Policies>`)
}

// CVRAnswer is the server's CVR reply: "CVR trid <rec> <rec> <min>
// <download-url> <info-url>" (PROTOCOL.md §8; the captures answer
// 8.5.1302 three times).
type CVRAnswer struct {
	Recommended string // recommended client version
	Current     string // current client version
	Minimum     string // oldest allowed version
	DownloadURL string // where to download the client
	InfoURL     string // page about the client
}

// DefaultCVR is the answer every captured client accepted.
var DefaultCVR = CVRAnswer{
	Recommended: "8.5.1302", Current: "8.5.1302", Minimum: "8.5.1302",
	DownloadURL: "http://msgr.dlservice.microsoft.com", InfoURL: "http://messenger.msn.com",
}

// Args returns the arguments after the trid.
func (c CVRAnswer) Args() []string {
	return []string{c.Recommended, c.Current, c.Minimum, c.DownloadURL, c.InfoURL}
}

// legacyClientVersions are the versions a SYN-era CVR answer names when
// the client's own is unreadable: the first client of each protocol
// (yellows111's msnp-wiki version pages).
var legacyClientVersions = map[int]string{
	MSNP8: "5.0.0537", MSNP9: "6.0.0602", MSNP10: "6.1.0155", MSNP11: "7.0.0777", MSNP12: "7.5.0311",
}

// CVRFor answers "CVR trid locale os osver arch client clientver …" (args
// as read, trid first) for a session of protocol version. MSNP13 and later
// get DefaultCVR, as captured. MSNP8–12 clients get their own version as
// recommended, current and minimum: DefaultCVR's 8.5.1302 as the minimum
// would make MSN Messenger 5–7.5 insist on an upgrade before signing in
// (the minimum is the oldest version the server accepts), and pidgin
// 2.2.2 ignores the answer (notification.c cvr_cmd).
func CVRFor(args []string, version int) CVRAnswer {
	if !SYNEra(version) {
		return DefaultCVR
	}
	v := ""
	if len(args) > 6 {
		v = args[6]
	}
	if !clientVersion(v) {
		v = legacyClientVersions[version]
	}
	a := DefaultCVR
	a.Recommended, a.Current, a.Minimum = v, v, v
	return a
}

// clientVersion reports whether s looks like a client version (digits and
// dots, like 6.0.0602).
func clientVersion(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// InitialEmailPayload is the mail notification MSNP8–12 clients get after
// the profile message (MSNP13 clients get MailDataPayload instead):
// text/x-msmsgsinitialemailnotification with the unread counts and the
// Hotmail paths. pidgin 2.2.2 (notification.c initial_email_msg) reads
// Inbox-Unread and asks "URL trid INBOX" for the link. abch holds no mail,
// so both counts are 0.
func InitialEmailPayload() []byte {
	return []byte("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialemailnotification; charset=UTF-8\r\n\r\n" +
		"Inbox-Unread: 0\r\nFolders-Unread: 0\r\nInbox-URL: /cgi-bin/HoTMaiL\r\nFolders-URL: /cgi-bin/folders\r\nPost-URL: http://www.hotmail.com\r\n")
}

// URLs are the base addresses of the answers to "URL trid <service>
// [param]" (ABCH_MSNP_URL_* settings; seeds/msnp8-miscellaneous.txt lists
// the services). The zero value of a field means its default.
type URLs struct {
	// Passport is the login page the client opens with its MSPAuth
	// ("https://login.live.com/ppsecure/md5auth.srf?lc=1033" style).
	Passport string
	// Hotmail is the mail site (INBOX, FOLDERS, COMPOSE).
	Hotmail string
	// Profile is the member profile site (PROFILE, PERSON, ADDRBOOK,
	// ADVSEARCH, INTSEARCH).
	Profile string
	// Mobile is the mobile settings site (CHGMOB, MOBILE).
	Mobile string
	// Chat is the chat rooms site (CHAT).
	Chat string
}

// WithDefaults returns u with every empty field set to its MSN-era default.
func (u URLs) WithDefaults() URLs {
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
	return u
}

// URLSiteID is the site id ending every URL answer (Hotmail's id in the
// seed's example).
const URLSiteID = "2"

// Args answers "URL trid <service> [param]" (INBOX FOLDERS COMPOSE CHGMOB
// PROFILE PERSON CHAT MOBILE ADDRBOOK ADVSEARCH INTSEARCH, case-insensitive):
// the arguments after the trid, "rru url id", where rru is the page and url
// the Passport page that signs the browser in and forwards to it. COMPOSE
// with an e-mail address as param opens a mail to it. PROFILE, PERSON and
// CHAT require the locale id as param ("0x0409", the seed: "a hexadecimal
// number specifying your locale ID"), which their page gets in decimal
// (lc=1033). ok is false for an unknown service or a missing or malformed
// locale (the server answers ErrInvalidParameter).
func (u URLs) Args(service, param string) (args []string, ok bool) {
	var rru string
	switch strings.ToUpper(service) {
	case "INBOX":
		rru = u.Hotmail + "/cgi-bin/HoTMaiL"
	case "FOLDERS":
		rru = u.Hotmail + "/cgi-bin/folders"
	case "COMPOSE":
		rru = u.Hotmail + "/cgi-bin/compose"
		if strings.Contains(param, "@") {
			rru += "?mailto=1&to=" + param
		}
	case "PROFILE", "PERSON":
		lc, ok := localeID(param)
		if !ok {
			return nil, false
		}
		rru = u.Profile + "/default.msnw?lc=" + lc
	case "CHGMOB", "MOBILE":
		rru = u.Mobile
	case "CHAT":
		lc, ok := localeID(param)
		if !ok {
			return nil, false
		}
		rru = u.Chat + "/?lc=" + lc
	case "ADDRBOOK", "ADVSEARCH", "INTSEARCH":
		rru = u.Profile + "/search.msnw"
	default:
		return nil, false
	}
	return []string{rru, u.Passport, URLSiteID}, true
}

// localeID parses a URL locale parameter ("0x0409", 1 to 4 hex digits
// after 0x) and returns it in decimal ("1033").
func localeID(s string) (string, bool) {
	hexDigits, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok || hexDigits == "" || len(hexDigits) > 4 {
		return "", false
	}
	n, err := strconv.ParseUint(hexDigits, 16, 16)
	if err != nil || n == 0 {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// USROKArgs returns the arguments of the final "USR <trid> OK …" for
// protocol version: MSNP8–9 carry the URL-encoded friendly name
// ("OK email friendly 1 0", pidgin 2.2.2 reads params[3];
// clients/NS_CLIENT_FACTS.md), later versions do not ("OK email 1 0";
// pidgin 2.4.3: "friendly name part no longer true in msnp11"). verified is
// the Passport "verified" flag; the last field is always 0.
func USROKArgs(email, friendly string, verified bool, version int) []string {
	v := "0"
	if verified {
		v = "1"
	}
	if version <= 9 {
		return []string{"OK", email, URLEncodeName(friendly), v, "0"}
	}
	return []string{"OK", email, v, "0"}
}

// XFRNSArgs returns the arguments of "XFR <trid> NS …" sending a client to
// the NS at addr ("host:port"): MSNP13+ writes "NS addr U D", earlier
// versions "NS addr 0 current" where current is the address of the server
// that answers (seeds/msnp13-changes.txt: the two parameters were replaced
// by U and D in MSNP13).
func XFRNSArgs(addr, current string, version int) []string {
	if version >= 13 {
		return []string{"NS", addr, "U", "D"}
	}
	return []string{"NS", addr, "0", current}
}
