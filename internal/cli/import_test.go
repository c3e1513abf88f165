package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
)

// TestImportExportCommands runs the commands as an operator would: import
// the Escargot sample, see the summary and plain progress lines (the output
// is not a terminal), export, import the export into another data directory.
func TestImportExportCommands(t *testing.T) {
	root := testenv.RepoRoot(t)
	fixture := filepath.Join(testenv.EscargotDir(t), "escargot-sample.sqlite")
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(args, &out, &errb)
		return code, out.String(), errb.String()
	}
	t.Setenv("ABCH_DATABASE_URL", "")
	code, out, errs := run("--data-dir", filepath.Join(dir, "a"), "import", "escargot", fixture)
	if code != 0 || !strings.Contains(out, "accounts: 40 created, 0 updated, 0 unchanged, 0 skipped") ||
		!strings.Contains(out, "inconsistencies: 2 found, 0 repaired") || !strings.Contains(errs, "importing lists: 40/40 accounts, done") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run("--data-dir", filepath.Join(dir, "a"), "import", "escargot", "--dry-run", fixture)
	if code != 0 || !strings.Contains(out, "would import (dry run, nothing written)") || !strings.Contains(out, "40 unchanged") {
		t.Fatalf("dry run: %d\n%s", code, out)
	}
	file := filepath.Join(dir, "all.jsonl")
	if code, _, errs = run("--data-dir", filepath.Join(dir, "a"), "export", "lists", "-o", file); code != 0 || !strings.Contains(errs, "exported 40 account(s)") {
		t.Fatalf("export: %d %s", code, errs)
	}
	golden, _ := os.ReadFile(filepath.Join(root, "fixtures", "migration", "escargot-sample.jsonl"))
	if got, _ := os.ReadFile(file); !bytes.Equal(got, golden) {
		t.Fatalf("exported file differs from the golden export")
	}
	code, out, _ = run("--data-dir", filepath.Join(dir, "b"), "import", "lists", "--repair", file)
	if code != 0 || !strings.Contains(out, "accounts: 40 created") || !strings.Contains(out, "inconsistencies: 2 found, 2 repaired") {
		t.Fatalf("import lists: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "escargot", filepath.Join(dir, "missing.sqlite")}, "no such file"},
		{[]string{"import", "escargot", file}, "not an SQLite database"},
		{[]string{"import", "lists", "--merge=sideways", file}, `unknown merge policy "sideways"`},
		{[]string{"export", "lists", "--user", "nobody@example.com"}, "no account nobody@example.com"},
	} {
		code, _, errs := run(append([]string{"--data-dir", filepath.Join(dir, "a")}, tc.args...)...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errs, tc.want)
		}
	}
}
