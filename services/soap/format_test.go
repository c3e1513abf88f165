package soap

import "testing"

// TestFormatDigest: a renderer that writes one byte differently, or the
// same bytes under another version, gets another digest; the same renderer
// always the same one.
func TestFormatDigest(t *testing.T) {
	a := FormatDigest("1", []byte("<a>x</a>"), []byte("<b/>"))
	if a != FormatDigest("1", []byte("<a>x</a>"), []byte("<b/>")) {
		t.Fatal("the same renderer got two digests")
	}
	for name, other := range map[string]string{
		"one byte differs": FormatDigest("1", []byte("<a>y</a>"), []byte("<b/>")),
		"another version":  FormatDigest("2", []byte("<a>x</a>"), []byte("<b/>")),
		"a sample missing": FormatDigest("1", []byte("<a>x</a>")),
	} {
		if other == a {
			t.Errorf("%s: same digest %s", name, a)
		}
	}
	if len(a) != 24 {
		t.Errorf("digest %q: want 24 hex characters", a)
	}
}
