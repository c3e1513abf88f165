package ns_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/abch-im/abch/"

// TestImportGraph holds the NS to the public contract: its packages import
// only the standard library, third-party modules, nsclient, models and
// services/ns/..., and nothing they depend on is abch's store, auth or
// another service (issue 12).
func TestImportGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			rest, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue // standard library or third-party
			}
			if rest != "nsclient" && rest != "models" && rest != "services/ns" && !strings.HasPrefix(rest, "services/ns/") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	deps, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, deps)
	}
	for _, dep := range strings.Fields(string(deps)) {
		rest, ours := strings.CutPrefix(dep, module)
		if !ours {
			continue
		}
		banned := rest == "internal/store" || rest == "internal/auth" ||
			strings.HasPrefix(rest, "services/") && rest != "services/ns" && !strings.HasPrefix(rest, "services/ns/")
		if banned {
			t.Errorf("services/ns depends on %s", dep)
		}
	}
}
