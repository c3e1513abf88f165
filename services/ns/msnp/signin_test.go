package msnp

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestNegotiateVersion(t *testing.T) {
	cases := []struct {
		name  string
		offer string
		want  int
	}{
		{"pidgin 2.4.3 offers 14 and 13 and gets 13", "MSNP14 MSNP13 CVR0", 13},
		{"pidgin 2.10.1 offers 16 and 15 and gets 15", "MSNP16 MSNP15 CVR0", 15},
		{"MSNPSharp offers 15", "MSNP15 CVR0", 15},
		{"the seed's WLM 8.0 offers 13", "MSNP13 CVR0", 13},
		{"a client offering both gets the highest", "MSNP13 MSNP15 CVR0", 15},
		{"pidgin 2.2.2 offers 9 and 8 and gets 9", "MSNP9 MSNP8 CVR0", 9},
		{"MSN Messenger 5.0 offers only 8", "MSNP8 CVR0", 8},
		{"MSN Messenger 7.5 offers 12 down to 8", "MSNP12 MSNP11 MSNP10 MSNP9 MSNP8 CVR0", 12},
		{"MSNP14 alone has no common version", "MSNP14 CVR0", 0},
		{"MSNP7 alone has no common version", "MSNP7 MSNP6 CVR0", 0},
		{"garbage versions are ignored", "MSNP MSNP013 MSNPx CVR0", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, ok := NegotiateVersion(strings.Fields(c.offer), Versions)
			if v != c.want || ok != (c.want != 0) {
				t.Fatalf("%d %v", v, ok)
			}
		})
	}
	t.Run("MSNP8-12 can be enabled by the caller", func(t *testing.T) {
		if v, _ := NegotiateVersion([]string{"MSNP9", "MSNP8", "CVR0"}, []int{15, 13, 12, 11, 10, 9, 8}); v != 9 {
			t.Fatal(v)
		}
	})
}

func TestTWNChallenge(t *testing.T) {
	c := NewTWNChallenge(1795315866)
	s := c.String()
	t.Run("it has every key pidgin 2.4.3 requires and ct for pidgin 2.2.2", func(t *testing.T) {
		keys := map[string]string{}
		for _, p := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || v == "" {
				t.Fatalf("bad pair %q in %q", p, s)
			}
			keys[k] = v
		}
		for _, k := range []string{"lc", "id", "tw", "ru", "ct", "kpp", "kv", "ver", "tpf"} {
			if keys[k] == "" {
				t.Errorf("no %s in %q", k, s)
			}
		}
		if keys["ct"] != "1795315866" {
			t.Errorf("ct %q", keys["ct"])
		}
	})
	t.Run("values are safe inside an XML body and an HTTP header", func(t *testing.T) {
		if strings.ContainsAny(s, " &<>\"'\r\n") {
			t.Fatalf("%q", s)
		}
	})
	t.Run("rn and tpf are fresh each time", func(t *testing.T) {
		d := NewTWNChallenge(1795315866)
		if d.RN == c.RN || d.TPF == c.TPF {
			t.Fatal("repeated nonce")
		}
	})
}

