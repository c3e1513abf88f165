// Package events defines the change events abch sends to Notification
// Servers: their JSON document, their NATS subject, and the NS command
// payloads (ADL/RML/NOT/MSG) ready to write to a client socket, byte for byte
// as PROTOCOL.md §5 and §7.2 give them.
//
// Events are written to the outbox table inside the transaction of the change
// they describe (internal/store) and published after commit by the relay.
package events

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/abch-im/abch/internal/xmlw"
)

// Event types.
const (
	// TypeReverseAdded: the actor put the recipient on their Forward List,
	// so the actor is now on the recipient's Reverse (and maybe Pending)
	// list. NS: ADL 0 l=8 f=<actor's name> + NOT (PROTOCOL.md §5.1, §5.3).
	TypeReverseAdded = "reverse.added"
	// TypeReverseRemoved: the actor removed the recipient from their FL.
	// NS: RML 0 l=8 + NOT.
	TypeReverseRemoved = "reverse.removed"
	// TypeMembershipChanged: the recipient's own Allow/Block/Pending lists
	// changed (by one of the recipient's sessions). NS: NOT; presence must be
	// re-evaluated for the member named in Data.
	TypeMembershipChanged = "membership.changed"
	// TypeAddressBookChanged: the recipient's address book changed. NS: NOT.
	TypeAddressBookChanged = "addressbook.changed"
	// TypeProfileChanged: display name changed. NS: NOT.
	TypeProfileChanged = "profile.changed"
	// TypePrivacyChanged: BLP/GTC changed. NS: NOT, re-evaluate visibility.
	TypePrivacyChanged = "privacy.changed"
	// TypeVisibilityChanged: the actor changed whether the recipient may see
	// the actor's presence (block/unblock/allow). No NS command: the NS sends
	// FLN/NLN as its presence state dictates.
	TypeVisibilityChanged = "visibility.changed"
	// TypeOIMStored: a new offline message for the recipient. NS: MSG Hotmail.
	TypeOIMStored = "oim.stored"
	// TypeOIMDeleted: the recipient deleted offline messages. NS: MSG Hotmail.
	TypeOIMDeleted = "oim.deleted"
)

// Party identifies an account in an event.
type Party struct {
	Email       string `json:"email"`
	CID         int64  `json:"cid"`
	PUID        uint64 `json:"puid"`
	DisplayName string `json:"display_name,omitempty"`
}

// NSCommand is a command the NS writes to the recipient's sockets. Payload is
// the bytes after the command line: the NS sends
// "<Command> <Args> <len(Payload)>\r\n" followed by Payload, where len is the
// byte length of the UTF-8 payload (for NOT, which has no transaction id and
// no Args, "NOT <len>\r\n"; for OIM mail notifications Args is
// "Hotmail Hotmail"). See docs/events.md.
type NSCommand struct {
	Command string `json:"command"`
	Args    string `json:"args,omitempty"`
	Payload string `json:"payload"`
}

// Event is one change event as published on the queue.
type Event struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	Recipient Party     `json:"recipient"`
	Actor     *Party    `json:"actor,omitempty"`
	// Revision is the recipient's address-book/membership cursor after the
	// change, in the lastChange form clients use.
	Revision string `json:"revision"`
	// ListVersion is the recipient's SYN list version after the change
	// (MSNP8–9 pushes such as "ADD 0 RL <ver> …" carry it; docs/events.md
	// §7.1); 0 when the recipient's lists did not change in that
	// transaction.
	ListVersion int64 `json:"list_version,omitempty"`
	// NS lists the commands to send to the recipient's sessions.
	NS []NSCommand `json:"ns"`
	// ToActorSessions tells the NS whether the session that made the change
	// (recipient == actor) should get the commands as well. abch cannot tell
	// sessions apart, so for self-events this is false and the NS may skip
	// the session it believes made the call; when false and the NS cannot
	// tell, sending to every session is harmless (NOT is only a hint).
	ToActorSessions bool `json:"to_actor_sessions"`
	// Data carries type-specific details (member, role, message id, ...).
	Data map[string]string `json:"data,omitempty"`
}

// SubjectPrefix is the NATS subject prefix of per-recipient events.
const SubjectPrefix = "abch.events."

// StreamName is the JetStream stream holding every event subject
// (SubjectPrefix + ">"); abch creates it at start (internal/broker).
const StreamName = "ABCH_EVENTS"

// Subject returns the NATS subject of events for the account with cid: one
// subject per recipient, so an NS instance subscribes only to the accounts
// it holds ("abch.events.<cid>", cid as signed decimal; "abch.events.>" for
// all).
func Subject(cid int64) string { return SubjectPrefix + strconv.FormatInt(cid, 10) }

// ListPayload builds the ADL/RML payload for one contact:
// <ml><d n="example.com"><c n="bob" t="1" l="8" f="Bob%20B" /></d></ml>
// (PROTOCOL.md §5.1, §5.2). friendly is URL-encoded; empty omits f=.
func ListPayload(email string, network, list int, friendly string) string {
	local, domain := email, ""
	if i := strings.LastIndexByte(email, '@'); i >= 0 {
		local, domain = email[:i], email[i+1:]
	}
	w := xmlw.New(64 + len(email) + 3*len(friendly))
	w.Spaced = true // <c … /> as the MSNP captures spell it
	w.Raw("<ml>")
	w.Start("d")
	w.Attr("n", domain)
	w.EndStart()
	w.Start("c")
	w.Attr("n", local)
	w.Attr("t", strconv.Itoa(network))
	w.Attr("l", strconv.Itoa(list))
	if friendly != "" {
		w.Attr("f", URLEncode(friendly))
	}
	w.EndEmpty()
	w.Raw("</d></ml>")
	return w.String()
}

// NotifyPayload builds the NOT body that tells a client its address book
// changed (ABCHInternal NotificationData, PROTOCOL.md §5.3). MSNPSharp acts
// only when id=0, siteid=45705, MSG id=0, VIA agent=messenger, TO name and
// CID match its own account. The NotificationData document is the escaped
// text of BODY.
func NotifyPayload(recipient Party, lastModified string) string {
	inner := xmlw.New(320)
	inner.Raw(`<NotificationData xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	inner.Leaf("Service", "ABCHInternal")
	inner.Int("CID", recipient.CID)
	inner.Leaf("LastModifiedDate", lastModified)
	inner.Leaf("HasNewItem", "false")
	inner.Raw(`</NotificationData>`)

	w := xmlw.New(640)
	w.Spaced = true // <VIA … /> as the MSNP captures spell it
	w.Raw(`<NOTIFICATION id="0" siteid="45705" siteurl="http://contacts.msn.com">`)
	w.Start("TO")
	w.Attr("pid", fmt.Sprintf("0x%08x:0x%08x", uint32(recipient.PUID), uint32(recipient.PUID>>32)))
	w.Attr("name", recipient.Email)
	w.EndStart()
	w.Raw(`<VIA agent="messenger" /></TO><MSG id="0"><SUBSCR url="s.htm" /><ACTION url="a.htm" />`)
	w.Leaf("BODY", inner.String())
	w.Raw(`</MSG></NOTIFICATION>`)
	return w.String()
}

// URLEncode percent-encodes s the way MSNP friendly names are encoded: every
// byte except ASCII letters, digits and -_.~ becomes %XX.
func URLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
