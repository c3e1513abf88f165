// Package cli is the abch command line: serve, user, migrate, certs and the
// tools later work adds. main is only os.Exit(cli.Run(...)).
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Run executes the command line and returns the process exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := NewRoot(stdout, stderr)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "abch:", err)
		return 1
	}
	return 0
}

// app carries the configuration shared by every subcommand.
type app struct {
	cfg    config.Config
	stdout io.Writer
	stderr io.Writer
	// createDataDir lets openStore create a missing data dir (migrate).
	createDataDir bool
}

// NewRoot builds the command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "abch",
		Short:         "abch: the contact-list backend (Address Book, Sharing, Passport RST, OIM) for MSN revival servers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	var err error
	a.cfg, err = config.FromEnv()
	pf := root.PersistentFlags()
	pf.StringVar(&a.cfg.DataDir, "data-dir", a.cfg.DataDir, "data directory (ABCH_DATA_DIR)")
	// urlFlag (flags.go) redacts the password in --help.
	pf.Var(urlFlag{&a.cfg.DatabaseURL}, "database-url", "postgres:// URL; empty = embedded database (ABCH_DATABASE_URL)")
	a.addConfigFlags(pf) // flags.go
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err != nil {
			return err
		}
		return nil
	}
	root.AddCommand(a.serveCmd(), a.userCmd(), a.migrateCmd())
	for _, extra := range extraCommands {
		root.AddCommand(extra(a))
	}
	return root
}

// extraCommands lets other files of this package add subcommands without
// touching NewRoot (certs, events, import, export, bench).
var extraCommands []func(*app) *cobra.Command

func (a *app) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(a.cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(a.cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

func (a *app) serveCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the server (applies migrations first)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := a.logger()
			log.Info("starting abch", "config", fmt.Sprintf("%+v", a.cfg.Redacted()))
			s, err := server.Start(cmd.Context(), a.cfg, log)
			if err != nil {
				return err
			}
			if err := a.startWeb(s, log); err != nil { // web.go
				ctx, cancel := context.WithCancel(cmd.Context())
				cancel() // stop what started
				_ = s.Run(ctx)
				return err
			}
			err = s.Run(cmd.Context())
			log.Info("abch stopped")
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&a.cfg.HTTPAddr, "http-addr", a.cfg.HTTPAddr, "client-facing listener (ABCH_HTTP_ADDR)")
	f.StringVar(&a.cfg.HTTPSAddr, "https-addr", a.cfg.HTTPSAddr, "TLS listener (ABCH_HTTPS_ADDR)")
	f.StringVar(&a.cfg.TLSCert, "tls-cert", a.cfg.TLSCert, "TLS certificate (ABCH_TLS_CERT)")
	f.StringVar(&a.cfg.TLSKey, "tls-key", a.cfg.TLSKey, "TLS key (ABCH_TLS_KEY)")
	f.StringVar(&a.cfg.TLSProfile, "tls-profile", a.cfg.TLSProfile, "TLS profile: legacy (TLS 1.0+, RSA/3DES/RC4 suites for XP/Vista/7 clients) or modern (ABCH_TLS_PROFILE)")
	f.StringVar(&a.cfg.NSAddr, "ns-addr", a.cfg.NSAddr, "NS-facing API listener (ABCH_NS_ADDR)")
	f.StringVar(&a.cfg.WebAddr, "web-addr", a.cfg.WebAddr, "sign-up, account and dashboard pages, \"off\" for none (ABCH_WEB_ADDR)")
	f.StringVar(&a.cfg.MSNPAddr, "msnp-addr", a.cfg.MSNPAddr, "in-process Notification Server, \"off\" for none (ABCH_MSNP_ADDR)")
	return c
}

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.createDataDir = true
			st, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintln(a.stdout, "migrations applied")
			return nil
		},
	}
}

// openStore opens and migrates the configured database.
func (a *app) openStore(ctx context.Context) (*store.Store, error) {
	if err := a.cfg.Validate(); err != nil {
		return nil, err
	}
	if err := a.checkDataDir(); err != nil { // datadir.go
		return nil, err
	}
	st, err := store.Open(ctx, a.cfg, a.logger())
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

func (a *app) argon2() auth.Argon2Params {
	return auth.Argon2Params{MemoryKiB: a.cfg.Argon2Memory, Time: a.cfg.Argon2Time, Parallelism: a.cfg.Argon2Par}
}

func (a *app) userCmd() *cobra.Command {
	user := &cobra.Command{Use: "user", Short: "Manage accounts"}
	user.AddCommand(a.userAddCmd(), a.userPasswdCmd(), a.userListCmd())
	user.AddCommand(a.userAdminCmds()...) // user_admin.go
	return user
}

// useStore opens and migrates the configured database, runs f with it and
// closes it: the body of most commands.
func (a *app) useStore(ctx context.Context, f func(st *store.Store) error) error {
	st, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

// userAddCmd is `abch user add`. The password and the address are checked
// before the database is opened.
func (a *app) userAddCmd() *cobra.Command {
	var password, name string
	var passwordStdin bool
	add := &cobra.Command{
		Use:   "add EMAIL [--password-stdin | --password PASSWORD] [--name NAME]",
		Short: "Create an account with its address book and Me contact",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password, err := a.readPassword(cmd, password, passwordStdin) // user_admin.go
			if err != nil {
				return err
			}
			if _, err := models.NormalizeEmail(args[0]); err != nil {
				return err
			}
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				acct, err := accounts.New(st, a.cfg).Create(cmd.Context(), accounts.NewUser{Email: args[0], Password: password, DisplayName: name}, accounts.Operator)
				if err != nil {
					return err
				}
				a.warnClientCut(password)
				fmt.Fprintf(a.stdout, "created %s (cid %d, puid %016X)\n", acct.Email, acct.CID, uint64(acct.PUID))
				return nil
			})
		},
	}
	add.Flags().StringVar(&password, "password", "", "password (visible to other users in ps: prefer --password-stdin or the prompt)")
	add.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of stdin")
	add.Flags().StringVar(&name, "name", "", "display name (default: the address)")
	return add
}

// userPasswdCmd is `abch user passwd`.
func (a *app) userPasswdCmd() *cobra.Command {
	var newPassword string
	var passwordStdin bool
	passwd := &cobra.Command{
		Use:   "passwd EMAIL [--password-stdin | --password PASSWORD]",
		Short: "Set an account's password (every ticket issued before stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			newPassword, err := a.readPassword(cmd, newPassword, passwordStdin)
			if err != nil {
				return err
			}
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				acct, err := accounts.New(st, a.cfg).SetPassword(cmd.Context(), args[0], newPassword, accounts.Operator)
				if err != nil {
					return err
				}
				a.warnClientCut(newPassword)
				fmt.Fprintf(a.stdout, "password changed for %s\n", acct.Email)
				return nil
			})
		},
	}
	passwd.Flags().StringVar(&newPassword, "password", "", "new password (visible to other users in ps: prefer --password-stdin or the prompt)")
	passwd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the new password from the first line of stdin")
	return passwd
}

// userListCmd is `abch user list`.
func (a *app) userListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List accounts",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				accts, err := st.ListAccounts(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EMAIL\tDISPLAY NAME\tCID\tPUID\tCREATED")
				for _, ac := range accts {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%016X\t%s\n", ac.Email, ac.DisplayName, ac.CID, uint64(ac.PUID), ac.CreatedAt.UTC().Format("2006-01-02 15:04:05"))
				}
				return tw.Flush()
			})
		},
	}
}
