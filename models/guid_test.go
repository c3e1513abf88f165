package models

import "testing"

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		"6f8e1c2a-0b3d-4e5f-8a9b-0c1d2e3f4a5b":   true,
		"6F8E1C2A-0B3D-4E5F-8A9B-0C1D2E3F4A5B":   true,
		"{6f8e1c2a-0b3d-4e5f-8a9b-0c1d2e3f4a5b}": false, // braces are the caller's
		"6f8e1c2a-0b3d-4e5f-8a9b-0c1d2e3f4a5":    false,
		"6f8e1c2a-0b3d-4e5f-8a9b-0c1d2e3f4a5bb":  false,
		"6f8e1c2a00b3d-4e5f-8a9b-0c1d2e3f4a5b":   false,
		"6f8e1c2g-0b3d-4e5f-8a9b-0c1d2e3f4a5b":   false,
		"":                                       false,
	} {
		if got := IsGUID(s); got != want {
			t.Errorf("IsGUID(%q) = %v, want %v", s, got, want)
		}
	}
}
