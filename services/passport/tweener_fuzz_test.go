package passport

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParsePassport14: the login2.srf Authorization parser never panics,
// and what it accepts survives a round trip: the sign-in name and password
// it returned, URL-encoded as pidgin encodes them into a fresh header, come
// back unchanged.
func FuzzParsePassport14(f *testing.F) {
	f.Add("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=alice%40example.com,pwd=p%2Ca%20ss,lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764629,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619")
	f.Add("Passport1.4 sign-in=a,pwd=")
	f.Add("passport1.4 SIGN-IN=a%zz,pwd=b")
	f.Add("Basic abc")
	f.Fuzz(func(t *testing.T, header string) {
		user, pwd, ok := parsePassport14(header)
		if !ok {
			return
		}
		if user == "" {
			t.Fatalf("accepted an empty sign-in name from %q", header)
		}
		enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
		again := "Passport1.4 OrgVerb=GET,sign-in=" + enc(user) + ",pwd=" + enc(pwd)
		if len(again) > maxAuthorization {
			return
		}
		u2, p2, ok2 := parsePassport14(again)
		if !ok2 || u2 != user || p2 != pwd {
			t.Fatalf("round trip of %q/%q gave %q/%q (%v)", user, pwd, u2, p2, ok2)
		}
	})
}
