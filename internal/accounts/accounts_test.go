package accounts_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/models"
)

func TestPasswordRules(t *testing.T) {
	for _, c := range []struct {
		name     string
		rules    accounts.PasswordRules
		password string
		says     string // "" = accepted
	}{
		{"self-service takes 8 characters", accounts.SelfService, "abcdefgh", ""},
		{"self-service takes 16 characters", accounts.SelfService, "abcdefghijklmnop", ""},
		{"self-service counts characters, not bytes", accounts.SelfService, "ääääääää", ""},
		{"self-service refuses 7 characters", accounts.SelfService, "abcdefg", "at least 8"},
		{"self-service refuses 17 characters (purple sends 16)", accounts.SelfService, "abcdefghijklmnopq", "at most 16"},
		{"a tab is refused", accounts.SelfService, "abcd\tefgh", "control characters"},
		{"the address itself is refused, any case", accounts.SelfService, "A@Example.com", "must not be the e-mail"},
		{"invalid UTF-8 is refused", accounts.SelfService, "abcdefg\xff", "not valid text"},
		{"the operator may set a short password", accounts.Operator, "x", ""},
		{"the operator may set 128 characters", accounts.Operator, strings.Repeat("p", 128), ""},
		{"not 129", accounts.Operator, strings.Repeat("p", 129), "at most 128"},
		{"nor an empty one", accounts.Operator, "", "empty password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.rules.Check(c.password, "a@example.com")
			if c.says == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if models.ErrorCode(err) != models.CodeInvalidPassword || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v, want InvalidPassword saying %q", err, c.says)
			}
		})
	}
}

func TestDisplayNameRules(t *testing.T) {
	for _, c := range []struct {
		name       string
		display    string
		allowEmpty bool
		ok         bool
	}{
		{"a name", "Alice", false, true},
		{"387 bytes", strings.Repeat("n", 387), false, true},
		{"388 bytes", strings.Repeat("n", 388), false, false},
		{"a line break", "a\nb", false, false},
		{"empty for sign-up", "", true, true},
		{"empty as a change", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := accounts.CheckDisplayName(c.display, c.allowEmpty)
			if (err == nil) != c.ok || (err != nil && models.ErrorCode(err) != models.CodeBadArgumentLength) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
