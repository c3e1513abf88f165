package msnp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The captures in testdata/captures are the NS dialogues of real clients
// (clients/captures/*/ns.log in the shared reference): "C:" lines are the
// client's, "C>" the payload of the preceding client command, "S:" the
// server's (a stand-in's that the client accepted; MSG payload lines follow
// their MSG line, the log leaves out empty lines).

type capEntry struct {
	dir          byte   // 'C' or 'S'
	line         string // command line without CR LF
	payload      []byte // client payload
	payloadLines []string
}

var serverCommandRE = regexp.MustCompile(`^([A-Z]{3}|[0-9]{3})( |$)`)

func captureFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/captures/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	return files
}

func loadCapture(t testing.TB, path string) []capEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []capEntry
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "C: "):
			out = append(out, capEntry{dir: 'C', line: l[3:]})
		case strings.HasPrefix(l, "C> "):
			out[len(out)-1].payload = []byte(l[3:])
		case strings.HasPrefix(l, "S: "):
			if serverCommandRE.MatchString(l[3:]) {
				out = append(out, capEntry{dir: 'S', line: l[3:]})
			} else {
				last := &out[len(out)-1]
				last.payloadLines = append(last.payloadLines, l[3:])
			}
		}
	}
	return out
}

// clientStream is the client's side of a capture as it was on the wire.
func clientStream(entries []capEntry) []byte {
	var b []byte
	for _, e := range entries {
		if e.dir == 'C' {
			b = append(b, e.line...)
			b = append(b, '\r', '\n')
			b = append(b, e.payload...)
		}
	}
	return b
}

func TestCaptureClientLinesParse(t *testing.T) {
	for _, f := range captureFiles(t) {
		entries := loadCapture(t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := NewReader(bytes.NewReader(clientStream(entries)), DefaultLimits)
			challenge := ""
			for _, e := range entries {
				if e.dir == 'S' {
					if f := strings.Fields(e.line); f[0] == "CHL" {
						challenge = f[2]
					}
					continue
				}
				cmd, err := r.Read()
				if err != nil {
					t.Fatalf("%q: %v", e.line, err)
				}
				fields := strings.Split(e.line, " ")
				wantArgs := fields[1:]
				if _, ok := PayloadCommand(fields[0]); ok {
					n, _ := strconv.Atoi(fields[len(fields)-1])
					if n != len(e.payload) {
						t.Fatalf("%q: capture payload is %d bytes", e.line, len(e.payload))
					}
					wantArgs = fields[1 : len(fields)-1]
					if !bytes.Equal(cmd.Payload, e.payload) {
						t.Errorf("%q: payload %q, want %q", e.line, cmd.Payload, e.payload)
					}
				} else if cmd.Payload != nil {
					t.Errorf("%q: payload %q on a non-payload command", e.line, cmd.Payload)
				}
				if cmd.Name != fields[0] || strings.Join(cmd.Args, " ") != strings.Join(wantArgs, " ") {
					t.Errorf("%q parsed as %s %q", e.line, cmd.Name, cmd.Args)
				}
				if got := string(cmd.Append(nil)); got != e.line+"\r\n"+string(e.payload) {
					t.Errorf("%q re-encodes as %q", e.line, got)
				}
				checkClientCommand(t, cmd, challenge)
			}
			if _, err := r.Read(); !errors.Is(err, io.EOF) {
				t.Errorf("after the last command: %v, want io.EOF", err)
			}
		})
	}
}

