// Package strictjson refuses JSON text that encoding/json would repair
// silently: bytes that are not UTF-8 and \u escapes of unpaired UTF-16
// surrogates both decode to U+FFFD, so a client would store (and later
// receive) a character it never sent. Callers run Check on the raw body
// before decoding it.
package strictjson

import (
	"errors"
	"unicode/utf8"
)

// ErrInvalidUTF8 is returned for bytes that are not UTF-8.
var ErrInvalidUTF8 = errors.New("JSON text is not valid UTF-8")

// ErrLoneSurrogate is returned for a \u escape of a UTF-16 surrogate that is
// not half of a pair.
var ErrLoneSurrogate = errors.New(`JSON string holds an unpaired surrogate escape (\uD800-\uDFFF)`)

// Check returns ErrInvalidUTF8 or ErrLoneSurrogate, or nil. It does not
// check the JSON syntax otherwise (the decoder does).
func Check(data []byte) error {
	if !utf8.Valid(data) {
		return ErrInvalidUTF8
	}
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(data) {
				return nil // truncated: the decoder says so
			}
			if data[i+1] != 'u' {
				i++
				continue
			}
			r, ok := hex4(data, i+2)
			if !ok {
				i++
				continue // malformed escape: the decoder refuses it
			}
			i += 5
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return ErrLoneSurrogate
			case r >= 0xD800 && r <= 0xDBFF:
				if i+2 >= len(data) || data[i+1] != '\\' || data[i+2] != 'u' {
					return ErrLoneSurrogate
				}
				lo, ok := hex4(data, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return ErrLoneSurrogate
				}
				i += 6
			}
		}
	}
	return nil
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
