package auth

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// FuzzTicketParse: the ticket parser never panics and fails only with its
// three documented errors; any issued ticket parses back to its claims in
// every form clients present it ("t=X&p=Y", "X", "t=X"); a ticket with any
// one bit changed is refused.
func FuzzTicketParse(f *testing.F) {
	k := NewTicketer([]byte("fuzz secret"), time.Hour)
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	k.Now = func() time.Time { return now }
	f.Add(k.Issue(42, 1, AudContacts).Text(), int64(42), uint32(1), uint8(AudContacts), uint16(0))
	f.Add("t=EwCoARAnAAAUZXhhbXBsZS1jb250YWN0cy10aWNrZXQ%2Bx5k3Q==&p=", int64(-1), uint32(0), uint8(0), uint16(7))
	f.Add("t=FAKE-T-contacts_msn_com&p=FAKE-P", int64(1<<40), uint32(1<<31), uint8(255), uint16(300))
	f.Fuzz(func(t *testing.T, text string, id int64, ver uint32, aud uint8, flip uint16) {
		c, err := k.Parse(text)
		if err != nil && !errors.Is(err, ErrTicketMalformed) && !errors.Is(err, ErrTicketForged) && !errors.Is(err, ErrTicketExpired) {
			t.Fatalf("undocumented error %v", err)
		}
		if err == nil && c.T != TPart(text) {
			t.Fatalf("claims.T %q for %q", c.T, text)
		}

		tk := k.Issue(id, int(ver), Audience(aud))
		for _, form := range []string{tk.Text(), tk.T, "t=" + tk.T, " " + tk.Text() + " "} {
			c, err := k.Parse(form)
			if err != nil || c.AccountID != id || c.TokenVersion != int(ver) || c.Audience != Audience(aud) || !c.Expires.Equal(tk.Expires) {
				t.Fatalf("%q parses to %+v, %v", form, c, err)
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(tk.T)
		if err != nil {
			t.Fatal(err)
		}
		bit := int(flip) % (len(raw) * 8)
		raw[bit/8] ^= 1 << (bit % 8)
		if _, err := k.Parse(base64.RawURLEncoding.EncodeToString(raw)); err == nil {
			t.Fatalf("ticket with bit %d flipped accepted", bit)
		}
	})
}