// checkClientCommand runs the parser each captured command goes through.
func checkClientCommand(t *testing.T, cmd Command, challenge string) {
	t.Helper()
	switch cmd.Name {
	case "PNG", "OUT":
		if cmd.TrID() != "" {
			t.Errorf("%s has trid %q", cmd.Name, cmd.TrID())
		}
		return
	}
	if !ValidTrID(cmd.TrID()) {
		t.Errorf("%s: bad trid %q", cmd.Name, cmd.TrID())
	}
	var err error
	switch cmd.Name {
	case "VER":
		if _, ok := NegotiateVersion(cmd.Args[1:], Versions); !ok {
			t.Errorf("VER %q: no common version", cmd.Args)
		}
	case "ADL", "RML":
		_, err = ParseML(cmd.Payload)
	case "FQY":
		_, err = ParseMLKind(cmd.Payload, MLQuery)
	case "UUX":
		_, err = ParseUUX(cmd.Payload)
	case "PRP":
		if cmd.Arg(1) != "MFN" {
			t.Errorf("PRP %q", cmd.Args)
		}
		_, err = DecodeName(cmd.Arg(2))
	case "CHG":
		if !ValidStatus(cmd.Arg(1)) {
			t.Errorf("CHG status %q", cmd.Arg(1))
		}
		_, err = ParseClientID(cmd.Arg(2), 15)
	case "QRY":
		if ok, known := CheckQRY(challenge, cmd.Arg(1), string(cmd.Payload)); !ok || !known {
			t.Errorf("QRY %q to %q: ok %v known %v", cmd.Args, challenge, ok, known)
		}
	}
	if err != nil {
		t.Errorf("%s %q %q: %v", cmd.Name, cmd.Args, cmd.Payload, err)
	}
}

// TestCaptureServerLinesReproduce writes every deterministic server line
// of the captures with the package's writers and compares the bytes.
func TestCaptureServerLinesReproduce(t *testing.T) {
	for _, f := range captureFiles(t) {
		entries := loadCapture(t, f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			var last Command // the client command the server line answers
			for _, e := range entries {
				if e.dir == 'C' {
					c, err := NewReader(strings.NewReader(e.line+"\r\n"+string(e.payload)), DefaultLimits).Read()
					if err != nil {
						t.Fatal(err)
					}
					last = c
					continue
				}
				fields := strings.Split(e.line, " ")
				var got []byte
				switch fields[0] {
				case "VER":
					v, _ := NegotiateVersion(last.Args[1:], Versions)
					got = AppendLine(nil, "VER", last.TrID(), VersionName(v))
				case "CVR":
					got = AppendLine(nil, "CVR", append([]string{last.TrID()}, DefaultCVR.Args()...)...)
				case "USR":
					got = reproduceUSR(t, last, fields)
				case "SBS":
					got = AppendLine(nil, "SBS", "0", "null")
				case "MSG":
					checkHotmailMSG(t, e)
					continue
				case "BLP", "PRP", "CHG":
					got = AppendLine(nil, last.Name, last.Args...)
				case "ADL", "RML":
					got = AppendLine(nil, last.Name, last.TrID(), "OK")
				case "UUX":
					got = AppendLine(nil, "UUX", last.TrID(), "0")
				case "QRY":
					got = AppendLine(nil, "QRY", last.TrID())
				case "QNG":
					got = AppendLine(nil, "QNG", "60")
				case "CHL":
					if ch := fields[2]; len(ch) != len(NewChallenge()) || strings.Trim(ch, "0123456789") != "" {
						t.Errorf("captured challenge %q has another shape than NewChallenge", ch)
					}
					got = AppendLine(nil, "CHL", "0", fields[2])
				case "FQY":
					q, err := ParseMLKind(last.Payload, MLQuery)
					if err != nil {
						t.Fatal(err)
					}
					got = AppendPayload(nil, "FQY", []string{last.TrID()}, FQYAnswer(q, nil))
					want := e.line + "\r\n" + strings.Join(e.payloadLines, "\r\n")
					if string(got) != want {
						t.Errorf("FQY answer %q, want %q", got, want)
					}
					continue
				default:
					t.Fatalf("server line %q not covered", e.line)
				}
				if string(got) != e.line+"\r\n" {
					t.Errorf("wrote %q, captured %q", got, e.line)
				}
			}
		})
	}
}

