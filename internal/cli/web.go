package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/services/web"
)

// startWeb serves the web pages (docs/web.md) beside the server when
// ABCH_WEB_ADDR is not off, with `abch hosts`'s generator for the "how to
// connect" page.
func (a *app) startWeb(s *server.Server, log *slog.Logger) error {
	if !a.cfg.WebEnabled() {
		return nil
	}
	_, addr, err := web.Mount(s, func(w io.Writer, ip, nsIP net.IP) { WriteHosts(w, ip, nsIP, "hosts", a.cfg.PassportDALogin) })
	if err != nil {
		return err
	}
	scheme := "http://"
	if a.cfg.WebTLS == "on" {
		scheme = "https://"
	}
	dash := "off (ABCH_ADMIN_TOKEN is empty)"
	if a.cfg.AdminToken != "" {
		dash = scheme + addr + "/admin"
	}
	log.Info("web pages listening", "web", scheme+addr, "signup", a.cfg.Signup, "dashboard", dash)
	return nil
}

func init() {
	extraCommands = append(extraCommands, (*app).inviteCmd)
}

// inviteCmd makes and lists the invitation codes of ABCH_SIGNUP=invite
// (the dashboard's Invitations page does the same).
func (a *app) inviteCmd() *cobra.Command {
	c := &cobra.Command{Use: "invite", Short: "Invitation codes for web sign-up with ABCH_SIGNUP=invite"}
	var count int
	var note string
	create := &cobra.Command{
		Use:   "create [--count N] [--note TEXT]",
		Short: "Make invitation codes, one a line (each signs up one account)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				codes, err := st.CreateInvites(cmd.Context(), count, note)
				if err != nil {
					return err
				}
				for _, c := range codes {
					fmt.Fprintln(a.stdout, c)
				}
				if a.cfg.Signup != "invite" {
					fmt.Fprintf(a.stderr, "note: ABCH_SIGNUP is %q; the codes are asked for only with ABCH_SIGNUP=invite\n", a.cfg.Signup)
				}
				return nil
			})
		},
	}
	create.Flags().IntVar(&count, "count", 1, "how many codes")
	create.Flags().StringVar(&note, "note", "", "who the codes are for (shown in the list)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List invitation codes, newest first, with who used them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				list, err := st.Invites(cmd.Context(), 1000)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CODE\tMADE\tUSED BY\tNOTE")
				for _, i := range list {
					used := "-"
					if i.UsedBy != "" {
						used = i.UsedBy + " " + i.UsedAt.Format("2006-01-02 15:04")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", i.Code, i.CreatedAt.Format("2006-01-02 15:04"), used, i.Note)
				}
				return tw.Flush()
			})
		},
	}
	c.AddCommand(create, list)
	return c
}
