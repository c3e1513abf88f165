package msnp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/models"
)

// UUX is a parsed UUX payload:
//
//	<Data><PSM>…</PSM><CurrentMedia>…</CurrentMedia><MachineGuid>{…}</MachineGuid></Data>
//
// (PROTOCOL.md §8; MachineGuid added in MSNP13, seeds/msnp13-changes.txt).
// Elements may be empty (<PSM/>, pidgin) or absent.
type UUX struct {
	PSM          string // personal status message, decoded text
	CurrentMedia string // "Player\0Type\0Enabled\0Format\0…", literal backslash-zero separators
	MachineGuid  string // "{…}" or ""
	// Has* say which elements were present (an absent element leaves the
	// stored value alone; an empty one clears it).
	HasPSM, HasCurrentMedia, HasMachineGuid bool
	// Raw is the payload as sent.
	Raw []byte
}

// Limits of a UUX payload. WLM limits the PSM to 129 characters; the cap
// leaves room for XML escaping and other clients.
const (
	MaxUUX          = 8192
	MaxPSM          = 1024 // bytes of decoded text
	MaxCurrentMedia = 2048
)

// ParseUUX parses a UUX payload strictly: well-formed XML with a <Data>
// root, each child at most once and holding text only; PSM, CurrentMedia
// and MachineGuid are read, other children of later clients
// (SignatureSound, DDP, Scene, ColorScheme …) are allowed and ignored. An
// empty payload is an empty UUX. MachineGuid must be a GUID in braces
// (MSNPSharp sends the braces as &#x7B; &#x7D;, pidgin an empty element).
// Errors are *Error ErrInvalidParameter (201): malformed XML, invalid UTF-8,
// control characters, oversized fields, a payload over MaxUUX.
func ParseUUX(p []byte) (UUX, error) {
	u := UUX{Raw: p}
	bad := func(msg string) (UUX, error) { return UUX{}, &Error{Code: ErrInvalidParameter, Msg: "uux: " + msg} }
	if len(p) > MaxUUX {
		return bad("payload too long")
	}
	if len(p) == 0 {
		return u, nil
	}
	if !utf8.Valid(p) {
		return bad("invalid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(p))
	d.Strict = true
	d.Entity = nil
	depth := 0
	var cur string
	var text strings.Builder
	seen := map[string]bool{}
	root := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("malformed XML")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != "" {
				return bad("namespaced element")
			}
			switch depth {
			case 0:
				if root || t.Name.Local != "Data" {
					return bad("root element is not <Data>")
				}
				root = true
			case 1:
				if seen[t.Name.Local] {
					return bad("duplicate <" + t.Name.Local + ">")
				}
				seen[t.Name.Local] = true
				cur = t.Name.Local
				text.Reset()
			default:
				return bad("nested element in <" + cur + ">")
			}
			depth++
		case xml.EndElement:
			depth--
			if depth == 1 {
				if msg := u.setField(cur, text.String()); msg != "" {
					return bad(msg)
				}
				cur = ""
			}
		case xml.CharData:
			switch depth {
			case 2:
				text.Write(t)
			default:
				if len(bytes.TrimSpace(t)) != 0 {
					return bad("text outside elements")
				}
			}
		case xml.ProcInst:
			if depth != 0 || root || t.Target != "xml" {
				return bad("processing instruction")
			}
		case xml.Comment, xml.Directive:
			return bad("comment or directive")
		}
	}
	if !root || depth != 0 {
		return bad("no <Data> element")
	}
	return u, nil
}

// setField checks the text of one child of <Data> and keeps PSM,
// CurrentMedia and MachineGuid (others, such as SignatureSound, stay only
// in Raw); it returns what is wrong, or "".
func (u *UUX) setField(name, v string) string {
	if badText([]byte(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(v))) != "" {
		return "control character in <" + name + ">"
	}
	switch name {
	case "PSM":
		if len(v) > MaxPSM {
			return "PSM too long"
		}
		u.PSM, u.HasPSM = v, true
	case "CurrentMedia":
		if len(v) > MaxCurrentMedia {
			return "CurrentMedia too long"
		}
		u.CurrentMedia, u.HasCurrentMedia = v, true
	case "MachineGuid":
		if v != "" && !validGUID(v) {
			return "bad MachineGuid"
		}
		u.MachineGuid, u.HasMachineGuid = v, true
	}
	return ""
}

// validGUID reports whether s is "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}"
// (hex, either case).
func validGUID(s string) bool {
	return len(s) == 38 && s[0] == '{' && s[37] == '}' && models.IsGUID(s[1:37])
}

// UBXPayload builds the UBX payload watchers get for a user's status data:
//
//	<Data><PSM>…</PSM><CurrentMedia>…</CurrentMedia><MachineGuid>…</MachineGuid></Data>
//
// with text escaped (&amp; &lt; &gt;). MachineGuid is written from MSNP13
// on and only when known. A user who never sent UUX has empty PSM and
// CurrentMedia (PROTOCOL.md §8 shows a UBX per online contact at sign-in).
// pidgin reads PSM and CurrentMedia with its XML parser (state.c
// msn_get_psm / msn_get_currentmedia), so the payload is rebuilt rather
// than relayed as sent.
func UBXPayload(psm, currentMedia, machineGuid string, version int) []byte {
	b := make([]byte, 0, 64+len(psm)+len(currentMedia))
	b = append(b, "<Data><PSM>"...)
	b = appendText(b, psm)
	b = append(b, "</PSM><CurrentMedia>"...)
	b = appendText(b, currentMedia)
	b = append(b, "</CurrentMedia>"...)
	if version >= 13 && machineGuid != "" {
		b = append(b, "<MachineGuid>"...)
		b = appendText(b, machineGuid)
		b = append(b, "</MachineGuid>"...)
	}
	return append(b, "</Data>"...)
}

// UBXArgs returns the arguments of "UBX <args> <len>": the e-mail, and
// from MSNP14 on the network id. pidgin 2.10.1 reads the length from
// params[2] (notification.c ubx_cmd), pidgin 2.4.3 from the last
// parameter (command.c msn_set_payload_len), so both forms work there.
func UBXArgs(email string, network, version int) []string {
	if version >= 14 {
		if network == 0 {
			network = 1
		}
		return []string{email, strconv.Itoa(network)}
	}
	return []string{email}
}
