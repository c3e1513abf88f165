package sb_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
)

// TestImportGraph holds the switchboard to the public contract (issue 13):
// its production packages import only the standard library, third-party
// modules, nsclient, models, the MSNP codec services/ns/msnp, the connection
// tracker services/ns/msnpserver, the NS–switchboard contract
// services/ns/sbwire and their own code; nothing they depend on is abch's
// store, auth, the NS itself or another service.
func TestImportGraph(t *testing.T) {
	// services/ns/msnp is the MSNP codec, services/ns/msnpserver the
	// connection tracker and services/ns/sbwire the NS–switchboard contract:
	// protocol machinery the NS and the switchboard share, not the NS itself.
	testenv.ImportGraph(t, func(rest string) bool {
		return rest == "nsclient" || rest == "models" || rest == "services/ns/msnp" ||
			rest == "services/ns/msnpserver" || rest == "services/ns/sbwire" ||
			rest == "services/sb" || strings.HasPrefix(rest, "services/sb/")
	})
}
