package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkDataDir refuses to open the embedded database when the data dir does
// not exist: a command run from another working directory (or with a
// mistyped ABCH_DATA_DIR) would otherwise create an empty database there
// and, say, add a user nobody's server reads. `abch serve`, `abch migrate`
// and `abch import` create the data dir; Postgres needs none.
func (a *app) checkDataDir() error {
	if a.cfg.IsPostgres() || a.createDataDir {
		return nil
	}
	st, err := os.Stat(a.cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(a.cfg.DataDir)
		return fmt.Errorf("no data dir at %s (from ABCH_DATA_DIR or --data-dir, default ./abch-data in the working directory): "+
			"point it at the directory `abch serve` uses, or create a new one with `abch migrate`", abs)
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("data dir %s is not a directory", a.cfg.DataDir)
	}
	return nil
}
