package soap

import "unicode/utf8"

// Truncate returns at most the first n bytes of s, cut at a character
// boundary: how much of a client's bad value an error message quotes.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
