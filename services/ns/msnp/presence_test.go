package msnp

import (
	"errors"
	"strings"
	"testing"
)

func TestStatuses(t *testing.T) {
	for _, s := range []string{"NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN"} {
		if !ValidStatus(s) {
			t.Errorf("%s not settable", s)
		}
	}
	for _, s := range []string{"FLN", "nln", "", "XYZ", "NLN "} {
		if ValidStatus(s) {
			t.Errorf("%q settable", s)
		}
	}
	if Visible("HDN") || !Visible("AWY") || Visible("FLN") {
		t.Error("HDN must look offline, AWY online")
	}
}

func TestParseClientID(t *testing.T) {
	t.Run("the captured client ids parse", func(t *testing.T) {
		for _, s := range []string{"1073741856", "2416181284", "1074004004", "0"} {
			c, err := ParseClientID(s, 13)
			if err != nil || c.String() != s {
				t.Errorf("%s: %+v %v", s, c, err)
			}
		}
	})
	t.Run("the MSNC version is the top nibble", func(t *testing.T) {
		if v := MSNCVersion(2416181284); v != 9 {
			t.Errorf("WLM 8.5 client id: MSNC%d", v)
		}
		if v := MSNCVersion(1073741856); v != 4 {
			t.Errorf("pidgin 2.4.3 client id: MSNC%d", v)
		}
	})
	t.Run("MSNP16 extended capabilities", func(t *testing.T) {
		c, err := ParseClientID("2789003324:48", 16)
		if err != nil || c.Caps != 2789003324 || c.ExtCaps != 48 || c.String() != "2789003324:48" {
			t.Fatalf("%+v %v", c, err)
		}
	})
	for _, c := range []struct{ name, s string }{
		{"extended capabilities before MSNP16", "2789003324:48"},
		{"not a number", "abc"},
		{"over 32 bits", "4294967296"},
		{"signed", "+5"},
		{"empty", ""},
		{"empty extension", "5:"},
	} {
		t.Run(c.name+" is 201", func(t *testing.T) {
			_, err := ParseClientID(c.s, 15)
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidParameter {
				t.Fatalf("%v", err)
			}
		})
	}
}

const goodObj = `<msnobj Creator="alice@example.com" Size="24539" Type="3" Location="TFR2C.tmp" Friendly="AAA=" SHA1D="trC8SlFx2sWQxZMIBAWSEnXc8oQ=" SHA1C="U32o6bosZzluJq82eAtMpx5dIEI="/>`

