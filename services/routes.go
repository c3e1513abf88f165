// Package services is the route table: every SOAP service abch serves, each
// with its paths and operations (see each package's New), and the NS API.
// It is the one place that hands the concrete store to the services; each
// service declares the small interface it uses (its Store).
package services

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/services/ab"
	"github.com/abch-im/abch/services/nsapi"
	"github.com/abch-im/abch/services/oim"
	"github.com/abch-im/abch/services/passport"
	"github.com/abch-im/abch/services/sharing"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/services/storage"
)

// Deps are the concrete values the services are built from (the server
// opens them once; tests reach the store and the ticketer through them).
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Tickets  *auth.Ticketer
	Auth     *auth.Authenticator
	Throttle *auth.Throttle
	Log      *slog.Logger
}

// SOAP returns the client-facing SOAP services.
func SOAP(d Deps) []*soap.Service {
	oimDeps := oim.Deps{Store: d.Store, Auth: d.Auth, Tickets: d.Tickets, Config: d.Config, Log: d.Log,
		Now: func() time.Time { return d.Store.Now() }, NewGUID: func() string { return d.Store.NewGUID() }}
	return []*soap.Service{
		// /RST.srf, /RST2.srf
		passport.New(passport.Deps{Store: d.Store, Tickets: d.Tickets, Throttle: d.Throttle, Config: d.Config, Log: d.Log}),
		// /abservice/abservice.asmx
		ab.New(ab.Deps{Store: d.Store, ABEndpoint: abEndpoint(d, d.Config.ABCacheBytes)}),
		// /abservice/SharingService.asmx
		sharing.New(sharing.Deps{Store: d.Store, ABEndpoint: abEndpoint(d, d.Config.SharingCacheBytes)}),
		oim.NewStore(oimDeps), // /OimWS/oim.asmx
		oim.NewRSI(oimDeps),   // /rsi/rsi.asmx
		// /storageservice/SchematizedStore.asmx
		storage.New(storageDeps(d)),
	}
}

// Tweener returns Passport 1.4 for MSNP8–12 clients: GET /rdr/pprdr.asp
// (the nexus) and GET on the path of ABCH_PASSPORT_DALOGIN (/login2.srf).
func Tweener(d Deps) *passport.Tweener {
	return passport.NewTweener(passport.Deps{Store: d.Store, Tickets: d.Tickets, Throttle: d.Throttle, Config: d.Config, Log: d.Log})
}

// abEndpoint is the AB or Sharing service's part of d.
func abEndpoint(d Deps, cacheBytes int) soap.ABEndpoint {
	return soap.ABEndpoint{Auth: soap.ABAuth{Auth: d.Auth}, Hostname: d.Config.Hostname, CacheBytes: cacheBytes, StoredAnswers: d.Config.StoredAnswers == "on"}
}

// NS returns the NS-facing JSON API (ABCH_NS_ADDR).
func NS(d Deps) http.Handler {
	return nsapi.New(nsapi.Deps{Store: d.Store, Auth: d.Auth, Tickets: d.Tickets, Key: d.Config.NSKey, Log: d.Log})
}

// storageDeps is the Storage service's part of d.
func storageDeps(d Deps) storage.Deps {
	return storage.Deps{Store: d.Store, Auth: d.Auth, Log: d.Log}
}

// Files serves the display pictures the Storage service stores, under
// storage.TilePrefix.
func Files(d Deps) (prefix string, h http.Handler) {
	return storage.TilePrefix, storage.Files(storageDeps(d))
}