func reproduceUSR(t *testing.T, last Command, fields []string) []byte {
	t.Helper()
	switch {
	case fields[2] == "OK":
		return AppendLine(nil, "USR", last.TrID(), "OK", fields[3], "1", "0")
	case fields[2] == "TWN" && fields[3] == "S":
		kv := map[string]string{}
		for _, p := range strings.Split(fields[4], ",") {
			k, v, _ := strings.Cut(p, "=")
			kv[k] = v
		}
		ct, _ := strconv.ParseInt(kv["ct"], 10, 64)
		c := NewTWNChallenge(ct)
		fresh := c.String()
		for _, k := range []string{"lc", "id", "tw", "ru", "ct", "kpp", "kv", "ver", "tpf"} {
			if !strings.Contains(","+fresh, ","+k+"=") {
				t.Errorf("challenge %q lacks %s (pidgin 2.4.3 refuses it)", fresh, k)
			}
		}
		if len(c.TPF) != len(kv["tpf"]) || len(c.RN) != len(kv["rn"]) {
			t.Errorf("fresh rn/tpf %q/%q have another shape than %q/%q", c.RN, c.TPF, kv["rn"], kv["tpf"])
		}
		c.RN, c.TPF = kv["rn"], kv["tpf"]
		return AppendLine(nil, "USR", last.TrID(), "TWN", "S", c.String())
	case fields[2] == "SSO" && fields[3] == "S":
		if fields[4] != SSOPolicy {
			t.Errorf("policy %q", fields[4])
		}
		for _, n := range []string{fields[5], NewSSONonce()} {
			if b, err := base64.StdEncoding.DecodeString(n); err != nil || len(b) != 48 {
				t.Errorf("nonce %q: %d bytes, %v", n, len(b), err)
			}
		}
		return AppendLine(nil, "USR", last.TrID(), "SSO", "S", SSOPolicy, fields[5])
	}
	t.Fatalf("USR line %q not covered", strings.Join(fields, " "))
	return nil
}

// checkHotmailMSG rebuilds a captured profile or mail-data message from
// its header values and compares length and lines.
func checkHotmailMSG(t *testing.T, e capEntry) {
	t.Helper()
	fields := strings.Split(e.line, " ")
	h := map[string]string{}
	for _, l := range e.payloadLines {
		k, v, _ := strings.Cut(l, ": ")
		h[k] = v
	}
	var p []byte
	switch ct := h["Content-Type"]; ct {
	case "text/x-msmsgsprofile; charset=UTF-8":
		num := func(k string) int64 {
			n, err := strconv.ParseInt(h[k], 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			return n
		}
		f := DefaultProfile()
		f.LoginTime = num("LoginTime")
		f.EmailEnabled = h["EmailEnabled"] == "1"
		f.MemberIDHigh, f.MemberIDLow = uint32(num("MemberIdHigh")), uint32(num("MemberIdLow"))
		f.MSPAuth, f.ClientIP, f.ClientPort = h["MSPAuth"], h["ClientIP"], uint16(num("ClientPort"))
		p = ProfilePayload(f)
	case "text/x-msmsgsinitialmdatanotification; charset=UTF-8":
		p = MailDataPayload(h["Mail-Data"])
	default:
		t.Fatalf("MSG content type %q not covered", ct)
	}
	got := AppendPayload(nil, "MSG", HotmailArgs, p)
	line, body, _ := strings.Cut(string(got), "\r\n")
	if line != e.line {
		t.Errorf("MSG line %q, captured %q (length %s)", line, e.line, fields[3])
	}
	var lines []string
	for _, l := range strings.Split(body, "\r\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if strings.Join(lines, "\n") != strings.Join(e.payloadLines, "\n") {
		t.Errorf("MSG payload lines\n%s\ncaptured\n%s", strings.Join(lines, "\n"), strings.Join(e.payloadLines, "\n"))
	}
	if h["Content-Type"] != "text/x-msmsgsprofile; charset=UTF-8" {
		return
	}
	// The log drops empty lines, and the declared length has room for one:
	// pidgin (msg.c) reads the headers up to the first empty line, and it
	// found the captured MSPAuth there (it sent it back as its AB cookie),
	// so every logged line is a header and the empty line comes last.
	if want := strings.Join(e.payloadLines, "\r\n") + "\r\n\r\n"; string(p) != want {
		t.Errorf("profile payload\n%q\ncaptured\n%q", p, want)
	}
}
