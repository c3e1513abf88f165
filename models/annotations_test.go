package models

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestAnnotationLimitsCountCharacters(t *testing.T) {
	for _, c := range []struct {
		name string
		a    Annotation
		want string
	}{
		{"128 two-byte characters fit a name", Annotation{Name: strings.Repeat("é", 128), Value: "1"}, ""},
		{"129 characters do not", Annotation{Name: strings.Repeat("a", 129), Value: "1"}, "AnnotationName"},
		{"1024 three-byte characters fit a value", Annotation{Name: "N", Value: strings.Repeat("€", 1024)}, ""},
		{"1025 characters do not", Annotation{Name: "N", Value: strings.Repeat("a", 1025)}, "AnnotationValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := AnnotationTooLong(c.a); got != c.want {
				t.Errorf("AnnotationTooLong = %q, want %q", got, c.want)
			}
		})
	}
}

func TestStoredAnnotations(t *testing.T) {
	t.Run("an empty list is stored as []", func(t *testing.T) {
		if got := EncodeAnnotations(nil); got != "[]" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("a corrupt column reads as none", func(t *testing.T) {
		if got := DecodeAnnotations(`[{"name":`); got != nil {
			t.Errorf("got %v", got)
		}
	})
	t.Run("merge sets, replaces and clears by name, keeping order", func(t *testing.T) {
		stored := EncodeAnnotations([]Annotation{{"A", "1"}, {"B", "2"}, {"C", "3"}})
		got := EncodeAnnotations(MergeAnnotations(DecodeAnnotations(stored), []Annotation{{"B", ""}, {"A", "9"}, {"D", "4"}}))
		want := `[{"name":"A","value":"9"},{"name":"C","value":"3"},{"name":"D","value":"4"}]`
		if got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("a value is found by name in any case", func(t *testing.T) {
		stored := WithAnnotation("[]", "AB.NickName", "Bobby")
		if got := AnnotationValue(stored, "ab.nickname"); got != "Bobby" {
			t.Errorf("got %q", got)
		}
		if got := WithAnnotation(stored, "AB.NickName", ""); got != "[]" {
			t.Errorf("clearing left %s", got)
		}
	})
}

// TestDecodeAnnotationsFastPathAgreesWithJSON: the decoder that skips
// encoding/json for the plain stored form returns exactly what
// encoding/json returns, for plain lists and for every form it must leave
// to encoding/json (escapes, markup that Marshal escapes, invalid UTF-8,
// other spellings).
func TestDecodeAnnotationsFastPathAgreesWithJSON(t *testing.T) {
	cases := []string{
		EncodeAnnotations([]Annotation{{"AB.NickName", "bobby"}}),
		EncodeAnnotations([]Annotation{{"A", "1"}, {"B", ""}, {"C", "ünïcødé 😀"}}),
		EncodeAnnotations([]Annotation{{"MSN.IM.Display", "<b> & \"x\" \\ \n"}}),
		`[{"Name":"AB.NickName","Value":"nick"}]`,
		`[{"name":"a","value":"b"}, {"name":"c","value":"d"}]`,
		`[{"name":"a","value":"b"},]`,
		`[{"name":"a","value":"b"}`,
		`[{"name":"a","value":"b"}{"name":"c","value":"d"}]`,
		"[{\"name\":\"a\",\"value\":\"\xff\"}]",
		`[{"name":"a","value":"b","x":1}]`,
		`[{"name":"","value":""}]`,
	}
	for _, s := range cases {
		var want []Annotation
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			want = nil
		}
		if got := DecodeAnnotations(s); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, encoding/json %#v", s, got, want)
		}
	}
	if _, ok := decodeAnnotationsPlain(EncodeAnnotations([]Annotation{{"A", "1"}, {"B", "two words"}})); !ok {
		t.Error("the plain stored form did not take the fast path")
	}
}
