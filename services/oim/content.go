package oim

import (
	"encoding/base64"
	"fmt"
	"mime"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// content is the validated MIME body of a Store request.
type content struct {
	RunID       string // X-OIM-Run-Id as sent, braces included
	SequenceNum int    // X-OIM-Sequence-Num
	Text        string // the decoded UTF-8 message
}

// runIDPattern is a GUID in braces, any letter case (emesene sends lower
// case; papyon requires the braces back, RST_OIM.md §3.3).
var runIDPattern = regexp.MustCompile(`^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$`)

// serverHeaders are headers only the server writes into a stored message;
// a client supplying one is refused, as the real service did (PROTOCOL.md
// §7.1). abch renders every header of the stored message itself anyway.
var serverHeaders = map[string]bool{
	"received": true, "message-id": true, "from": true, "to": true, "date": true, "subject": true,
	"return-path": true, "x-message-info": true, "x-oim-originatingsource": true,
	"x-oimproxy": true, "x-originalarrivaltime": true, "x-msg-soap-version": true,
}

func invalid(format string, args ...any) error {
	return models.Errorf(models.CodeInvalidContent, format, args...)
}

// parseContent validates the Content of a Store request (PROTOCOL.md §7.1,
// RST_OIM.md §2.1): \n or \r\n line ends, headers MIME-Version 1.0,
// Content-Type text/plain (UTF-8), Content-Transfer-Encoding base64,
// X-OIM-Message-Type OfflineMessage, X-OIM-Run-Id {GUID},
// X-OIM-Sequence-Num n, a blank line, then base64 wrapped or on one line.
// Every violation is q0:InvalidContent.
func parseContent(raw string) (*content, error) {
	s := strings.ReplaceAll(raw, "\r\n", "\n")
	s = strings.TrimLeft(s, " \t\n")
	head, body, ok := strings.Cut(s, "\n\n")
	if !ok {
		return nil, invalid("message has no blank line between headers and body")
	}
	hdr := map[string]string{}
	for _, line := range strings.Split(head, "\n") {
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, invalid("malformed header line %q", soap.Truncate(line, 60))
		}
		if serverHeaders[name] {
			return nil, invalid("header %s is set by the server", name)
		}
		if _, dup := hdr[name]; dup {
			return nil, invalid("header %s repeated", name)
		}
		hdr[name] = strings.TrimSpace(value)
	}
	if hdr["mime-version"] != "1.0" {
		return nil, invalid("MIME-Version must be 1.0")
	}
	mt, params, err := mime.ParseMediaType(hdr["content-type"])
	if err != nil || mt != "text/plain" {
		return nil, invalid("Content-Type must be text/plain")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, invalid("charset must be UTF-8")
	}
	if !strings.EqualFold(hdr["content-transfer-encoding"], "base64") {
		return nil, invalid("Content-Transfer-Encoding must be base64")
	}
	if hdr["x-oim-message-type"] != "OfflineMessage" {
		return nil, invalid("X-OIM-Message-Type must be OfflineMessage")
	}
	c := &content{RunID: hdr["x-oim-run-id"]}
	if !runIDPattern.MatchString(c.RunID) {
		return nil, invalid("X-OIM-Run-Id must be a GUID in braces")
	}
	seq, err := strconv.Atoi(hdr["x-oim-sequence-num"])
	if err != nil || seq < 1 || seq > 1<<30 {
		return nil, invalid("X-OIM-Sequence-Num must be a positive integer")
	}
	c.SequenceNum = seq
	// purple 2.5 wraps the base64 at 76 columns, the others send one line.
	b64 := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, body)
	if b64 == "" {
		return nil, invalid("message body is empty")
	}
	enc := base64.StdEncoding
	if len(b64)%4 != 0 && !strings.Contains(b64, "=") {
		enc = base64.RawStdEncoding
	}
	text, err := enc.DecodeString(b64)
	if err != nil {
		return nil, invalid("message body is not valid base64")
	}
	if !utf8.Valid(text) || strings.ContainsRune(string(text), 0) {
		return nil, invalid("message text is not UTF-8 text")
	}
	if len(text) == 0 {
		return nil, invalid("message text is empty")
	}
	c.Text = string(text)
	return c, nil
}

