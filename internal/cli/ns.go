package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/abch-im/abch/internal/server"
)

func init() {
	extraCommands = append(extraCommands, func(a *app) *cobra.Command { return a.nsCmd() })
}

// nsCmd is `abch ns`: a Notification Server alone, paired with a remote
// abch through its NS API (ABCH_NS_API_URL, ABCH_NS_KEY) and NATS
// (ABCH_NATS_URL). Several may share one abch and one NATS (docs/ns.md).
func (a *app) nsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ns",
		Short: "Run a Notification Server (MSNP13/15) paired with a remote abch",
		Long: "Listens on ABCH_MSNP_ADDR and pairs with abch only through its public contract:\n" +
			"the NS API at ABCH_NS_API_URL (with ABCH_NS_KEY) and the events on ABCH_NATS_URL\n" +
			"(default: the embedded broker's ABCH_NATS_LISTEN). SIGTERM sends OUT SSD to every\n" +
			"session and waits for them to drain.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg := a.cfg
			if cfg.NSAPIURL == "" || cfg.NSKey == "" {
				return errors.New("abch ns needs ABCH_NS_API_URL and ABCH_NS_KEY")
			}
			if !cfg.MSNPEnabled() {
				return errors.New("abch ns needs ABCH_MSNP_ADDR")
			}
			natsURL, err := natsClientURL(cfg.NATSURL, cfg.NATSListen)
			if err != nil {
				return err
			}
			log := a.logger()
			n, err := server.StartNS(cfg, cfg.NSAPIURL, natsURL, log)
			if err != nil {
				return err
			}
			log.Info("abch ns listening", "msnp", n.Addr, "api", cfg.NSAPIURL, "nats", natsURL)
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err = n.Close(ctx)
			log.Info("abch ns stopped")
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&a.cfg.MSNPAddr, "msnp-addr", a.cfg.MSNPAddr, "MSNP listener (ABCH_MSNP_ADDR)")
	f.StringVar(&a.cfg.NSAPIURL, "api-url", a.cfg.NSAPIURL, "NS API of the abch to pair with (ABCH_NS_API_URL)")
	return c
}
