package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func init() {
	extraCommands = append(extraCommands, func(a *app) *cobra.Command {
		var url string
		var timeout time.Duration
		c := &cobra.Command{
			Use:   "health [--url URL]",
			Short: "Exit 0 when the local abch serve answers /readyz (for a Docker HEALTHCHECK)",
			Long: "health asks the running server's /readyz (database reachable) on ABCH_HTTP_ADDR\n" +
				"(a wildcard host is asked on loopback) and exits 0 when it answers 200, 1\n" +
				"otherwise. It needs no shell or curl, so it works as the HEALTHCHECK of the\n" +
				"distroless image.",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if url == "" {
					host, port, err := net.SplitHostPort(a.cfg.HTTPAddr)
					if err != nil {
						return fmt.Errorf("ABCH_HTTP_ADDR %q: %w", a.cfg.HTTPAddr, err)
					}
					if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
						host = "127.0.0.1"
					}
					url = "http://" + net.JoinHostPort(host, port) + "/readyz"
				}
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return err
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return fmt.Errorf("unhealthy: %w", err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("unhealthy: %s answered %d %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
				}
				fmt.Fprintf(a.stdout, "healthy: %s\n", strings.TrimSpace(string(body)))
				return nil
			},
		}
		c.Flags().StringVar(&url, "url", "", "readiness URL (default: /readyz on ABCH_HTTP_ADDR)")
		c.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
		return c
	})
}