// senderName returns the friendlyName as the RFC 2047 encoded word the
// stored message carries: kept as sent when it is one (and decodes), else
// the text (or the e-mail address when empty) encoded as =?utf-8?B?…?=,
// because msnp-sharp drops an OIM whose From nick is not an encoded word
// (RST_OIM.md §3.3).
func senderName(friendly, email string) (string, error) {
	friendly = strings.TrimSpace(friendly)
	if len(friendly) > 1024 {
		return "", invalid("friendlyName too long")
	}
	if strings.HasPrefix(friendly, "=?") && strings.HasSuffix(friendly, "?=") && !strings.ContainsAny(friendly, " \t\r\n<>\"") {
		var dec mime.WordDecoder
		if s, err := dec.Decode(friendly); err == nil && utf8.ValidString(s) {
			return friendly, nil
		}
		return "", invalid("friendlyName is not a valid RFC 2047 encoded word")
	}
	if friendly == "" {
		friendly = email
	}
	if !utf8.ValidString(friendly) || strings.ContainsAny(friendly, "\r\n\x00") {
		return "", invalid("friendlyName is not UTF-8 text")
	}
	return encodedWord(friendly), nil
}

// encodedWord is s as one =?utf-8?B?…?= word.
func encodedWord(s string) string {
	return "=?utf-8?B?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?="
}

// messageText renders a stored OIM as the RFC 822 text of GetMessageResult
// (RST_OIM.md §3.3), with \n line ends only (the XML writer turns \r
// into &#xD;, which purple and msnp-sharp cannot parse):
//   - From is the encoded word, one space, <addr> (purple dereferences
//     strstr(from, "<"), msnp-sharp's regex needs the encoded word,
//     emesene slices "&lt;…&gt;");
//   - Date has no weekday ("10 Aug 2008 15:20:06 -0000": purple's sscanf);
//   - X-OIM-Run-Id (braces) and X-OIM-Sequence-Num as sent (papyon);
//   - the base64 body on one line (msnp-sharp reads one line).
//
// The sender's IP address is stored but not shown to the recipient.
func messageText(m *models.OfflineMessage, recipientEmail string) string {
	at := m.ReceivedAt.UTC()
	var b strings.Builder
	b.Grow(512 + len(m.Body)*4/3)
	line := func(k, v string) {
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(v)
		b.WriteByte('\n')
	}
	line("x-msg-soap-version", "1.0")
	line("From", m.SenderFriendly+" <"+m.SenderEmail+">")
	line("To", recipientEmail)
	line("Subject", "")
	if m.Proxy != "" {
		line("X-OIMProxy", m.Proxy)
	}
	line("Content-Type", "text/plain; charset=UTF-8")
	line("Content-Transfer-Encoding", "base64")
	line("X-OIM-Message-Type", "OfflineMessage")
	line("X-OIM-Run-Id", m.RunID)
	line("X-OIM-Sequence-Num", strconv.Itoa(m.SequenceNum))
	line("MIME-Version", "1.0")
	line("Date", at.Format("2 Jan 2006 15:04:05")+" -0000")
	line("Message-ID", "<"+m.GUID+"@oim.messenger.msn.com>")
	line("X-OriginalArrivalTime", at.Format("2 Jan 2006 15:04:05")+fmt.Sprintf(".%04d (UTC) FILETIME=[%s]", at.Nanosecond()/1_000_000, filetime(at)))
	line("Return-Path", m.SenderEmail)
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString([]byte(m.Body)))
	return b.String()
}

// filetime is t as a Windows FILETIME "LOW:HIGH" in upper-case hex, the
// form of X-OriginalArrivalTime.
func filetime(t time.Time) string {
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	ft := uint64(t.UnixNano()/100) + epochDiff
	return fmt.Sprintf("%08X:%08X", uint32(ft), uint32(ft>>32))
}
