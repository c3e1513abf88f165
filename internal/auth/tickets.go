package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"time"
)

// Audience is the service a ticket was issued for (the RST AppliesTo
// address). Each service accepts only the audiences its real clients send.
type Audience uint8

// Audiences.
const (
	AudOther           Audience = iota // an address we issue for but no service accepts
	AudTB                              // http://Passport.NET/tb
	AudMessengerClear                  // messengerclear.live.com (MSNP15 USR SSO)
	AudMessenger                       // messenger.msn.com (MSNP13 USR TWN, MSPAuth, RSI)
	AudMessengerSecure                 // messengersecure.live.com (OIM Store2)
	AudContacts                        // contacts.msn.com and its aliases
	AudStorage                         // storage.msn.com, storage.live.com
	AudSpaces                          // spaces.live.com
	AudVoice                           // voice.messenger.msn.com
	AudSup                             // sup.live.com
)

var audienceNames = map[Audience]string{
	AudOther: "other", AudTB: "http://Passport.NET/tb", AudMessengerClear: "messengerclear.live.com",
	AudMessenger: "messenger.msn.com", AudMessengerSecure: "messengersecure.live.com",
	AudContacts: "contacts.msn.com", AudStorage: "storage.msn.com", AudSpaces: "spaces.live.com",
	AudVoice: "voice.messenger.msn.com", AudSup: "sup.live.com",
}

// String is the canonical address of the audience.
func (a Audience) String() string {
	if s, ok := audienceNames[a]; ok {
		return s
	}
	return "other"
}

// AudienceFor maps an RST AppliesTo address to its audience. The contacts
// service is spelled several ways by clients (RST_OIM.md §1.2).
func AudienceFor(address string) Audience {
	a := strings.ToLower(strings.TrimSpace(address))
	a = strings.TrimPrefix(strings.TrimPrefix(a, "https://"), "http://")
	a = strings.TrimSuffix(a, "/")
	switch a {
	case "passport.net/tb":
		return AudTB
	case "messengerclear.live.com":
		return AudMessengerClear
	case "messenger.msn.com":
		return AudMessenger
	case "messengersecure.live.com":
		return AudMessengerSecure
	case "contacts.msn.com", "local-bay.contacts.msn.com", "omega.contacts.msn.com",
		"byrdr.omega.contacts.msn.com", "livecontacts.live.com", "contacts.live.com":
		return AudContacts
	case "storage.msn.com", "storage.live.com", "tkrdr.storage.msn.com":
		return AudStorage
	case "spaces.live.com":
		return AudSpaces
	case "voice.messenger.msn.com":
		return AudVoice
	case "sup.live.com":
		return AudSup
	}
	return AudOther
}

// Ticket is an issued compact token.
type Ticket struct {
	T, P     string    // the t= and p= parts, charset [A-Za-z0-9_-]
	Expires  time.Time // end of validity
	ProofKey []byte    // 24 bytes, the RST BinarySecret of this token
}

// Text is the compact token text "t=…&p=…" (XML-escape the & when writing).
func (t Ticket) Text() string { return "t=" + t.T + "&p=" + t.P }

// Claims is what a valid ticket says.
type Claims struct {
	AccountID    int64
	TokenVersion int
	Audience     Audience
	Expires      time.Time
	T            string // the t= part as presented
}

// Ticketer mints and checks tickets. A ticket is
// base64url(version | audience | account | token version | expiry | nonce | HMAC-SHA256[:16]):
// unforgeable without the secret, bound to one account and one audience,
// expiring, and void once the account's token version moves on (password
// change). The p= part and the proof key are derived from t, so the NS can
// learn the proof key of any ticket it is shown.
type Ticketer struct {
	macKey, pKey, proofKey, lockKey []byte
	Lifetime                        time.Duration
	Now                             func() time.Time
	// Rand supplies the ticket nonces; nil means crypto/rand. Tests set a
	// fixed reader to get byte-identical golden answers.
	Rand io.Reader
}

// NewTicketer derives the ticket keys from the server secret.
func NewTicketer(secret []byte, lifetime time.Duration) *Ticketer {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("abch ticket key: " + label))
		return m.Sum(nil)
	}
	return &Ticketer{
		macKey: derive("mac"), pKey: derive("profile"), proofKey: derive("proof"), lockKey: derive("oim lock key"),
		Lifetime: lifetime, Now: time.Now,
	}
}

