package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is abch's module path with a trailing slash.
const Module = "github.com/abch-im/abch/"

// ImportGraph holds the packages below the test's directory (./...) to a
// public contract: each may import, of abch's own packages, only those
// allowed reports true for (given the path below Module), and nothing any
// of them depends on may be abch's store, auth, or a service package that
// allowed refuses. The standard library and third-party modules are free.
func ImportGraph(t *testing.T, allowed func(rest string) bool) {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if rest, ours := strings.CutPrefix(imp, Module); ours && !allowed(rest) {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	deps, err := exec.Command("go", "list", "-deps", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, deps)
	}
	for _, dep := range strings.Fields(string(deps)) {
		rest, ours := strings.CutPrefix(dep, Module)
		if !ours {
			continue
		}
		if rest == "internal/store" || rest == "internal/auth" || strings.HasPrefix(rest, "services/") && !allowed(rest) {
			t.Errorf("depends on %s", dep)
		}
	}
}
