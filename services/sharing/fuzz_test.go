package sharing

import (
	"testing"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// FuzzSharingDecoders runs FindMembership's and AddMember/DeleteMember's
// decoders over any body that parses. Properties: no panic; refusals are
// coded models.Errors (FindMembership's only FullSyncRequired); accepted
// member names are valid UTF-8 and normalized (decoding them again gives
// the same name).
func FuzzSharingDecoders(f *testing.F) {
	corpus.SeedPath(f, "/abservice/sharingservice.asmx")
	f.Fuzz(func(t *testing.T, body []byte) {
		op := soap.FirstOperation(body)
		if op == nil {
			return
		}
		if _, err := decodeFindMembership(op); err != nil {
			if c := models.ErrorCode(err); c != models.CodeFullSyncRequired {
				t.Fatalf("FindMembership refused with %v (it may only ask for a full sync)", err)
			}
		}
		req, err := decodeMemberRequest(op)
		if err != nil {
			if models.AsError(err).Code == models.CodeInternalError {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		for _, m := range req.Members {
			if !utf8.ValidString(m.Name) {
				t.Fatalf("accepted invalid UTF-8 member %q", m.Name)
			}
			if m.Type != "" && m.Name != "" {
				if again, err := normalizeName(m.Type, m.Name); err != nil || again != m.Name {
					t.Fatalf("member %q (%s) normalizes again to %q, %v", m.Name, m.Type, again, err)
				}
			}
		}
	})
}
