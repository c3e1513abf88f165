package msnp

import (
	"errors"
	"strings"
	"testing"
)

func TestParseUUX(t *testing.T) {
	t.Run("pidgin 2.4.3 sends empty elements and media with literal \\0", func(t *testing.T) {
		u, err := ParseUUX([]byte(`<Data><PSM/><CurrentMedia>WMP\0Music\00\0{0} - {1}\0\0\0\0\0</CurrentMedia><MachineGuid/></Data>`))
		if err != nil {
			t.Fatal(err)
		}
		if !u.HasPSM || u.PSM != "" || u.CurrentMedia != `WMP\0Music\00\0{0} - {1}\0\0\0\0\0` || !u.HasMachineGuid || u.MachineGuid != "" {
			t.Fatalf("%+v", u)
		}
	})
	t.Run("MSNPSharp escapes the GUID's braces", func(t *testing.T) {
		u, err := ParseUUX([]byte(`<Data><PSM></PSM><CurrentMedia></CurrentMedia><MachineGuid>&#x7B;ec27d50e-a332-4680-9572-6fa4067c34d9&#x7D;</MachineGuid></Data>`))
		if err != nil || u.MachineGuid != "{ec27d50e-a332-4680-9572-6fa4067c34d9}" {
			t.Fatalf("%+v %v", u, err)
		}
	})
	t.Run("the PSM text is unescaped", func(t *testing.T) {
		u, err := ParseUUX([]byte(`<Data><PSM>fish &amp; chips &lt;3</PSM></Data>`))
		if err != nil || u.PSM != "fish & chips <3" || u.HasCurrentMedia || u.HasMachineGuid {
			t.Fatalf("%+v %v", u, err)
		}
	})
	t.Run("an empty payload is an empty UUX", func(t *testing.T) {
		if u, err := ParseUUX(nil); err != nil || u.HasPSM {
			t.Fatalf("%+v %v", u, err)
		}
	})
	t.Run("later clients' extra elements are ignored", func(t *testing.T) {
		u, err := ParseUUX([]byte(`<?xml version="1.0" encoding="utf-8"?><Data><PSM>hi</PSM><SignatureSound></SignatureSound><DDP></DDP></Data>`))
		if err != nil || u.PSM != "hi" {
			t.Fatalf("%+v %v", u, err)
		}
	})
	bad := map[string]string{
		"malformed XML":         `<Data><PSM>x</Data>`,
		"mismatched tags":       `<Data><PSM>x</CurrentMedia></Data>`,
		"another root":          `<Status><PSM>x</PSM></Status>`,
		"two roots":             `<Data></Data><Data></Data>`,
		"a nested element":      `<Data><PSM><b>x</b></PSM></Data>`,
		"a duplicate element":   `<Data><PSM>a</PSM><PSM>b</PSM></Data>`,
		"text in Data":          `<Data>x<PSM/></Data>`,
		"a control character":   "<Data><PSM>a&#x1;b</PSM></Data>",
		"invalid UTF-8":         "<Data><PSM>\xff</PSM></Data>",
		"a bad MachineGuid":     `<Data><MachineGuid>not-a-guid</MachineGuid></Data>`,
		"a comment":             `<Data><!-- x --></Data>`,
		"an overlong PSM":       `<Data><PSM>` + strings.Repeat("a", MaxPSM+1) + `</PSM></Data>`,
		"a payload over MaxUUX": `<Data><PSM>` + strings.Repeat("a", MaxUUX) + `</PSM></Data>`,
		"an unknown entity":     `<Data><PSM>&nbsp;</PSM></Data>`,
		"no element at all":     `   `,
	}
	for name, p := range bad {
		t.Run(name+" is 201", func(t *testing.T) {
			_, err := ParseUUX([]byte(p))
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidParameter {
				t.Fatalf("%v", err)
			}
		})
	}
}

func TestUBX(t *testing.T) {
	t.Run("the payload escapes text and carries the GUID from MSNP13", func(t *testing.T) {
		got := string(UBXPayload("a<b & c", `WMP\0Music`, "{44BFD5A4-7450-4BDA-BA3A-C51B3031126D}", 13))
		want := `<Data><PSM>a&lt;b &amp; c</PSM><CurrentMedia>WMP\0Music</CurrentMedia><MachineGuid>{44BFD5A4-7450-4BDA-BA3A-C51B3031126D}</MachineGuid></Data>`
		if got != want {
			t.Fatalf("%s", got)
		}
	})
	t.Run("a user without UUX gets empty PSM and media", func(t *testing.T) {
		if got := string(UBXPayload("", "", "", 15)); got != `<Data><PSM></PSM><CurrentMedia></CurrentMedia></Data>` {
			t.Fatalf("%s", got)
		}
	})
	t.Run("UBX payload parses back to the same values", func(t *testing.T) {
		u, err := ParseUUX(UBXPayload("ünï <code>", "x", "", 15))
		if err != nil || u.PSM != "ünï <code>" || u.CurrentMedia != "x" {
			t.Fatalf("%+v %v", u, err)
		}
	})
	t.Run("the network id is an argument from MSNP14", func(t *testing.T) {
		if a := strings.Join(UBXArgs("bob@example.com", 1, 13), " "); a != "bob@example.com" {
			t.Error(a)
		}
		if a := strings.Join(UBXArgs("bob@example.com", 0, 15), " "); a != "bob@example.com 1" {
			t.Error(a)
		}
	})
}
