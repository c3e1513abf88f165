package ns_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
)

// TestImportGraph holds the NS to the public contract: its packages import
// only the standard library, third-party modules, nsclient, models and
// services/ns/..., and nothing they depend on is abch's store, auth or
// another service (issue 12).
func TestImportGraph(t *testing.T) {
	testenv.ImportGraph(t, func(rest string) bool {
		return rest == "nsclient" || rest == "models" || rest == "services/ns" || strings.HasPrefix(rest, "services/ns/")
	})
}
