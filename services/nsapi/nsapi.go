// Package nsapi is the NS-facing JSON API on ABCH_NS_ADDR: ticket checks at
// sign-in, the lists and privacy settings the NS needs for presence, and the
// initial mail data. Every call carries "Authorization: Bearer <ABCH_NS_KEY>".
package nsapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Store is the storage the NS API uses (*store.Store).
type Store interface {
	AccountByEmail(ctx context.Context, email string) (*models.Account, error)
	AccountByID(ctx context.Context, id int64) (*models.Account, error)
	SetDisplayName(ctx context.Context, accountID int64, name string) (*models.Account, error)
	SetPrivacy(ctx context.Context, accountID int64, blp, gtc string) (*models.Account, error)
	ListRows(ctx context.Context, accountID int64) (*store.ListRows, error)
	Watchers(ctx context.Context, target *models.Account) ([]store.Watcher, error)
	OfflineMessages(ctx context.Context, recipientID int64) ([]models.OfflineMessage, error)
	PersonalStatus(ctx context.Context, accountID int64) (string, error)
	SynStore
}

// Deps are the NS API's dependencies.
type Deps struct {
	Store   Store
	Auth    *auth.Authenticator
	Tickets *auth.Ticketer
	Key     string // ABCH_NS_KEY: the bearer key every call carries
	Log     *slog.Logger
}

// service is the NS-facing handler set.
type service struct {
	deps Deps
}

// New returns the NS API as an http.Handler.
func New(deps Deps) http.Handler {
	s := &service{deps: deps}
	r := gin.New()
	r.Use(gin.Recovery())
	v1 := r.Group("/ns/v1", s.requireKey)
	s.routes(v1)
	return r
}

// routes is the NS API route table. Each handler lives in the file of its
// area: tickets.go, users.go, mail.go.
func (s *service) routes(g *gin.RouterGroup) {
	g.POST("/tickets/verify", s.verifyTicket)      // USR TWN S / USR SSO S
	g.GET("/users/:email/profile", s.getProfile)   // profile MSG fields
	g.PUT("/users/:email/profile", s.putProfile)   // PRP MFN
	g.GET("/users/:email/lists", s.getLists)       // FL/AL/BL/RL/PL in MSNP terms
	g.GET("/users/:email/privacy", s.getPrivacy)   // BLP, GTC
	g.PUT("/users/:email/privacy", s.putPrivacy)   // BLP command
	g.GET("/users/:email/watchers", s.getWatchers) // who may see this account's presence
	g.GET("/users/:email/maildata", s.getMailData) // initial OIM Mail-Data
	// SYN-era list writes (synlists.go, docs/events.md §7.1).
	g.POST("/users/:email/lists/add", s.addToList)             // ADD / ADC
	g.POST("/users/:email/lists/remove", s.removeFromList)     // REM
	g.POST("/users/:email/groups", s.addGroup)                 // ADG
	g.PUT("/users/:email/groups/:group", s.renameGroup)        // REG
	g.DELETE("/users/:email/groups/:group", s.removeGroup)     // RMG
	g.PUT("/users/:email/contacts/:contact", s.setContactName) // SBP MFN / REA of a contact
}

// requireKey checks the bearer key in constant time; a missing or wrong key is
// 401. With no key configured the API refuses everything.
func (s *service) requireKey(c *gin.Context) {
	want := s.deps.Key
	got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthorized", "message": "missing or wrong NS key"})
		return
	}
	c.Next()
}
