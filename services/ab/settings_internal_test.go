package ab

import (
	"fmt"
	"testing"

	"github.com/abch-im/abch/models"
)

// TestMeSettings pins the Me annotations that map to account settings:
// every accepted value, the empty value (leave unchanged) and a refused one,
// which is a BadRequest fault; other annotations stay annotations.
func TestMeSettings(t *testing.T) {
	show := func(st models.Settings) string {
		out := ""
		if st.BLP != nil {
			out += "blp=" + *st.BLP
		}
		if st.GTC != nil {
			out += "gtc=" + *st.GTC
		}
		if st.MBEA != nil {
			out += fmt.Sprintf("mbea=%d", *st.MBEA)
		}
		if st.RoamLiveProps != nil {
			out += fmt.Sprintf("roam=%d", *st.RoamLiveProps)
		}
		return out
	}
	for _, c := range []struct {
		name, value string
		want        string // the settings set, "" for none
		kept, bad   bool
	}{
		{"MSN.IM.BLP", "1", "blp=AL", false, false},
		{"msn.im.blp", " 0 ", "blp=BL", false, false},
		{"MSN.IM.BLP", "2", "blp=BL", false, false},
		{"MSN.IM.BLP", "", "", false, false},
		{"MSN.IM.BLP", "3", "", false, true},
		{"MSN.IM.GTC", "1", "gtc=A", false, false},
		{"MSN.IM.GTC", "0", "gtc=N", false, false},
		{"MSN.IM.GTC", "2", "gtc=N", false, false},
		{"MSN.IM.GTC", "A", "", false, true},
		{"MSN.IM.MBEA", "0", "mbea=0", false, false},
		{"MSN.IM.MBEA", "1", "mbea=1", false, false},
		{"MSN.IM.MBEA", "2", "", false, true},
		{"MSN.IM.RoamLiveProperties", "2", "roam=2", false, false},
		{"MSN.IM.RoamLiveProperties", " ", "", false, false},
		{"MSN.IM.RoamLiveProperties", "3", "", false, true},
		{"MSN.IM.MPOP", "1", "", true, false},
	} {
		rest, st, err := meSettings([]models.Annotation{{Name: c.name, Value: c.value}})
		if c.bad {
			if models.ErrorCode(err) != models.CodeBadRequest {
				t.Errorf("%s=%q: error %v, want %s", c.name, c.value, err, models.CodeBadRequest)
			}
			continue
		}
		if err != nil || show(st) != c.want || (len(rest) == 1) != c.kept {
			t.Errorf("%s=%q: got (%v, %q, %v), want (%q, kept %v)", c.name, c.value, rest, show(st), err, c.want, c.kept)
		}
	}
}
