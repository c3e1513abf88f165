package msnp

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// These tests model how each client splits the server's byte stream into
// commands, from the clients' source, and check that what the writers
// produce is split into the commands the server meant. The models are
// ours; the rules they encode:
//
//   - pidgin 2.4.3 (command.c msn_set_payload_len, servconn.c): a command
//     in its payload list, or any numeric (error) command, takes its last
//     parameter as the payload length when it is a number; NOT is not in
//     the list, and its own length is overwritten with 0.
//   - pidgin 2.10.1 (notification.c): each handler names the parameter
//     holding the length; ADL/RML/FQY errors read params[1] when present.
//   - MSNPSharp (NSMessagePool.cs): MSG IPG NOT UBX GCF UBM UBN UUN ADL RML
//     FQY 204 241 509 take the trailing digits of the line as the length.
//   - papyon (transport.py, command.py): GCF MSG UBN UBM UBX IPG NOT ADL RML
//     FQY 241 509, and any error with arguments after its trid, take the
//     last argument as the length.

type framed struct {
	name    string
	payload string
}

type framer func(line string) (name string, payloadLen int)

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

func atoiOr0(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0
	}
	return n
}

func pidgin243(line string) (string, int) {
	f := strings.Split(line, " ")
	switch f[0] {
	case "ADL", "GCF", "SG", "MSG", "RML", "UBX", "UBN", "UUM", "UBM", "FQY", "UUN", "UUX", "IPG":
	default:
		if !isDigits(f[0]) {
			return f[0], 0
		}
	}
	if len(f) > 1 && isDigits(f[len(f)-1]) {
		return f[0], atoiOr0(f[len(f)-1])
	}
	return f[0], 0
}

func pidgin2101(line string) (string, int) {
	f := strings.Split(line, " ")
	p := f[1:]
	arg := func(i int) int {
		if i < len(p) {
			return atoiOr0(p[i])
		}
		return 0
	}
	switch f[0] {
	case "ADL", "RML", "FQY", "UUX", "GCF":
		return f[0], arg(1)
	case "UBX":
		return f[0], arg(2)
	case "NOT":
		return f[0], arg(0)
	case "MSG":
		return f[0], arg(2)
	case "204", "241", "240", "208", "205":
		return f[0], arg(1) // adl_error/rml_error/fqy_error with param_count > 1
	}
	return f[0], 0
}

func msnpsharp(line string) (string, int) {
	f := strings.Split(line, " ")
	switch f[0] {
	case "MSG", "IPG", "NOT", "UBX", "GCF", "UBM", "UBN", "UUN", "ADL", "RML", "FQY", "204", "241", "509":
		i := len(line)
		for i > 0 && line[i-1] >= '0' && line[i-1] <= '9' {
			i--
		}
		return f[0], atoiOr0(line[i:])
	}
	return f[0], 0
}

func papyon(line string) (string, int) {
	f := strings.Fields(line)
	noTrID := map[string]bool{"QNG": true, "IPG": true, "NOT": true, "NLN": true, "FLN": true, "GCF": true, "QRY": true, "SBS": true, "UBN": true, "UBM": true, "UBX": true, "RNG": true, "JOI": true, "BYE": true, "MSG": true}
	args := f[1:]
	if !noTrID[f[0]] && len(args) > 0 {
		args = args[1:]
	}
	payloadCmd := map[string]bool{"GCF": true, "MSG": true, "UBN": true, "UBM": true, "UBX": true, "IPG": true, "NOT": true, "ADL": true, "RML": true, "FQY": true, "241": true, "509": true}
	if payloadCmd[f[0]] || isDigits(f[0]) && len(args) > 0 {
		if len(args) > 0 {
			return f[0], atoiOr0(args[len(args)-1])
		}
	}
	return f[0], 0
}

// split runs a client model over a stream.
func split(t *testing.T, fr framer, stream []byte) []framed {
	t.Helper()
	var out []framed
	for len(stream) > 0 {
		i := bytes.Index(stream, []byte("\r\n"))
		if i < 0 {
			t.Fatalf("stream ends inside a line: %q", stream)
		}
		line := string(stream[:i])
		stream = stream[i+2:]
		name, n := fr(line)
		if n > len(stream) {
			t.Fatalf("%q: payload of %d bytes, %d left", line, n, len(stream))
		}
		out = append(out, framed{name, string(stream[:n])})
		stream = stream[n:]
	}
	return out
}

