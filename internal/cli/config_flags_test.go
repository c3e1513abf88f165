package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/testenv"
)

// TestEveryVariableHasAFlag reads every ABCH_* variable config.FromEnv
// looks up and checks that some command has a flag naming it, as the
// README promises.
func TestEveryVariableHasAFlag(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "internal", "config", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`(?:str|integer|dur)\("(ABCH_[A-Z0-9_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(vars) < 25 {
		t.Fatalf("found only %d variables in config.go", len(vars))
	}
	flagged := map[string]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				for _, m := range regexp.MustCompile(`\((ABCH_[A-Z0-9_]+)\)`).FindAllStringSubmatch(f.Usage, -1) {
					flagged[m[1]] = "--" + f.Name
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.NewRoot(&bytes.Buffer{}, &bytes.Buffer{}))
	for _, v := range vars {
		if flagged[v[1]] == "" {
			t.Errorf("%s has no flag", v[1])
		}
	}
}

func TestConfigurationChecks(t *testing.T) {
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := cli.Run(args, &out, &errOut)
		return code, errOut.String()
	}
	dir := t.TempDir()
	t.Setenv("ABCH_DATABASE_URL", "")
	t.Run("an invalid log level or format is refused, from the environment or a flag", func(t *testing.T) {
		if code, msg := run("--data-dir", dir, "--log-level", "verbose", "migrate"); code == 0 || !strings.Contains(msg, `ABCH_LOG_LEVEL must be debug, info, warn or error, not "verbose"`) {
			t.Errorf("--log-level verbose: %d %s", code, msg)
		}
		t.Setenv("ABCH_LOG_FORMAT", "xml")
		if code, msg := run("--data-dir", dir, "migrate"); code == 0 || !strings.Contains(msg, `ABCH_LOG_FORMAT must be text or json, not "xml"`) {
			t.Errorf("ABCH_LOG_FORMAT=xml: %d %s", code, msg)
		}
		t.Setenv("ABCH_LOG_FORMAT", "JSON")
		if code, msg := run("--data-dir", dir, "--log-level", "DEBUG", "migrate"); code != 0 {
			t.Errorf("valid settings in upper case refused: %s", msg)
		}
	})
	t.Run("a switchboard on every interface needs the address clients are sent to", func(t *testing.T) {
		for _, addr := range []string{"0.0.0.0:1864", "[::]:1864", ":1864"} {
			if code, msg := run("--data-dir", dir, "--sb-addr", addr, "migrate"); code == 0 || !strings.Contains(msg, "ABCH_SB_ADDR "+addr+" listens on every interface") || !strings.Contains(msg, "set ABCH_SB_PUBLIC_ADDR") {
				t.Errorf("--sb-addr %s: %d %s", addr, code, msg)
			}
		}
		if code, msg := run("--data-dir", dir, "--sb-addr", "0.0.0.0:1864", "--sb-public-addr", "192.0.2.10:1864", "migrate"); code != 0 {
			t.Errorf("with a public address: %d %s", code, msg)
		}
		t.Setenv("ABCH_MSNP_ADDR", "off")
		if code, msg := run("--data-dir", dir, "--sb-addr", "0.0.0.0:1864", "migrate"); code != 0 {
			t.Errorf("without an NS (no switchboard runs): %d %s", code, msg)
		}
	})
	t.Run("a flag overrides its variable", func(t *testing.T) {
		t.Setenv("ABCH_MAX_CONTACTS", "10")
		if code, msg := run("--data-dir", dir, "--max-contacts", "0", "migrate"); code == 0 || !strings.Contains(msg, "ABCH_MAX_CONTACTS") {
			t.Errorf("--max-contacts 0: %d %s", code, msg)
		}
	})
	t.Run("a command finding no data dir says where it looked and creates nothing", func(t *testing.T) {
		missing := filepath.Join(dir, "elsewhere", "abch-data")
		for _, args := range [][]string{{"user", "list"}, {"user", "show", "a@example.com"}, {"user", "add", "a@example.com", "--password", "x"}} {
			code, msg := run(append([]string{"--data-dir", missing}, args...)...)
			if code == 0 || !strings.Contains(msg, "no data dir at "+missing) || !strings.Contains(msg, "abch migrate") {
				t.Errorf("%v: %d %s", args, code, msg)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "elsewhere")); !os.IsNotExist(err) {
			t.Errorf("the missing data dir was created: %v", err)
		}
		if code, msg := run("--data-dir", missing, "migrate"); code != 0 {
			t.Fatalf("migrate does not create the data dir: %s", msg)
		}
		if code, msg := run("--data-dir", missing, "user", "list"); code != 0 {
			t.Errorf("user list after migrate: %s", msg)
		}
	})
}
