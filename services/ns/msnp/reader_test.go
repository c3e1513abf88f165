package msnp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// read returns every command and the error that ended the stream.
func readAll(in string, l Limits) ([]Command, []error) {
	r := NewReader(strings.NewReader(in), l)
	var cmds []Command
	var errs []error
	for {
		c, err := r.Read()
		if err != nil {
			errs = append(errs, err)
			var e *Error
			if errors.As(err, &e) && !e.Fatal {
				continue
			}
			return cmds, errs
		}
		cmds = append(cmds, c)
	}
}

func wantError(t *testing.T, err error, code int, trid string, fatal bool) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want *Error %d", err, code)
	}
	if e.Code != code || e.TrID != trid || e.Fatal != fatal {
		t.Fatalf("error %+v, want code %d trid %q fatal %v", e, code, trid, fatal)
	}
}

func TestReaderFraming(t *testing.T) {
	t.Run("CRLF and bare LF both end a line", func(t *testing.T) {
		cmds, errs := readAll("VER 1 MSNP13 CVR0\r\nCVR 2 0x0409 winnt\nPNG\r\n", DefaultLimits)
		if len(cmds) != 3 || !errors.Is(errs[0], io.EOF) {
			t.Fatalf("%q %v", cmds, errs)
		}
		if cmds[1].Name != "CVR" || strings.Join(cmds[1].Args, "|") != "2|0x0409|winnt" || cmds[2].Name != "PNG" || cmds[2].TrID() != "" {
			t.Fatalf("%q", cmds)
		}
	})
	t.Run("a trailing space and double spaces add no empty arguments", func(t *testing.T) {
		cmds, _ := readAll("PRP 7 MFN  Alice \r\n", DefaultLimits)
		if len(cmds) != 1 || strings.Join(cmds[0].Args, "|") != "7|MFN|Alice" {
			t.Fatalf("%q", cmds)
		}
	})
	t.Run("payload commands consume their length and payload", func(t *testing.T) {
		cmds, _ := readAll("ADL 6 17\r\n<ml l=\"1\"></ml>\r\nUUX 7 0\r\nQRY 8 PROD01065C%ZFN6F 3\r\nabcOUT\r\n", DefaultLimits)
		if len(cmds) != 4 {
			t.Fatalf("%q", cmds)
		}
		if string(cmds[0].Payload) != "<ml l=\"1\"></ml>\r\n" || len(cmds[0].Args) != 1 {
			t.Errorf("ADL %q %q", cmds[0].Args, cmds[0].Payload)
		}
		if cmds[1].Payload == nil || len(cmds[1].Payload) != 0 {
			t.Errorf("UUX with length 0 has payload %#v, want empty non-nil", cmds[1].Payload)
		}
		if cmds[2].Arg(1) != "PROD01065C%ZFN6F" || string(cmds[2].Payload) != "abc" || cmds[3].Name != "OUT" {
			t.Errorf("%q", cmds[2:])
		}
	})
	t.Run("the end of the stream inside a payload is unexpected EOF", func(t *testing.T) {
		_, errs := readAll("ADL 6 88\r\n<ml l='1'>", DefaultLimits)
		if !errors.Is(errs[len(errs)-1], io.ErrUnexpectedEOF) {
			t.Fatal(errs)
		}
	})
	t.Run("the end of the stream inside a line is unexpected EOF", func(t *testing.T) {
		_, errs := readAll("CHG 8 NLN", DefaultLimits)
		if !errors.Is(errs[0], io.ErrUnexpectedEOF) {
			t.Fatal(errs)
		}
	})
}

