package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	for in, want := range map[string]error{
		`{"display_name":"Fuzz"}`:                nil,
		`{"display_name":"é☃😀"}`:                 nil,
		`{"display_name":"\u00e9\ud83d\ude00"}`:  nil,
		`{"a":"\\ud800"}`:                        nil, // an escaped backslash, then text
		`{"a":"\"\ud83d\ude00\""}`:               nil,
		"{\"display_name\":\"\xffFuzz\"}":        ErrInvalidUTF8,
		"{\"display_name\":\"\xe2\x82\"}":        ErrInvalidUTF8,
		"{\"k\xc0\xaf\":1}":                      ErrInvalidUTF8,
		`{"display_name":"\ud800"}`:              ErrLoneSurrogate,
		`{"display_name":"\udc00x"}`:             ErrLoneSurrogate,
		`{"display_name":"\ud800\u0041"}`:        ErrLoneSurrogate,
		`{"display_name":"\uD83D"}`:              ErrLoneSurrogate,
		`{"display_name":"x\ud83d\ude00\udc00"}`: ErrLoneSurrogate,
	} {
		if got := Check([]byte(in)); !errors.Is(got, want) {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
	}
}

// FuzzCheck: whatever Check accepts and encoding/json decodes holds only
// the characters sent: every string is valid UTF-8 and holds U+FFFD only
// if the input spelt it.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"display_name":"x"}`, `"\ud83d\ude00"`, "\"\xff\"", `"\ud800"`, `["\\u0041", "\u0041"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if Check(data) != nil {
			return
		}
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				if !utf8.ValidString(x) {
					t.Fatalf("decoded invalid UTF-8 from %q", data)
				}
				for _, r := range x {
					if r == utf8.RuneError && !containsReplacement(data) {
						t.Fatalf("U+FFFD appeared decoding %q", data)
					}
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			case map[string]any:
				for k, e := range x {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}

// containsReplacement: the input itself spells U+FFFD, raw or escaped.
func containsReplacement(b []byte) bool {
	s := strings.ToLower(string(b))
	return strings.Contains(s, "\ufffd") || strings.Contains(s, `\ufffd`)
}