const (
	ticketVersion = 1
	payloadLen    = 1 + 1 + 8 + 4 + 8 + 10
	macLen        = 16
)

// Errors of Parse. Callers answer each with the service's auth fault.
var (
	ErrTicketMalformed = errors.New("auth: malformed ticket")
	ErrTicketForged    = errors.New("auth: ticket signature mismatch")
	ErrTicketExpired   = errors.New("auth: ticket expired")
)

// Issue mints a ticket for an account and audience.
func (k *Ticketer) Issue(accountID int64, tokenVersion int, aud Audience) Ticket {
	exp := k.Now().Add(k.Lifetime).UTC().Truncate(time.Second)
	buf := make([]byte, payloadLen, payloadLen+macLen)
	buf[0] = ticketVersion
	buf[1] = byte(aud)
	binary.BigEndian.PutUint64(buf[2:], uint64(accountID))
	binary.BigEndian.PutUint32(buf[10:], uint32(tokenVersion))
	binary.BigEndian.PutUint64(buf[14:], uint64(exp.Unix()))
	src := k.Rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, buf[22:payloadLen]); err != nil {
		panic(err)
	}
	m := hmac.New(sha256.New, k.macKey)
	m.Write(buf)
	buf = append(buf, m.Sum(nil)[:macLen]...)
	t := base64.RawURLEncoding.EncodeToString(buf)
	return Ticket{T: t, P: k.profilePart(t), Expires: exp, ProofKey: k.ProofKey(t)}
}

// ProfilePart is the p= part that belongs to ticket part t; the NS ticket
// check compares it with the p= a client presents so a tampered p is caught.
func (k *Ticketer) ProfilePart(t string) string { return k.profilePart(t) }

func (k *Ticketer) profilePart(t string) string {
	m := hmac.New(sha256.New, k.pKey)
	m.Write([]byte(t))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// ProofKey is the 24-byte BinarySecret that belongs to ticket part t.
func (k *Ticketer) ProofKey(t string) []byte {
	m := hmac.New(sha256.New, k.proofKey)
	m.Write([]byte(t))
	return m.Sum(nil)[:24]
}

// LockKeyChallenge is the OIM LockKeyChallenge for ticket part t: a 20-digit
// decimal string, stable for the ticket's life, so the challenge needs no
// server-side state and stays valid for the whole session (RST_OIM.md §2.2).
func (k *Ticketer) LockKeyChallenge(t string) string {
	m := hmac.New(sha256.New, k.lockKey)
	m.Write([]byte(t))
	sum := m.Sum(nil)
	var b strings.Builder
	for i := 0; i < 20; i++ {
		b.WriteByte('0' + sum[i]%10)
	}
	s := b.String()
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

// TPart extracts the t= part from any form clients present: "t=X&p=Y", "X",
// "t=X", "X&p=Y" (MSPAuth cookies, RSI <t>, OIM passport attribute).
func TPart(text string) string {
	s := strings.TrimSpace(text)
	s = strings.TrimPrefix(s, "t=")
	if i := strings.IndexByte(s, '&'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Parse checks a ticket's signature and expiry. The caller still checks the
// audience and the account's current token version.
func (k *Ticketer) Parse(text string) (Claims, error) {
	t := TPart(text)
	if t == "" || len(t) > 200 {
		return Claims{}, ErrTicketMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(raw) != payloadLen+macLen || raw[0] != ticketVersion {
		return Claims{}, ErrTicketMalformed
	}
	m := hmac.New(sha256.New, k.macKey)
	m.Write(raw[:payloadLen])
	if subtle.ConstantTimeCompare(m.Sum(nil)[:macLen], raw[payloadLen:]) != 1 {
		return Claims{}, ErrTicketForged
	}
	c := Claims{
		Audience:     Audience(raw[1]),
		AccountID:    int64(binary.BigEndian.Uint64(raw[2:])),
		TokenVersion: int(binary.BigEndian.Uint32(raw[10:])),
		Expires:      time.Unix(int64(binary.BigEndian.Uint64(raw[14:])), 0).UTC(),
		T:            t,
	}
	if !k.Now().Before(c.Expires) {
		return c, ErrTicketExpired
	}
	return c, nil
}