func TestReaderBadInput(t *testing.T) {
	small := Limits{MaxLine: 32, MaxPayload: 64}
	cases := []struct {
		name  string
		in    string
		code  int
		trid  string
		fatal bool
		next  string // the command read after a non-fatal error
	}{
		{"an overlong line is a fatal syntax error", "CHG 8 " + strings.Repeat("N", 40) + "\r\n", ErrSyntax, "", true, ""},
		{"an overlong line beyond the buffer is fatal too", strings.Repeat("A", 10000), ErrSyntax, "", true, ""},
		{"a line of exactly MaxLine bytes is accepted", "PRP 7 MFN " + strings.Repeat("a", 22) + "\r\nPNG\r\n", 0, "", false, "PNG"},
		{"a non-numeric payload length is fatal", "ADL 6 x1\r\n<ml/>", ErrSyntax, "6", true, ""},
		{"a negative payload length is fatal", "ADL 6 -1\r\n", ErrSyntax, "6", true, ""},
		{"a payload over MaxPayload is fatal with 201", "ADL 6 65\r\n" + strings.Repeat("x", 65), ErrInvalidParameter, "6", true, ""},
		{"a payload command without length is a syntax error", "ADL 6\r\nPNG\r\n", ErrSyntax, "6", false, "PNG"},
		{"a lower-case command name is a syntax error", "chg 8 NLN\r\nPNG\r\n", ErrSyntax, "8", false, "PNG"},
		{"a four-letter command name is a syntax error", "CHGX 8 NLN\r\nPNG\r\n", ErrSyntax, "8", false, "PNG"},
		{"a non-numeric trid is a syntax error without trid", "CHG x NLN\r\nPNG\r\n", ErrSyntax, "", false, "PNG"},
		{"a trid over 32 bits is a syntax error", "CHG 4294967296 NLN\r\nPNG\r\n", ErrSyntax, "", false, "PNG"},
		{"an empty line is a syntax error", "\r\nPNG\r\n", ErrSyntax, "", false, "PNG"},
		{"a stray CR inside a line is 201", "CHG 8 N\rLN\r\nPNG\r\n", ErrInvalidParameter, "8", false, "PNG"},
		{"a NUL in a line is 201", "PRP 7 MFN a\x00b\r\nPNG\r\n", ErrInvalidParameter, "7", false, "PNG"},
		{"a TAB in a line is 201", "PRP 7 MFN a\tb\r\nPNG\r\n", ErrInvalidParameter, "7", false, "PNG"},
		{"invalid UTF-8 in a line is 201", "PRP 7 MFN \xff\xfe\r\nPNG\r\n", ErrInvalidParameter, "7", false, "PNG"},
		{"invalid UTF-8 in a payload is 201 and the stream stays in sync", "UUX 9 4\r\n\xff\xfe\xfd\xfcPNG\r\n", ErrInvalidParameter, "9", false, "PNG"},
		{"a bad name on a payload command still skips its payload", "adl 6 3\r\nabcPNG\r\n", ErrSyntax, "6", false, "PNG"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(c.in), small)
			cmd, err := r.Read()
			if c.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if next, err := r.Read(); err != nil || next.Name != c.next {
					t.Fatalf("next %v %v", next, err)
				}
				_ = cmd
				return
			}
			wantError(t, err, c.code, c.trid, c.fatal)
			if c.next != "" {
				next, err := r.Read()
				if err != nil || next.Name != c.next {
					t.Fatalf("after the error: %v %v, want %s", next, err, c.next)
				}
			}
		})
	}
}

