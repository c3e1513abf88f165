package config

import (
	"strings"
	"testing"
	"time"
)

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	t.Run("defaults validate", func(t *testing.T) {
		c, err := fromLookup(lookupFrom(nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.HTTPAddr != "127.0.0.1:8080" || c.NSAddr != "127.0.0.1:8090" || c.DataDir != "./abch-data" || c.MaxBodyBytes != 1<<20 {
			t.Errorf("defaults: %+v", c)
		}
	})
	t.Run("environment overrides", func(t *testing.T) {
		c, err := fromLookup(lookupFrom(map[string]string{
			"ABCH_DATABASE_URL": "postgres://u:pw@h/db", "ABCH_TICKET_LIFETIME": "48h", "ABCH_MAX_CONTACTS": "5",
			"ABCH_AB_CACHE_BYTES": "0", "ABCH_SHARING_CACHE_BYTES": "1048576",
			"ABCH_OIM_SEND_LIMIT": "0", "ABCH_OIM_SEND_WINDOW": "30s",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if !c.IsPostgres() || c.TicketLifetime != 48*time.Hour || c.MaxContacts != 5 || c.ABCacheBytes != 0 || c.SharingCacheBytes != 1<<20 ||
			c.OIMSendLimit != 0 || c.OIMSendWindow != 30*time.Second {
			t.Errorf("overrides not applied: %+v", c)
		}
		if r := c.Redacted(); strings.Contains(r.DatabaseURL, "pw") {
			t.Errorf("password not redacted: %s", r.DatabaseURL)
		}
	})
	t.Run("bad values are errors", func(t *testing.T) {
		if _, err := fromLookup(lookupFrom(map[string]string{"ABCH_MAX_CONTACTS": "many"})); err == nil {
			t.Error("non-numeric limit accepted")
		}
		c := Defaults()
		c.TicketLifetime = time.Hour
		if err := c.Validate(); err == nil {
			t.Error("ticket lifetime under 24h accepted")
		}
		c = Defaults()
		c.DatabaseURL = "mysql://x"
		if err := c.Validate(); err == nil {
			t.Error("non-postgres URL accepted")
		}
		c = Defaults()
		c.ABCacheBytes = -1
		if err := c.Validate(); err == nil {
			t.Error("negative cache size accepted")
		}
		c = Defaults()
		c.OIMSendWindow = 0
		if err := c.Validate(); err == nil {
			t.Error("empty OIM send window accepted")
		}
		c = Defaults()
		c.HTTPSAddr = ":443"
		if err := c.Validate(); err == nil {
			t.Error("TLS listener without certificate accepted")
		}
	})
}
