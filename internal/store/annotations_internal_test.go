package store

import (
	"testing"

	"github.com/abch-im/abch/models"
)

// TestAccountAnnotation pins the Me annotations that map to account columns:
// every accepted value, the empty value (leave unchanged) and a refused one,
// which is a BadRequest fault.
func TestAccountAnnotation(t *testing.T) {
	for _, c := range []struct {
		name, value string
		col         string
		val         any
		ok, bad     bool
	}{
		{"MSN.IM.BLP", "1", "blp", models.BLPAllow, true, false},
		{"msn.im.blp", " 0 ", "blp", models.BLPBlock, true, false},
		{"MSN.IM.BLP", "2", "blp", models.BLPBlock, true, false},
		{"MSN.IM.BLP", "", "blp", nil, true, false},
		{"MSN.IM.BLP", "3", "", nil, true, true},
		{"MSN.IM.GTC", "1", "gtc", models.GTCAsk, true, false},
		{"MSN.IM.GTC", "0", "gtc", models.GTCNone, true, false},
		{"MSN.IM.GTC", "2", "gtc", models.GTCNone, true, false},
		{"MSN.IM.GTC", "A", "", nil, true, true},
		{"MSN.IM.MBEA", "0", "mbea", 0, true, false},
		{"MSN.IM.MBEA", "1", "mbea", 1, true, false},
		{"MSN.IM.MBEA", "2", "", nil, true, true},
		{"MSN.IM.RoamLiveProperties", "2", "roam_live_properties", 2, true, false},
		{"MSN.IM.RoamLiveProperties", " ", "roam_live_properties", nil, true, false},
		{"MSN.IM.RoamLiveProperties", "3", "", nil, true, true},
		{"MSN.IM.MPOP", "1", "", nil, false, false},
	} {
		col, val, ok, err := accountAnnotation(models.Annotation{Name: c.name, Value: c.value})
		if col != c.col || val != c.val || ok != c.ok || (err != nil) != c.bad {
			t.Errorf("%s=%q: got (%q, %v, %v, %v), want (%q, %v, %v, error %v)", c.name, c.value, col, val, ok, err, c.col, c.val, c.ok, c.bad)
		}
		if c.bad && models.ErrorCode(err) != models.CodeBadRequest {
			t.Errorf("%s=%q: error %v, want %s", c.name, c.value, err, models.CodeBadRequest)
		}
	}
}
