package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/abch-im/abch/internal/accounts"
	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// readPassword returns the password of `user add` / `user passwd`: the
// --password flag, else one line of stdin with --password-stdin, else a
// prompt on the terminal (typed twice, not echoed). Passwords need not be
// on the command line, where other users see them in ps.
func (a *app) readPassword(cmd *cobra.Command, flag string, fromStdin bool) (string, error) {
	switch {
	case flag != "" && fromStdin:
		return "", errors.New("give --password or --password-stdin, not both")
	case flag != "":
		return flag, nil
	case fromStdin:
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("--password-stdin: stdin held no password")
		}
		return pw, nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", errors.New("a password is required: --password-stdin (one line on stdin), a terminal to type it at, or --password")
	}
	fmt.Fprint(a.stderr, "Password: ")
	first, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(a.stderr, "Repeat password: ")
	second, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", err
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords differ")
	}
	if len(first) == 0 {
		return "", errors.New("empty password")
	}
	return string(first), nil
}

// warnClientCut tells the operator that purple and BitlBee cannot sign in
// with a password longer than they send (accounts.ClientCut).
func (a *app) warnClientCut(password string) {
	if n := len([]rune(password)); n > accounts.ClientCut {
		fmt.Fprintf(a.stderr, "note: the password has %d characters; purple and BitlBee send only the first %d, so they cannot sign in with it (docs/passport.md)\n", n, accounts.ClientCut)
	}
}

// userAdminCmds are the operator's account commands beside add/passwd/list.
func (a *app) userAdminCmds() []*cobra.Command {
	return []*cobra.Command{a.userShowCmd(), a.userSetDisabledCmd(true), a.userSetDisabledCmd(false), a.userUnlockCmd(), a.userDeleteCmd()}
}

// userShowCmd is `abch user show`.
func (a *app) userShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show EMAIL",
		Short: "Show an account: list sizes, last sign-in, disabled, locked by the login throttle",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				sum, err := accounts.New(st, a.cfg).Show(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				a.printAccount(sum)
				return nil
			})
		},
	}
}

// printAccount writes `user show`'s answer: sum with the account's failed
// sign-ins in the current throttle window.
func (a *app) printAccount(sum *accounts.Summary) {
	acct, w := sum.Account, a.stdout
	fmt.Fprintf(w, "email:         %s\n", acct.Email)
	fmt.Fprintf(w, "display name:  %s\n", acct.DisplayName)
	fmt.Fprintf(w, "cid:           %d\npuid:          %016X\n", acct.CID, uint64(acct.PUID))
	fmt.Fprintf(w, "created:       %s\n", acct.CreatedAt.UTC().Format(time.RFC3339))
	if sum.LastSignIn.IsZero() {
		fmt.Fprintf(w, "last sign-in:  never\n")
	} else {
		fmt.Fprintf(w, "last sign-in:  %s from %s\n", sum.LastSignIn.Format(time.RFC3339), sum.LastSignInIP)
	}
	status := "enabled"
	if acct.Disabled {
		status = "disabled (abch user enable)"
	}
	fmt.Fprintf(w, "status:        %s\n", status)
	if sum.Locked {
		fmt.Fprintf(w, "locked:        yes, %d failed sign-ins in the current %s window (abch user unlock)\n", sum.Failures, a.cfg.LoginFailureWindow)
	} else {
		fmt.Fprintf(w, "locked:        no (%d failed sign-ins in the current window, limit %d)\n", sum.Failures, sum.MaxFailures)
	}
	fmt.Fprintf(w, "contacts:      %d (%d on the Forward List)\ngroups:        %d\n", sum.Contacts, sum.Forward, sum.Groups)
	fmt.Fprintf(w, "allow list:    %d\nblock list:    %d\nreverse list:  %d\npending list:  %d\n",
		sum.Members[models.RoleAllow], sum.Members[models.RoleBlock], sum.Members[models.RoleReverse], sum.Members[models.RolePending])
	fmt.Fprintf(w, "offline msgs:  %d\n", sum.OIMs)
}

// userSetDisabledCmd is `abch user disable` (disabled) or `abch user
// enable`.
func (a *app) userSetDisabledCmd(disabled bool) *cobra.Command {
	verb, short := "enable", "Let a disabled account sign in again (tickets issued before it was disabled stay invalid)"
	if disabled {
		verb, short = "disable", "Stop an account: its tickets stop working at once and sign-in is refused"
	}
	return &cobra.Command{
		Use:   verb + " EMAIL",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				acct, changed, err := accounts.New(st, a.cfg).SetDisabled(cmd.Context(), args[0], disabled)
				if err != nil {
					return err
				}
				if !changed {
					fmt.Fprintf(a.stdout, "%s is already %sd\n", acct.Email, verb)
					return nil
				}
				fmt.Fprintf(a.stdout, "%sd %s\n", verb, acct.Email)
				return nil
			})
		},
	}
}

// userUnlockCmd is `abch user unlock`.
func (a *app) userUnlockCmd() *cobra.Command {
	var address string
	unlock := &cobra.Command{
		Use:   "unlock EMAIL [--address IP]",
		Short: "Clear an account's failed sign-ins (and a source address's with --address)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				if err := accounts.New(st, a.cfg).Unlock(cmd.Context(), args[0], address); err != nil {
					return err
				}
				if address != "" {
					fmt.Fprintf(a.stdout, "cleared the failed sign-ins of %s and of %s\n", args[0], address)
					return nil
				}
				fmt.Fprintf(a.stdout, "cleared the failed sign-ins of %s\n", args[0])
				return nil
			})
		},
	}
	unlock.Flags().StringVar(&address, "address", "", "also clear this source address's failed sign-ins")
	return unlock
}

// userDeleteCmd is `abch user delete`.
func (a *app) userDeleteCmd() *cobra.Command {
	var yes bool
	del := &cobra.Command{
		Use:   "delete EMAIL --yes",
		Short: "Delete an account, its address book, lists and offline messages; other people's lists lose it",
		Long: "delete removes the account and everything it owns in one transaction. In other\n" +
			"accounts its contact is deleted (their next sync drops it) and it leaves their\n" +
			"Allow, Block, Reverse and Pending lists; each of them gets an event (RML + NOT)\n" +
			"so their sessions drop it at once (docs/DESIGN.md, \"Deleting an account\").",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return fmt.Errorf("deleting %s cannot be undone: run again with --yes", args[0])
			}
			return a.useStore(cmd.Context(), func(st *store.Store) error {
				res, err := accounts.New(st, a.cfg).Delete(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted %s (cid %d)\n", res.Account.Email, res.Account.CID)
				names := make([]string, 0, len(res.Affected))
				for n := range res.Affected {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(a.stdout, "  removed from %s's %s\n", n, listNames(res.Affected[n]))
				}
				return nil
			})
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "really delete")
	return del
}

// listNames spells list bits as FL, AL, BL, RL, PL.
func listNames(bits int) string {
	var out []string
	for _, l := range []struct {
		bit  int
		name string
	}{{listbits.FL, "FL"}, {listbits.AL, "AL"}, {listbits.BL, "BL"}, {listbits.RL, "RL"}, {listbits.PL, "PL"}} {
		if bits&l.bit != 0 {
			out = append(out, l.name)
		}
	}
	if len(out) == 0 {
		return "address book"
	}
	return strings.Join(out, ", ")
}
