package sb_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/abch-im/abch/"

// TestImportGraph holds the switchboard to the public contract (issue 13):
// its production packages import only the standard library, third-party
// modules, nsclient, models, the MSNP codec services/ns/msnp, the connection
// tracker services/ns/msnpserver and their own code; nothing they depend on
// is abch's store, auth, the NS itself or another service.
func TestImportGraph(t *testing.T) {
	allowed := func(rest string) bool {
		// services/ns/msnp is the MSNP codec and services/ns/msnpserver the
		// connection tracker: both are protocol machinery the NS and the
		// switchboard share, not the NS itself.
		return rest == "nsclient" || rest == "models" || rest == "services/ns/msnp" || rest == "services/ns/msnpserver" ||
			rest == "services/sb" || strings.HasPrefix(rest, "services/sb/")
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if rest, ours := strings.CutPrefix(imp, module); ours && !allowed(rest) {
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
		if rest == "internal/store" || rest == "internal/auth" || strings.HasPrefix(rest, "services/") && !allowed(rest) {
			t.Errorf("services/sb depends on %s", dep)
		}
	}
}
