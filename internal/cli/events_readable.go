package cli

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/abch-im/abch/internal/events"
)

// readableEvent re-encodes a published event for the terminal: the same
// one-line JSON object, but with <, > and & written as themselves instead
// of \u003c, \u003e, \u0026 (encoding/json's HTML escaping), so the ns
// payloads (<ml>…, <NOTIFICATION …>) read as the NS will send them. A
// message that is not an event is printed as it came.
func readableEvent(b []byte) string {
	var ev events.Event
	if err := json.Unmarshal(b, &ev); err != nil || ev.Type == "" {
		return strings.TrimSpace(string(b))
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return strings.TrimSpace(string(b))
	}
	return strings.TrimSpace(out.String())
}