func TestSignInPayloads(t *testing.T) {
	t.Run("the GCF SHIELDS policy is the seed's, compact", func(t *testing.T) {
		p := string(GCFShields())
		if !strings.HasPrefix(p, `<Policies><Policy type="SHIELDS">`) || strings.Contains(p, "\n") {
			t.Fatal(p)
		}
		if err := xml.Unmarshal([]byte(p), new(struct{})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the profile writes the optional kv after sid and cuts header injection", func(t *testing.T) {
		f := DefaultProfile()
		f.KV = "11"
		f.MSPAuth = "t\r\nEvil: 1"
		p := string(ProfilePayload(f))
		if !strings.Contains(p, "sid: 507\r\nkv: 11\r\nMSPAuth: t\r\nClientIP") {
			t.Fatalf("%q", p)
		}
		if !strings.HasSuffix(p, "MPOPEnabled: 0\r\n\r\n") {
			t.Fatalf("%q", p)
		}
	})
	t.Run("the profile is the bytes pidgin 2.10.1 accepted, every field a header", func(t *testing.T) {
		// clients/captures/pidgin-2.10.1-login/ns.log: "MSG Hotmail Hotmail 392".
		f := DefaultProfile()
		f.LoginTime, f.MemberIDLow = 1700000000, 1
		f.MSPAuth, f.ClientIP, f.ClientPort = "fakeMSPAuth", "127.0.0.1", 50000
		want := "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\n" +
			"LoginTime: 1700000000\r\nEmailEnabled: 0\r\nMemberIdHigh: 0\r\nMemberIdLow: 1\r\n" +
			"lang_preference: 1033\r\npreferredEmail: \r\ncountry: \r\nPostalCode: \r\nGender: \r\n" +
			"Kid: 0\r\nAge: \r\nBDayPre: \r\nBirthday: \r\nWallet: \r\nFlags: 536872513\r\nsid: 507\r\n" +
			"MSPAuth: fakeMSPAuth\r\nClientIP: 127.0.0.1\r\nClientPort: 50000\r\n" +
			"ABCHMigrated: 1\r\nMPOPEnabled: 0\r\n\r\n"
		got := AppendPayload(nil, "MSG", HotmailArgs, ProfilePayload(f))
		if string(got) != "MSG Hotmail Hotmail 392\r\n"+want {
			t.Fatalf("%q", got)
		}
		headers, body, _ := strings.Cut(want, "\r\n\r\n")
		if body != "" || !strings.Contains(headers, "\r\nMSPAuth: fakeMSPAuth\r\n") {
			t.Fatal("MSPAuth is not a header")
		}
	})
	t.Run("ClientPort is byte-swapped as pidgin undoes it with ntohs", func(t *testing.T) {
		if SwapPort(1863) != 0x4707 || SwapPort(SwapPort(50000)) != 50000 {
			t.Fatal(SwapPort(1863))
		}
	})
	t.Run("mail data has the initial-mail content type", func(t *testing.T) {
		p := string(MailDataPayload("too-large"))
		if p != "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinitialmdatanotification; charset=UTF-8\r\n\r\nMail-Data: too-large\r\n" {
			t.Fatalf("%q", p)
		}
	})
	t.Run("URL answers the seed's services under the configured sites", func(t *testing.T) {
		u := URLs{Hotmail: "http://127.0.0.1:8080"}.WithDefaults()
		args, ok := u.Args("inbox", "")
		if !ok || strings.Join(args, " ") != "http://127.0.0.1:8080/cgi-bin/HoTMaiL https://login.live.com/ppsecure/md5auth.srf?lc=1033 2" {
			t.Fatalf("%q", args)
		}
		for _, s := range []string{"INBOX", "FOLDERS", "COMPOSE", "CHGMOB", "MOBILE", "ADDRBOOK", "ADVSEARCH", "INTSEARCH"} {
			if _, ok := u.Args(s, ""); !ok {
				t.Errorf("%s unknown", s)
			}
		}
		for _, s := range []string{"PROFILE", "PERSON", "CHAT"} {
			if args, ok := u.Args(s, "0x0409"); !ok || !strings.HasSuffix(args[0], "?lc=1033") {
				t.Errorf("%s 0x0409: %q %v", s, args, ok)
			}
			for _, bad := range []string{"", "1033", "0x", "0xZZ", "0x12345", "0x0"} {
				if _, ok := u.Args(s, bad); ok {
					t.Errorf("%s %q answered", s, bad)
				}
			}
		}
		if _, ok := u.Args("NOPE", ""); ok {
			t.Error("unknown service answered")
		}
	})
	t.Run("the CVR answer is the captured one", func(t *testing.T) {
		if got := strings.Join(DefaultCVR.Args(), " "); got != "8.5.1302 8.5.1302 8.5.1302 http://msgr.dlservice.microsoft.com http://messenger.msn.com" {
			t.Fatal(got)
		}
	})
}

func TestChallenges(t *testing.T) {
	t.Run("a challenge is 20 digits and fresh", func(t *testing.T) {
		a, b := NewChallenge(), NewChallenge()
		if len(a) != 20 || strings.Trim(a, "0123456789") != "" || a[0] == '0' || a == b {
			t.Fatal(a, b)
		}
	})
	t.Run("MSNP8-10 answers are MD5(challenge+key) for every known product", func(t *testing.T) {
		// pidgin 2.2.2 answers with PROD0038W!61ZTF9 / VT6PX?UQTM4WM%YR (NS_CLIENT_FACTS.md).
		ch := "29409134351025259292"
		for pid, key := range ProductKeysMD5 {
			ans := QRYHashMD5(ch, key)
			if ok, known := CheckQRYVersion(ch, pid, ans, 9); !ok || !known {
				t.Errorf("%s: %v %v", pid, ok, known)
			}
			if ok, _ := CheckQRYVersion(ch, pid, ans, 11); ok {
				t.Errorf("%s: MD5 answer accepted in MSNP11", pid)
			}
		}
		if got := QRYHashMD5("", ""); got != "d41d8cd98f00b204e9800998ecf8427e" {
			t.Fatal(got)
		}
	})
	t.Run("MSNP11+ uses ProductKeys", func(t *testing.T) {
		ch := NewChallenge()
		for pid, key := range ProductKeys {
			if ok, known := CheckQRYVersion(ch, pid, QRYHash(ch, pid, key), 15); !ok || !known {
				t.Errorf("%s", pid)
			}
		}
		if _, known := CheckQRYVersion(ch, "msmsgs@msnmsgr.com", "x", 15); known {
			t.Error("MD5 product known in MSNP15")
		}
	})
}

func TestVersionDependentLines(t *testing.T) {
	cases := []struct{ name, got, want string }{
		{"MSNP9 USR OK carries the friendly name", strings.Join(USROKArgs("a@b.com", "Al Ice", true, 9), " "), "OK a@b.com Al%20Ice 1 0"},
		{"MSNP13 USR OK as captured", strings.Join(USROKArgs("alice@example.com", "Alice", true, 13), " "), "OK alice@example.com 1 0"},
		{"an unverified account", strings.Join(USROKArgs("a@b.com", "", false, 15), " "), "OK a@b.com 0 0"},
		{"MSNP13 XFR NS ends in U D", strings.Join(XFRNSArgs("10.0.0.5:1863", "10.0.0.1:1863", 13), " "), "NS 10.0.0.5:1863 U D"},
		{"MSNP9 XFR NS names the current server", strings.Join(XFRNSArgs("10.0.0.5:1863", "10.0.0.1:1863", 9), " "), "NS 10.0.0.5:1863 0 10.0.0.1:1863"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Fatalf("%q, want %q", c.got, c.want)
			}
		})
	}
	t.Run("BLP takes AL or BL", func(t *testing.T) {
		if !ValidPrivacy("AL") || !ValidPrivacy("BL") || ValidPrivacy("al") || ValidPrivacy("") {
			t.Fatal()
		}
	})
}
