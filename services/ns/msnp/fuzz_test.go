package msnp

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// documented lists the codes each function documents.
var documented = map[string]map[int]bool{
	"Read":     {ErrSyntax: true, ErrInvalidParameter: true},
	"ParseML":  {ErrADLEmpty: true, ErrADLInvalid: true, ErrInvalidNetwork: true},
	"ParseUUX": {ErrInvalidParameter: true},
}

func checkErr(t *testing.T, fn string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %T %v is not *Error", fn, err, err)
	}
	if !documented[fn][e.Code] {
		t.Fatalf("%s: undocumented code %d (%v)", fn, e.Code, err)
	}
}

// captureSeeds returns the client side of every capture, whole and per
// command, and the client payloads.
func captureSeeds(f *testing.F) (streams [][]byte, payloads map[string][][]byte) {
	payloads = map[string][][]byte{}
	files, _ := filepath.Glob("testdata/captures/*.log")
	for _, file := range files {
		entries := loadCapture(f, file)
		streams = append(streams, clientStream(entries))
		for _, e := range entries {
			if e.dir == 'C' && e.payload != nil {
				name := strings.Fields(e.line)[0]
				payloads[name] = append(payloads[name], e.payload)
			}
		}
	}
	return streams, payloads
}

func FuzzReader(f *testing.F) {
	streams, _ := captureSeeds(f)
	for _, s := range streams {
		f.Add(s)
	}
	f.Add([]byte("ADL 6 5\r\n\xff\xfe<ml/CHG 8 NLN\r\n"))
	f.Add([]byte("adl 1 0\r\n\r\nPNG\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), Limits{MaxLine: 512, MaxPayload: 1024})
		for i := 0; i < 10000; i++ {
			cmd, err := r.Read()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return
				}
				checkErr(t, "Read", err)
				if err.(*Error).Fatal {
					return
				}
				continue
			}
			if !validName(cmd.Name) || (hasTrID(cmd.Name) && len(cmd.Args) > 0 && !ValidTrID(cmd.Args[0])) {
				t.Fatalf("accepted %q %q", cmd.Name, cmd.Args)
			}
			// What was read writes back to something that reads the same.
			again, err := NewReader(bytes.NewReader(cmd.Append(nil)), Limits{MaxLine: 512, MaxPayload: 1024}).Read()
			if err != nil {
				t.Fatalf("%q re-read: %v", cmd.Append(nil), err)
			}
			if again.Name != cmd.Name || strings.Join(again.Args, " ") != strings.Join(cmd.Args, " ") || !bytes.Equal(again.Payload, cmd.Payload) {
				t.Fatalf("round trip %q → %q", cmd.Append(nil), again.Append(nil))
			}
		}
	})
}

func FuzzParseML(f *testing.F) {
	_, payloads := captureSeeds(f)
	for _, name := range []string{"ADL", "RML", "FQY"} {
		for _, p := range payloads[name] {
			f.Add(p, uint8(MLAdd))
			f.Add(p, uint8(MLQuery))
		}
	}
	f.Add([]byte(`<ml l="1"><d n="hotmail.com"><c n="a" l="3" t="1" /></d><t><c n="tel:+15551111222" l="3" /></t></ml>`), uint8(MLAdd))
	f.Add([]byte(`<ml><d n="example.com"><c n="xuser" t="1" l="8" f="X%20Y" /></d></ml>`), uint8(MLServer))
	f.Fuzz(func(t *testing.T, p []byte, kind uint8) {
		k := MLKind(kind % 4)
		ml, err := ParseMLKind(p, k)
		if err != nil {
			checkErr(t, "ParseML", err)
			return
		}
		out := ml.Append(nil)
		back, err := ParseMLKind(out, k)
		if err != nil {
			t.Fatalf("%q parsed, its re-encoding %q does not: %v", p, out, err)
		}
		if !bytes.Equal(back.Append(nil), out) {
			t.Fatalf("round trip %q → %q", out, back.Append(nil))
		}
	})
}

func FuzzParseUUX(f *testing.F) {
	_, payloads := captureSeeds(f)
	for _, p := range payloads["UUX"] {
		f.Add(p)
	}
	f.Add([]byte(`<Data><PSM>fish &amp; chips</PSM><CurrentMedia/><MachineGuid>{44BFD5A4-7450-4BDA-BA3A-C51B3031126D}</MachineGuid></Data>`))
	f.Fuzz(func(t *testing.T, p []byte) {
		u, err := ParseUUX(p)
		if err != nil {
			checkErr(t, "ParseUUX", err)
			return
		}
		out := UBXPayload(u.PSM, u.CurrentMedia, u.MachineGuid, 15)
		back, err := ParseUUX(out)
		if err != nil {
			t.Fatalf("%q parsed, its UBX %q does not: %v", p, out, err)
		}
		if back.PSM != u.PSM || back.CurrentMedia != u.CurrentMedia || back.MachineGuid != u.MachineGuid {
			t.Fatalf("round trip %+v → %+v", u, back)
		}
	})
}

// TestFuzzCorpusIsSmall keeps checked-in crashers few and small.
func TestFuzzCorpusIsSmall(t *testing.T) {
	total := 0
	_ = filepath.Walk("testdata/fuzz", func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			total += int(info.Size())
		}
		return nil
	})
	if total > 64<<10 {
		t.Fatalf("testdata/fuzz holds %d bytes", total)
	}
}

func FuzzParseMSNObject(f *testing.F) {
	f.Add(URLEncodeName(goodObj))
	f.Add("%3Cmsnobj%20Creator%3D%22a%40b.c%22/%3E")
	f.Add("0")
	f.Fuzz(func(t *testing.T, arg string) {
		o, err := ParseMSNObject(arg)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidParameter {
				t.Fatalf("%v", err)
			}
			return
		}
		if strings.ContainsAny(o.Arg(), " \r\n\t") {
			t.Fatalf("argument %q has a separator", o.Arg())
		}
		back, err := ParseMSNObject(o.Arg())
		if err != nil || back != o {
			t.Fatalf("round trip %+v → %+v %v", o, back, err)
		}
	})
}

func FuzzDecodeName(f *testing.F) {
	for _, s := range []string{"Alice", "My%20Name", "Zo%C3%AB", "a%zz", "%FF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		name, err := DecodeName(arg)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidFriendly {
				t.Fatalf("%v", err)
			}
			return
		}
		enc := URLEncodeName(name)
		for i := 0; i < len(enc); i++ {
			if !unreserved(enc[i]) && enc[i] != '%' {
				t.Fatalf("encoding %q has %q", enc, enc[i])
			}
		}
		if back, err := DecodeName(enc); err != nil || back != name {
			t.Fatalf("round trip %q → %q %v", name, back, err)
		}
	})
}