func TestReaderDefaultLimits(t *testing.T) {
	t.Run("zero limits take the defaults", func(t *testing.T) {
		line := "USR 4 SSO S t=" + strings.Repeat("T", 6000) + " x\r\n"
		if _, err := NewReader(strings.NewReader(line), Limits{}).Read(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a 60 KB ADL payload fits", func(t *testing.T) {
		p := bytes.Repeat([]byte("x"), 60000)
		in := append([]byte("ADL 6 60000\r\n"), p...)
		c, err := NewReader(bytes.NewReader(in), DefaultLimits).Read()
		if err != nil || len(c.Payload) != 60000 {
			t.Fatal(err)
		}
	})
}

func TestReaderLongLines(t *testing.T) {
	l := Limits{MaxLine: 3000, MaxPayload: 10}
	line := func(n int) string { return "USR 4 SSO S " + strings.Repeat("t", n-len("USR 4 SSO S ")) }
	t.Run("a line of MaxLine bytes beyond the read buffer is assembled", func(t *testing.T) {
		r := NewReader(strings.NewReader(line(3000)+"\r\n"+line(2000)+"\nPNG\r\n"), l)
		for _, want := range []int{3000, 2000} {
			c, err := r.Read()
			if err != nil || len(strings.Join(append([]string{c.Name}, c.Args...), " ")) != want {
				t.Fatalf("%v %d", err, want)
			}
		}
		if c, err := r.Read(); err != nil || c.Name != "PNG" {
			t.Fatal(c, err)
		}
	})
	t.Run("one byte more is fatal", func(t *testing.T) {
		_, err := NewReader(strings.NewReader(line(3001)+"\r\n"), l).Read()
		wantError(t, err, ErrSyntax, "", true)
	})
	t.Run("an endless line is cut off at the limit", func(t *testing.T) {
		_, err := NewReader(io.MultiReader(strings.NewReader("USR "), endless{}), l).Read()
		wantError(t, err, ErrSyntax, "", true)
	})
	t.Run("the end of the stream inside a long line is unexpected EOF", func(t *testing.T) {
		if _, err := NewReader(strings.NewReader(line(2500)), l).Read(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatal(err)
		}
	})
}

// endless is a stream of 'x' that never ends a line.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestWriters(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"a line joins arguments with spaces", string(AppendLine(nil, "USR", "4", "OK", "a@b.c", "1", "0")), "USR 4 OK a@b.c 1 0\r\n"},
		{"a line without arguments", string(AppendLine(nil, "QNG")), "QNG\r\n"},
		{"a payload carries its byte length", string(AppendPayload(nil, "UBX", []string{"bob@example.com", "1"}, []byte("<Data>é</Data>"))), "UBX bob@example.com 1 15\r\n<Data>é</Data>"},
		{"NOT has only the length", string(AppendPayload(nil, "NOT", nil, []byte("abc"))), "NOT 3\r\nabc"},
		{"an error line", string(AppendError(nil, 911, "4")), "911 4\r\n"},
		{"an MSNP13 error line ends in 0 for pidgin 2.4.3", string(AppendErrorFor(nil, 241, "6", 13)), "241 6 0\r\n"},
		{"an MSNP15 ADL error ends in 0 for MSNPSharp and papyon", string(AppendErrorFor(nil, 241, "6", 15)), "241 6 0\r\n"},
		{"an MSNP15 network error ends in 0", string(AppendErrorFor(nil, 204, "6", 15)), "204 6 0\r\n"},
		{"an MSNP15 authentication error is plain", string(AppendErrorFor(nil, 911, "4", 15)), "911 4\r\n"},
		{"an MSNP9 error is plain", string(AppendErrorFor(nil, 241, "4", 9)), "241 4\r\n"},
		{"an MSNP13 authentication error ends in 0", string(AppendErrorFor(nil, 911, "4", 13)), "911 4 0\r\n"},
		{"an error with payload", string(AppendErrorPayload(nil, 241, "6", []byte("<ml/>"))), "241 6 5\r\n<ml/>"},
		{"Error.LineFor uses the version", string((&Error{Code: 200, TrID: "3"}).LineFor(14)), "200 3 0\r\n"},
		{"an MSNP13 NOT payload ends in CRLF for pidgin 2.4.3", string(AppendNOT(nil, []byte("<NOTIFICATION/>"), 13)), "NOT 17\r\n<NOTIFICATION/>\r\n"},
		{"an MSNP13 NOT payload already ending in CRLF is kept", string(AppendNOT(nil, []byte("<N/>\r\n"), 13)), "NOT 6\r\n<N/>\r\n"},
		{"an MSNP15 NOT payload is sent as is", string(AppendNOT(nil, []byte("<NOTIFICATION/>"), 15)), "NOT 15\r\n<NOTIFICATION/>"},
		{"an error without trid has no line", string((&Error{Code: 200}).Line()), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Fatalf("%q, want %q", c.got, c.want)
			}
		})
	}
}

func TestRemoved(t *testing.T) {
	for _, name := range []string{"ADC", "ADG", "REG", "REM", "RMG", "GTC", "SYN", "SBP"} {
		if !Removed(name, 13) || !Removed(name, 15) || Removed(name, 12) {
			t.Errorf("%s: Removed(13)=%v Removed(15)=%v Removed(12)=%v", name, Removed(name, 13), Removed(name, 15), Removed(name, 12))
		}
	}
	for _, name := range []string{"ADL", "BLP", "CHG", "PRP"} {
		if Removed(name, 13) {
			t.Errorf("%s removed in MSNP13", name)
		}
	}
}
