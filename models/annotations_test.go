package models

import (
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
