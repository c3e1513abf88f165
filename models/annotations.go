package models

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Annotation limits, shared by every service that accepts annotations (AB
// contacts and groups, Sharing members). Names and values are counted in
// characters, not bytes: a limit on what a user typed must not shrink for
// non-ASCII text.
const (
	MaxAnnotationName  = 128
	MaxAnnotationValue = 1024
)

// AnnotationTooLong reports which part of a, if any, is over its limit:
// "AnnotationName", "AnnotationValue" or "" when both fit.
func AnnotationTooLong(a Annotation) string {
	switch {
	case utf8.RuneCountInString(a.Name) > MaxAnnotationName:
		return "AnnotationName"
	case utf8.RuneCountInString(a.Value) > MaxAnnotationValue:
		return "AnnotationValue"
	}
	return ""
}

// EncodeAnnotations is the stored form of annotations (the Annotations
// column of contacts, groups and memberships): a JSON array in order, "[]"
// for none.
func EncodeAnnotations(list []Annotation) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list) // a slice of string pairs always marshals
	return string(b)
}

// DecodeAnnotations parses a stored Annotations column; a corrupt value
// yields none rather than failing the whole book.
func DecodeAnnotations(s string) []Annotation {
	if s == "" || s == "[]" {
		return nil
	}
	if out, ok := decodeAnnotationsPlain(s); ok {
		return out
	}
	var out []Annotation
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil
	}
	return out
}

// MergeAnnotations applies updates to cur: a non-empty value sets the
// annotation (replacing the one of the same name), an empty value clears it
// (PROTOCOL.md §2.3). The order of first appearance is kept.
func MergeAnnotations(cur, updates []Annotation) []Annotation {
	for _, u := range updates {
		idx := -1
		for i := range cur {
			if cur[i].Name == u.Name {
				idx = i
				break
			}
		}
		switch {
		case u.Value == "" && idx >= 0:
			cur = append(cur[:idx], cur[idx+1:]...)
		case u.Value == "":
		case idx >= 0:
			cur[idx].Value = u.Value
		default:
			cur = append(cur, u)
		}
	}
	return cur
}

// WithAnnotation returns the stored annotations stored with name set to
// value (cleared when value is empty), as MergeAnnotations does.
func WithAnnotation(stored, name, value string) string {
	return EncodeAnnotations(MergeAnnotations(DecodeAnnotations(stored), []Annotation{{Name: name, Value: value}}))
}

// AnnotationValue returns the value of the annotation called name (any
// case) in stored annotations, "" when there is none.
func AnnotationValue(stored, name string) string {
	for _, a := range DecodeAnnotations(stored) {
		if strings.EqualFold(a.Name, name) {
			return a.Value
		}
	}
	return ""
}

// decodeAnnotationsPlain reads the form EncodeAnnotations writes when no
// string needs a JSON escape — [{"name":"…","value":"…"},…] — without
// encoding/json, whose reflection was most of rendering a book's
// annotations (issue 19). Anything else (escapes, other spacing or key
// spelling, invalid UTF-8, control characters) is ok=false, and the caller
// decodes it with encoding/json as before.
func decodeAnnotationsPlain(s string) (out []Annotation, ok bool) {
	const head, mid, tail = `{"name":"`, `","value":"`, `"}`
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	rest := s[1 : len(s)-1]
	for {
		if !strings.HasPrefix(rest, head) {
			return nil, false
		}
		rest = rest[len(head):]
		end := strings.IndexByte(rest, '"')
		if end < 0 || !strings.HasPrefix(rest[end:], mid) {
			return nil, false
		}
		name := rest[:end]
		rest = rest[end+len(mid):]
		end = strings.IndexByte(rest, '"')
		if end < 0 || !strings.HasPrefix(rest[end:], tail) {
			return nil, false
		}
		value := rest[:end]
		rest = rest[end+len(tail):]
		if !plainJSONString(name) || !plainJSONString(value) {
			return nil, false
		}
		out = append(out, Annotation{Name: name, Value: value})
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}

// plainJSONString reports whether s is the body of a JSON string that
// decodes to itself: no backslash, no control character, valid UTF-8.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.ValidString(s)
}
