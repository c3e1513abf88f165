package importer

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestResumeAfterAccountPass: if an import stops after pass 2 created the
// account rows, a re-run treats those accounts as its own (not as "existing
// with other data") and fills in their lists.
func TestResumeAfterAccountPass(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		ctx := context.Background()
		st := openStore(t, cfg)
		var docs []*AccountDoc
		for _, line := range strings.Split(strings.TrimSpace(goodPair), "\n") {
			d, err := ParseLine([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if err := d.normalize(); err != nil {
				t.Fatal(err)
			}
			docs = append(docs, d)
		}
		im := &run{st: st, sum: &Summary{Source: "lists:-"}, created: map[string]int64{}, pending: docs}
		if err := im.flushCreates(ctx); err != nil {
			t.Fatal(err)
		}
		if len(im.created) != 2 {
			t.Fatalf("created %v", im.created)
		}
		var progress bytes.Buffer
		sum := mustImport(t, st, goodPair, Options{Progress: &progress, Terminal: true})
		if sum.Updated != 2 || sum.Skipped != 0 {
			t.Fatalf("resume: %+v", sum)
		}
		a, _ := View(ctx, st, "alice@example.com")
		if len(a.Contacts) != 1 || a.Contacts[0].bits() != 3 {
			t.Fatalf("alice: %+v", a.Contacts)
		}
		if !strings.Contains(progress.String(), "importing lists") {
			t.Errorf("no progress bar: %q", progress.String())
		}
	})
}
