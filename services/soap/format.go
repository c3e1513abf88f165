package soap

import (
	"crypto/sha256"
	"encoding/hex"
)

// FormatDigest identifies a renderer for stored answers (store.StoredAnswer):
// a digest of its version string and of what it renders for a sample that
// sets every field it writes, so an answer stored by a renderer that wrote
// anything differently is never served (services/ab and services/sharing
// renderFormat).
func FormatDigest(version string, samples ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(version))
	for _, s := range samples {
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
