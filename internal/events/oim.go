package events

import (
	"strconv"
	"strings"
	"time"

	"github.com/abch-im/abch/internal/xmlw"
)

// MailMessage is one stored offline message as the Mail-Data document
// (PROTOCOL.md §7.2) and RSI GetMetadata (RST_OIM.md §3.2) describe it.
type MailMessage struct {
	ID          string    // message id (GUID), the key of GetMessage/DeleteMessages
	SenderEmail string    // E
	SenderName  string    // N, RFC 2047 encoded word
	Received    time.Time // RT
	Read        bool      // RS
	Size        int       // SZ: size of the GetMessage text
}

// MailDataInlineMax is how many messages the NS Mail-Data carries inline;
// beyond it the value is the literal "too-large" and clients call RSI
// GetMetadata (PROTOCOL.md §7.2, RST_OIM.md §3.2).
const MailDataInlineMax = 25

// OIMFolder is the folder id of offline messages (M/F).
const OIMFolder = "00000000-0000-0000-0000-000000000009"

// MailDataXML is the full MD document (WriteMailData) as a string.
func MailDataXML(msgs []MailMessage) string {
	w := xmlw.New(256 + 300*len(msgs))
	WriteMailData(w, msgs)
	return w.String()
}

// WriteMailData writes the full MD document: e-mail counters (always zero:
// abch hosts no mailbox), the quota, and one M per message with every field
// present. SU holds a space because emesene reads the text node of every
// child of M (RST_OIM.md §3.2). RSI GetMetadata embeds the same document.
func WriteMailData(w *xmlw.Writer, msgs []MailMessage) {
	w.Raw(`<MD><E><I>0</I><IU>0</IU><O>0</O><OU>0</OU></E><Q><QTM>409600</QTM><QNM>204800</QNM></Q>`)
	for i := range msgs {
		m := &msgs[i]
		w.Raw(`<M><T>11</T><S>6</S>`)
		w.Leaf("RT", m.Received.UTC().Format("2006-01-02T15:04:05.000Z"))
		w.Leaf("RS", boolDigit(m.Read))
		w.Int("SZ", int64(m.Size))
		w.Leaf("E", m.SenderEmail)
		w.Leaf("I", m.ID)
		w.Leaf("F", OIMFolder)
		w.Leaf("N", m.SenderName)
		w.Raw(`<SU> </SU></M>`)
	}
	w.Raw(`</MD>`)
}

// InitialMailDataPayload is the MSG Hotmail Hotmail body the NS sends right
// after sign-in (text/x-msmsgsinitialmdatanotification, PROTOCOL.md §7.2):
// Mail-Data inline, or "too-large" past MailDataInlineMax messages. The
// Inbox-URL/Folders-URL/Post-URL headers are for Hotmail-hosted accounts
// only and are left out.
func InitialMailDataPayload(msgs []MailMessage) string {
	md := "too-large"
	if len(msgs) <= MailDataInlineMax {
		md = MailDataXML(msgs)
	}
	return "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\nMail-Data: " + md + "\r\n"
}

// OIMNotificationPayload is the MSG Hotmail Hotmail body announcing one new
// offline message to a signed-in recipient (text/x-msmsgsoimnotification,
// PROTOCOL.md §7.2 in the form ESC served to every client: no E/Q block, no
// RT, folder .!!OIM, a trailing <SU> </SU>). Clients answer with GetMessage.
func OIMNotificationPayload(m MailMessage) string {
	w := xmlw.New(512)
	w.Raw("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsoimnotification; charset=UTF-8\r\n\r\n")
	w.Raw("Mail-Data: <MD><M><T>11</T><S>6</S>")
	w.Leaf("RS", boolDigit(m.Read))
	w.Int("SZ", int64(m.Size))
	w.Leaf("E", m.SenderEmail)
	w.Leaf("I", m.ID)
	w.Leaf("F", ".!!OIM")
	w.Leaf("N", m.SenderName)
	w.Raw("</M><SU> </SU></MD>\r\n")
	return w.String()
}

// ActiveMailPayload is the MSG Hotmail Hotmail body telling the owner's
// sessions that n offline messages moved to the trash (deleted;
// text/x-msmsgsactivemailnotification, PROTOCOL.md §7.2).
func ActiveMailPayload(n int) string {
	return "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\n" +
		"Src-Folder: .!!OIM\r\nDest-Folder: .!!trAsH\r\nMessage-Delta: " + strconv.Itoa(n) + "\r\n"
}

// OIMStored: sender stored an offline message for recipient. The recipient's
// signed-in sessions get MSG Hotmail Hotmail with the oim notification.
func OIMStored(recipient, sender Party, m MailMessage) Event {
	return Event{
		Type: TypeOIMStored, Recipient: recipient, Actor: &sender, ToActorSessions: true,
		NS:   []NSCommand{{Command: "MSG", Args: "Hotmail Hotmail", Payload: OIMNotificationPayload(m)}},
		Data: map[string]string{"message_id": m.ID, "sender": sender.Email, "size": strconv.Itoa(m.Size)},
	}
}

// OIMDeleted: the recipient deleted offline messages (ids). The recipient's
// other sessions get the active-mail notification so they stop listing
// them; like every self-event, the deleting session need not get it.
func OIMDeleted(recipient Party, ids []string) Event {
	return Event{
		Type: TypeOIMDeleted, Recipient: recipient, Actor: &recipient,
		NS:   []NSCommand{{Command: "MSG", Args: "Hotmail Hotmail", Payload: ActiveMailPayload(len(ids))}},
		Data: map[string]string{"message_ids": strings.Join(ids, ","), "count": strconv.Itoa(len(ids))},
	}
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
