// Package oim is Offline IM: the OIM Store service (/OimWS/oim.asmx), where
// a client leaves a message for an offline contact, and RSI
// (/rsi/rsi.asmx), where the recipient lists, reads and deletes them
// (PROTOCOL.md §7, clients/RST_OIM.md Parts 2 and 3).
package oim

import (
	"context"
	"log/slog"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// Namespaces and addresses of the OIM services.
const (
	// NSOIM2006 is the MSNP15 Store2 SOAPAction prefix; request bodies stay in
	// the 2004 namespace (soap.NSOIM) either way.
	NSOIM2006 = "http://messenger.live.com/ws/2006/09/oim/"
	// StoreActor and RSIActor are the faultactor values of the real services.
	StoreActor = "https://ows.messenger.msn.com/OimWS/oim.asmx"
	RSIActor   = "https://rsi.hotmail.com/rsi/rsi.asmx"
	// rmIdentifier is the WS-RM sequence every client names.
	rmIdentifier = "http://messenger.msn.com"
)

// StoreAudiences are the tickets Store accepts in Ticket/@passport: the
// messengersecure.live.com (MBI_SSL) ticket of MSNP15 clients and the
// messenger.msn.com (TWN) ticket of MSNP13/14 ones (RST_OIM.md §2.1).
var StoreAudiences = []auth.Audience{auth.AudMessengerSecure, auth.AudMessenger}

// RSIAudiences are the tickets RSI accepts in PassportCookie: only the
// messenger.msn.com ticket, which every client sends there (RST_OIM.md §3.1).
var RSIAudiences = []auth.Audience{auth.AudMessenger}

// Store is the storage the OIM services use (*store.Store).
type Store interface {
	AccountByID(ctx context.Context, id int64) (*models.Account, error)
	AccountByEmail(ctx context.Context, email string) (*models.Account, error)
	CountOIMSend(ctx context.Context, senderID int64, limit int, window time.Duration) error
	StoreOfflineMessage(ctx context.Context, sender, recipient *models.Account, m *models.OfflineMessage, maxPerRecipient int) error
	OfflineMessages(ctx context.Context, recipientID int64) ([]models.OfflineMessage, error)
	OfflineMessage(ctx context.Context, recipientID int64, guid string, markRead bool) (*models.OfflineMessage, error)
	DeleteOfflineMessages(ctx context.Context, owner *models.Account, ids []string) ([]string, error)
}

// Deps are the OIM services' dependencies. Now and NewGUID are the store's
// clock and id source (golden files pin them).
type Deps struct {
	Store   Store
	Auth    *auth.Authenticator
	Tickets *auth.Ticketer
	Config  config.Config // OIM limits
	Log     *slog.Logger
	Now     func() time.Time
	NewGUID func() string
}

// NewStore returns the OIM Store service. Its body has no operation
// element, so the operation comes from the SOAPAction: …/oim/Store
// (MSNP13) or …/oim/Store2 (MSNP15, also the default when the header is
// missing or unknown).
func NewStore(deps Deps) *soap.Service {
	s := &storeService{deps: deps}
	return &soap.Service{
		Name:  "oim",
		Paths: []string{"/OimWS/oim.asmx"},
		Ops:   map[string]soap.Handler{"Store": s.store, "Store2": s.store},
		OpFor: storeOp,
		Fault: storeFault,
		WSDL:  wsdl.OIM,
	}
}

// NewRSI returns the RSI service.
func NewRSI(deps Deps) *soap.Service {
	s := &rsiService{deps: deps}
	return &soap.Service{
		Name:  "rsi",
		Paths: []string{"/rsi/rsi.asmx"},
		Ops: map[string]soap.Handler{
			"GetMetadata":    s.getMetadata,
			"GetMessage":     s.getMessage,
			"DeleteMessages": s.deleteMessages,
		},
		Fault: rsiFault,
		WSDL:  wsdl.RSI,
	}
}

// storeOp names the Store operation from the SOAPAction.
func storeOp(r *soap.Request) string {
	if soap.ActionName(r.Action) == "Store" {
		return "Store"
	}
	return "Store2"
}