// serverStream is a mix of what the NS writes, for version.
func serverStream(version int) ([]byte, []framed) {
	var b []byte
	var want []framed
	add := func(p []byte, name, payload string) {
		b = append(b, p...)
		want = append(want, framed{name, payload})
	}
	notPayload := `<NOTIFICATION id="0" siteid="45705"></NOTIFICATION>`
	if version == 13 || version == 14 {
		notPayload += "\r\n"
	}
	ubx := UBXPayload("hi", "", "", version)
	ml := `<ml><d n="example.com"><c n="bob" t="1" l="8" /></d></ml>`
	add(AppendErrorFor(nil, ErrADLInvalid, "6", version), "241", "")
	add(AppendLine(nil, "CHG", "7", "NLN", "1073741856"), "CHG", "")
	add(AppendErrorFor(nil, ErrInvalidNetwork, "8", version), "204", "")
	add(AppendErrorFor(nil, ErrAuthFailed, "12", version), "911", "")
	add(AppendNOT(nil, []byte(`<NOTIFICATION id="0" siteid="45705"></NOTIFICATION>`), version), "NOT", notPayload)
	add(AppendPayload(nil, "UBX", UBXArgs("bob@example.com", 1, version), ubx), "UBX", string(ubx))
	add(AppendPayload(nil, "ADL", []string{"0"}, []byte(ml)), "ADL", ml)
	add(AppendLine(nil, "ADL", "9", "OK"), "ADL", "")
	add(AppendLine(nil, "UUX", "10", "0"), "UUX", "")
	add(AppendErrorFor(nil, ErrSyntax, "11", version), "200", "")
	add(AppendPayload(nil, "GCF", []string{"0"}, GCFShields()), "GCF", string(GCFShields()))
	add(AppendLine(nil, "FLN", FLNArgs("bob@example.com", 1, version)...), "FLN", "")
	add(AppendLine(nil, "QNG", "60"), "QNG", "")
	return b, want
}

func TestClientsFrameWhatTheServerWrites(t *testing.T) {
	clients := []struct {
		name    string
		version int
		frame   framer
	}{
		{"pidgin 2.4.3 (MSNP13)", 13, pidgin243},
		{"pidgin 2.10.1 (MSNP15)", 15, pidgin2101},
		{"MSNPSharp (MSNP15)", 15, msnpsharp},
		{"papyon (MSNP15)", 15, papyon},
	}
	for _, c := range clients {
		t.Run(c.name+" splits the stream into the commands sent", func(t *testing.T) {
			stream, want := serverStream(c.version)
			if c.version == 13 {
				// pidgin 2.4.3 reads the NOT payload as a command line of
				// its own, an unknown command it ignores; the CR LF that
				// AppendNOT adds keeps it from swallowing what follows.
				for i, w := range want {
					if w.name == "NOT" {
						want = append(want[:i+1], append([]framed{{name: "<NOTIFICATION"}}, want[i+1:]...)...)
						want[i].payload = ""
						break
					}
				}
			}
			got := split(t, c.frame, stream)
			if len(got) != len(want) {
				t.Fatalf("%d commands, want %d: %q", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("command %d: %q, want %q", i, got[i], want[i])
				}
			}
		})
	}
	t.Run("plain error lines would desynchronise pidgin 2.4.3 and MSNPSharp", func(t *testing.T) {
		stream := append(AppendError(nil, ErrADLInvalid, "6"), "CHG 7 NLN 0\r\n"...)
		for name, fr := range map[string]framer{"pidgin 2.4.3": pidgin243, "MSNPSharp": msnpsharp} {
			if got := split(t, fr, stream); len(got) == 2 && got[1].name == "CHG" {
				t.Errorf("%s framed a plain 241 line correctly; the model or the reason for AppendErrorFor is wrong", name)
			}
		}
	})
}
