package cli

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"
)

// HostGroup is a set of MSN host names clients call, and why.
type HostGroup struct {
	What  string   // one line for the comment above the group
	Names []string // host names, as clients spell them
	NS    bool     // served by the Notification Server, not abch
}

// MSNHosts lists every host name 2006–2009 clients look up, so an operator
// can point all of them at their network: the SOAP hosts abch serves
// (ClientHosts, taken from the captures' soap.jsonl, PROTOCOL.md and
// RST_OIM.md), Passport 1.4's nexus (pidgin 2.2.2, NS_CLIENT_FACTS.md) and
// the Notification Server's names. Switchboards have no fixed name: the NS
// hands out their address in XFR/RNG. daLogin is ABCH_PASSPORT_DALOGIN:
// its host, where MSNP8–12 clients send their password, is listed too (the
// default, login.passport.com, already is; another name needs its line and
// a certificate that covers it: `abch certs --host`).
func MSNHosts(daLogin string) []HostGroup {
	var soapHosts []string
	known := map[string]bool{}
	for _, h := range ClientHosts {
		if h != "localhost" {
			soapHosts = append(soapHosts, h)
			known[h] = true
		}
	}
	groups := []HostGroup{
		{What: "SOAP over HTTPS (Passport RST, Address Book, Sharing, OIM, RSI, storage) and Passport 1.4 (nexus.passport.com, login.passport.com): abch's TLS listener on 443", Names: soapHosts},
	}
	host, _, _ := strings.Cut(daLogin, "/")
	if host = strings.ToLower(host); host != "" && !known[host] {
		groups = append(groups, HostGroup{What: "Passport 1.4 login of MSNP8-12 clients (ABCH_PASSPORT_DALOGIN): abch's TLS listener on 443", Names: []string{host}})
	}
	return append(groups, HostGroup{What: "Notification Server (MSNP on 1863) and its HTTP gateway (port 80, for clients behind proxies)", Names: []string{"messenger.hotmail.com", "gateway.messenger.hotmail.com"}, NS: true})
}

func init() {
	extraCommands = append(extraCommands, func(a *app) *cobra.Command {
		var address, nsAddress, format string
		c := &cobra.Command{
			Use:   "hosts --address IP [--ns-address IP] [--format both|hosts|zone]",
			Short: "Print hosts-file lines and DNS records pointing every MSN host name at this server",
			Long: "hosts prints, for every host name MSN clients call (the SOAP hosts abch serves,\n" +
				"Passport's nexus, the Notification Server's names), a hosts-file line and a DNS\n" +
				"zone record pointing it at --address (the NS names at --ns-address when the NS\n" +
				"runs elsewhere). Switchboards need no name: the NS gives their address in XFR/RNG.\n" +
				"The server certificate of `abch certs` covers every TLS name listed.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ip := net.ParseIP(address)
				if ip == nil {
					return fmt.Errorf("--address must be an IP address (hosts files hold addresses), got %q", address)
				}
				nsIP := ip
				if nsAddress != "" {
					if nsIP = net.ParseIP(nsAddress); nsIP == nil {
						return fmt.Errorf("--ns-address must be an IP address, got %q", nsAddress)
					}
				}
				switch format {
				case "both", "hosts", "zone":
				default:
					return fmt.Errorf("--format must be both, hosts or zone, got %q", format)
				}
				WriteHosts(a.stdout, ip, nsIP, format, a.cfg.PassportDALogin)
				return nil
			},
		}
		c.Flags().StringVar(&address, "address", "", "IP address of the abch server (required)")
		c.Flags().StringVar(&nsAddress, "ns-address", "", "IP address of the Notification Server (default: --address)")
		c.Flags().StringVar(&format, "format", "both", "both, hosts (hosts-file lines only) or zone (DNS records only)")
		return c
	})
}

// WriteHosts prints the hosts-file lines and/or DNS zone records for
// MSNHosts, pointing the abch names at ip and the NS names at nsIP.
func WriteHosts(w io.Writer, ip, nsIP net.IP, format, daLogin string) {
	rr := func(a net.IP) string {
		if a.To4() != nil {
			return "A"
		}
		return "AAAA"
	}
	groups := MSNHosts(daLogin)
	if format != "zone" {
		fmt.Fprintln(w, "# hosts file: C:\\Windows\\System32\\drivers\\etc\\hosts (Windows), /etc/hosts (Linux, macOS)")
		for _, g := range groups {
			fmt.Fprintf(w, "# %s\n", g.What)
			to := ip
			if g.NS {
				to = nsIP
			}
			for _, n := range g.Names {
				fmt.Fprintf(w, "%s %s\n", to, n)
			}
		}
	}
	if format == "both" {
		fmt.Fprintln(w)
	}
	if format != "hosts" {
		fmt.Fprintln(w, "; DNS records (absolute owner names) for the resolver your clients use: Unbound")
		fmt.Fprintln(w, "; local-data, or zone files of your own for these domains")
		for _, g := range groups {
			fmt.Fprintf(w, "; %s\n", strings.ReplaceAll(g.What, "\n", " "))
			to := ip
			if g.NS {
				to = nsIP
			}
			for _, n := range g.Names {
				fmt.Fprintf(w, "%s. 300 IN %s %s\n", n, rr(to), to)
			}
		}
	}
}
