// Command abch is the contact-list backend for MSN revival networks.
package main

import (
	"os"

	"github.com/abch-im/abch/internal/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
