package oim

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/models"
)

var contentElement = regexp.MustCompile(`(?s)<Content[^>]*>(.*?)</Content>`)

// FuzzParseContent: the OIM MIME content parser never panics; every
// refusal is q0:InvalidContent; accepted content re-encodes, as a client
// writes it, to content that parses to the same message, and the stored
// message as served by GetMessage carries exactly that text.
func FuzzParseContent(f *testing.F) {
	for _, c := range corpus.ClientBodies(f) {
		if m := contentElement.FindSubmatch(c.Body); m != nil {
			f.Add(string(m[1]))
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := parseContent(raw)
		if err != nil {
			if models.ErrorCode(err) != models.CodeInvalidContent {
				t.Fatalf("refused with %v, want InvalidContent", err)
			}
			return
		}
		again := "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n" +
			"X-OIM-Message-Type: OfflineMessage\r\nX-OIM-Run-Id: " + c.RunID + "\r\nX-OIM-Sequence-Num: " + strconv.Itoa(c.SequenceNum) +
			"\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte(c.Text))
		c2, err := parseContent(again)
		if err != nil || *c2 != *c {
			t.Fatalf("re-encoded content parses to %+v, %v; want %+v", c2, err, c)
		}
		served := messageText(&models.OfflineMessage{Body: c.Text, RunID: c.RunID, SequenceNum: c.SequenceNum, SenderEmail: "a@example.com",
			SenderFriendly: "=?utf-8?B?YQ==?=", GUID: "00000000-0000-0000-0000-000000000000", ReceivedAt: time.Unix(0, 0)}, "b@example.com")
		_, b64, _ := strings.Cut(served, "\n\n")
		if text, err := base64.StdEncoding.DecodeString(b64); err != nil || string(text) != c.Text {
			t.Fatalf("served text %q, %v; want %q", text, err, c.Text)
		}
	})
}
