package auth

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
	"time"
)

type fixedReader byte

func (r fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestTicketLifecycle: a ticket parses back to what was issued, is bound to
// its audience, uses only [A-Za-z0-9_-], expires with the (injected) clock,
// and any changed character or another secret makes it invalid.
func TestTicketLifecycle(t *testing.T) {
	now := time.Date(2009, 3, 4, 5, 6, 7, 0, time.UTC)
	k := NewTicketer([]byte("secret"), 24*time.Hour)
	k.Now = func() time.Time { return now }
	tk := k.Issue(42, 3, AudMessengerClear)
	if !regexp.MustCompile(`^t=[A-Za-z0-9_-]+&p=[A-Za-z0-9_-]+$`).MatchString(tk.Text()) {
		t.Fatalf("ticket text %q", tk.Text())
	}
	if len(tk.ProofKey) != 24 || !bytes.Equal(tk.ProofKey, k.ProofKey(tk.T)) || tk.P != k.ProfilePart(tk.T) {
		t.Fatalf("proof key / p part not derived from t")
	}
	c, err := k.Parse(tk.Text())
	if err != nil || c.AccountID != 42 || c.TokenVersion != 3 || c.Audience != AudMessengerClear || !c.Expires.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("parse: %+v %v", c, err)
	}
	for _, form := range []string{tk.T, "t=" + tk.T, tk.T + "&p=whatever", " t=" + tk.T + "&p=" + tk.P + " "} {
		if _, err := k.Parse(form); err != nil {
			t.Errorf("form %q: %v", form, err)
		}
	}

	// Tampering: every position of t, flipped, is rejected.
	for i := 0; i < len(tk.T); i++ {
		b := []byte(tk.T)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := k.Parse(string(b)); err == nil {
			t.Fatalf("flipped character %d still parses", i)
		}
	}
	other := NewTicketer([]byte("other"), 24*time.Hour)
	if _, err := other.Parse(tk.Text()); !errors.Is(err, ErrTicketForged) {
		t.Errorf("ticket from another secret: %v", err)
	}

	// Expiry with the injected clock.
	now = now.Add(24*time.Hour - time.Second)
	if _, err := k.Parse(tk.Text()); err != nil {
		t.Errorf("one second before expiry: %v", err)
	}
	now = now.Add(time.Second)
	if _, err := k.Parse(tk.Text()); !errors.Is(err, ErrTicketExpired) {
		t.Errorf("at expiry: %v", err)
	}

	// Injected randomness makes tickets reproducible; crypto/rand does not.
	k.Rand = fixedReader(7)
	a, b := k.Issue(1, 1, AudContacts), k.Issue(1, 1, AudContacts)
	if a.T != b.T || a.P != b.P || !bytes.Equal(a.ProofKey, b.ProofKey) {
		t.Errorf("fixed nonce source gave different tickets")
	}
	k.Rand = nil
	if c, d := k.Issue(1, 1, AudContacts), k.Issue(1, 1, AudContacts); c.T == d.T {
		t.Errorf("two tickets with random nonces are equal")
	}
	for _, bad := range []string{"", "t=", "t=!!!&p=x", "t=" + tk.T[:10], "t=" + tk.T + tk.T} {
		if _, err := k.Parse(bad); err == nil {
			t.Errorf("%q parses", bad)
		}
	}
}
