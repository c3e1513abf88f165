package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/importer"
)

// import/export commands (issue 7, docs/migration.md).
func init() {
	extraCommands = append(extraCommands, (*app).importCmd, (*app).exportCmd)
}

func (a *app) importCmd() *cobra.Command {
	var opt importer.Options
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import accounts and contact lists from another server (docs/migration.md)",
	}
	flags := func(c *cobra.Command) {
		f := c.Flags()
		f.BoolVar(&opt.DryRun, "dry-run", false, "validate and report; write nothing")
		f.BoolVar(&opt.Repair, "repair", false, "fix FL⇔RL inconsistencies instead of only reporting them")
		f.StringVar(&opt.Merge, "merge", importer.MergeSkip, "accounts that exist in abch with other data: skip (report), source (make equal to the source) or union (add, remove nothing)")
	}
	run := func(c *cobra.Command, src importer.Source) error {
		a.createDataDir = true // importing is how a new install may start (datadir.go)
		st, err := a.openStore(c.Context())
		if err != nil {
			return err
		}
		defer st.Close()
		opt.Progress, opt.Terminal = a.stderr, isTerminal(a.stderr)
		sum, err := importer.Run(c.Context(), st, src, opt)
		if err != nil {
			return err
		}
		sum.Write(a.stdout)
		return nil
	}
	esc := &cobra.Command{
		Use:   "escargot SOURCE",
		Short: "Import an Escargot database (SQLite file or postgres:// URL)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			src, err := importer.OpenEscargot(c.Context(), args[0])
			if err != nil {
				return err
			}
			return run(c, src)
		},
	}
	lists := &cobra.Command{
		Use:   "lists FILE|-",
		Short: "Import the JSON-lines lists format (one account a line; - reads standard input)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			src, done, err := importer.OpenLists(args[0], c.InOrStdin())
			if err != nil {
				return err
			}
			defer done()
			return run(c, src)
		},
	}
	flags(esc)
	flags(lists)
	cmd.AddCommand(esc, lists)
	return cmd
}

func (a *app) exportCmd() *cobra.Command {
	var user, out string
	cmd := &cobra.Command{Use: "export", Short: "Export accounts and contact lists (docs/migration.md)"}
	lists := &cobra.Command{
		Use:   "lists [--user EMAIL] [-o FILE]",
		Short: "Write the JSON-lines lists format (every account, or one)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := a.openStore(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			var w io.Writer = a.stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			n, err := importer.Export(c.Context(), st, w, user)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "exported %d account(s)\n", n)
			return nil
		},
	}
	lists.Flags().StringVar(&user, "user", "", "export only this account")
	lists.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	cmd.AddCommand(lists)
	return cmd
}

// isTerminal reports whether w is a character device (a terminal), where a
// progress bar makes sense; pipes and files get plain lines.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
