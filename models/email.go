package models

import "strings"

// MaxEmailLength is the longest sign-in name accepted (MSN allowed 129).
const MaxEmailLength = 129

// NormalizeEmail validates a sign-in name and returns it lower-cased. It
// accepts the plain addr-spec subset real accounts use: a dot-atom local part
// and a dotted domain of letters, digits and hyphens.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > MaxEmailLength {
		return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q", s)
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.Count(s, "@") != 1 {
		return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: needs one '@'", s)
	}
	local, domain := s[:at], s[at+1:]
	if len(local) > 64 || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: bad local part", s)
	}
	for _, c := range local {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", c)) {
			return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: bad character %q", s, c)
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: domain needs a dot", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: bad domain", s)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return "", Errorf(CodeInvalidEmail, "invalid e-mail address %q: bad domain character %q", s, c)
			}
		}
	}
	return strings.ToLower(s), nil
}