func TestParseMSNObject(t *testing.T) {
	t.Run("pidgin's URL-encoded object parses and re-encodes the same", func(t *testing.T) {
		arg := URLEncodeName(goodObj)
		o, err := ParseMSNObject(arg)
		if err != nil {
			t.Fatal(err)
		}
		if o.Creator != "alice@example.com" || o.Size != 24539 || o.Type != 3 || o.Raw != goodObj || o.Arg() != arg {
			t.Fatalf("%+v", o)
		}
	})
	t.Run("SHA1C is optional, as pidgin treats it", func(t *testing.T) {
		s := strings.Replace(goodObj, ` SHA1C="U32o6bosZzluJq82eAtMpx5dIEI="`, "", 1)
		if _, err := ParseMSNObject(URLEncodeName(s)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a space before /> and WLM's extra attributes are accepted", func(t *testing.T) {
		s := strings.Replace(goodObj, `/>`, ` contenttype="D" contentid="x" stamp="" avatarid="x" partnerid="y" />`, 1)
		if _, err := ParseMSNObject(URLEncodeName(s)); err != nil {
			t.Fatal(err)
		}
	})
	bad := map[string]string{
		"not an msnobj":                    `<msnobjx Creator="a@b.c"/>`,
		"single quotes":                    strings.ReplaceAll(goodObj, `"`, `'`),
		"no Creator":                       strings.Replace(goodObj, `Creator="alice@example.com" `, "", 1),
		"a Creator that is no address":     strings.Replace(goodObj, "alice@example.com", "alice", 1),
		"Size 0":                           strings.Replace(goodObj, `Size="24539"`, `Size="0"`, 1),
		"no SHA1D":                         strings.Replace(goodObj, ` SHA1D="trC8SlFx2sWQxZMIBAWSEnXc8oQ="`, "", 1),
		"SHA1D not 20 bytes":               strings.Replace(goodObj, `trC8SlFx2sWQxZMIBAWSEnXc8oQ=`, `AAAA`, 1),
		"an unknown capitalised attribute": strings.Replace(goodObj, `/>`, ` Evil="1"/>`, 1),
		"a look-alike attribute first":     strings.Replace(goodObj, `<msnobj `, `<msnobj xCreator="eve@example.com" `, 1),
		"no Location without Url and Url1": strings.Replace(goodObj, ` Location="TFR2C.tmp"`, "", 1),
		"a duplicate attribute":            strings.Replace(goodObj, `/>`, ` Type="3"/>`, 1),
		"a quote-breaking value":           strings.Replace(goodObj, `TFR2C.tmp`, `a>b`, 1),
		"not closed":                       strings.TrimSuffix(goodObj, "/>"),
		"too long":                         strings.Replace(goodObj, `TFR2C.tmp`, strings.Repeat("x", 600), 1),
	}
	for name, s := range bad {
		t.Run(name+" is 201", func(t *testing.T) {
			_, err := ParseMSNObject(URLEncodeName(s))
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidParameter {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("a display picture by Url and Url1 instead of Location and Friendly", func(t *testing.T) {
		s := strings.Replace(goodObj, ` Location="TFR2C.tmp" Friendly="AAA="`, ` Url="http://x/a.png" Url1="http://x/b.png"`, 1)
		if _, err := ParseMSNObject(URLEncodeName(s)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("bad URL encoding is 201", func(t *testing.T) {
		if _, err := ParseMSNObject("%3Cmsnobj%zz"); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestFriendlyNames(t *testing.T) {
	t.Run("encoding matches purple_url_encode", func(t *testing.T) {
		cases := map[string]string{
			"Alice":             "Alice",
			"My Name":           "My%20Name",
			"a%b+c&d":           "a%25b%2Bc%26d",
			"Zoë ☃":             "Zo%C3%AB%20%E2%98%83",
			"x-y_z.w~":          "x-y_z.w~",
			"tab\there\r\nline": "tab%09here%0D%0Aline",
		}
		for in, want := range cases {
			if got := URLEncodeName(in); got != want {
				t.Errorf("%q: %q, want %q", in, got, want)
			}
		}
	})
	t.Run("decode inverts encode", func(t *testing.T) {
		for _, s := range []string{"Alice", "My Name", "Zoë ☃", "100% + more"} {
			if got, err := DecodeName(URLEncodeName(s)); err != nil || got != s {
				t.Errorf("%q: %q %v", s, got, err)
			}
		}
	})
	t.Run("raw UTF-8 and '+' pass through decoding", func(t *testing.T) {
		if got, err := DecodeName("Zoë+x"); err != nil || got != "Zoë+x" {
			t.Fatalf("%q %v", got, err)
		}
	})
	for name, arg := range map[string]string{
		"an empty name":              "",
		"a name over 387 bytes":      strings.Repeat("a", MaxFriendlyName+1),
		"a bad escape":               "a%zz",
		"a truncated escape":         "a%2",
		"invalid UTF-8 from escapes": "%FF%FE",
		"an escaped line break":      "a%0D%0Ab",
		"an escaped NUL":             "a%00b",
	} {
		t.Run(name+" is 209", func(t *testing.T) {
			_, err := DecodeName(arg)
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrInvalidFriendly {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("a 387-byte name is accepted", func(t *testing.T) {
		if _, err := DecodeName(strings.Repeat("é", MaxFriendlyName/2) + "a"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPresenceArgs(t *testing.T) {
	p := Presence{Status: "AWY", Email: "bob@example.com", Friendly: "Bob B", ClientID: ClientID{Caps: 1073741856}}
	cases := []struct{ name, got, want string }{
		{"MSNP13 NLN has the network id and msnobj 0 when there is none", strings.Join(p.NLNArgs(13), " "), "AWY bob@example.com 1 Bob%20B 1073741856 0"},
		{"MSNP15 ILN starts with the trid", strings.Join(p.ILNArgs("11", 15), " "), "11 AWY bob@example.com 1 Bob%20B 1073741856 0"},
		{"MSNP12 NLN has no network id and no placeholder", strings.Join(p.NLNArgs(12), " "), "AWY bob@example.com Bob%20B 1073741856"},
		{"FLN in MSNP13 is the address alone", strings.Join(FLNArgs("bob@example.com", 1, 13), " "), "bob@example.com"},
		{"FLN in MSNP15 adds the network id", strings.Join(FLNArgs("bob@example.com", 0, 15), " "), "bob@example.com 1"},
	}
	withObj := p
	withObj.MSNObj = goodObj
	cases = append(cases, struct{ name, got, want string }{"an MSNObject is URL-encoded last", strings.Join(withObj.NLNArgs(13), " "), "AWY bob@example.com 1 Bob%20B 1073741856 " + URLEncodeName(goodObj)})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Fatalf("%q\nwant %q", c.got, c.want)
			}
		})
	}
	t.Run("pidgin 2.10.1 counts 6 NLN parameters with an msnobj", func(t *testing.T) {
		if n := len(p.NLNArgs(15)); n != 6 {
			t.Fatalf("%d", n)
		}
	})
}
