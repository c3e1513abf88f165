// Package nsapi is the NS-facing JSON API on ABCH_NS_ADDR: ticket checks at
// sign-in, the lists and privacy settings the NS needs for presence, and the
// initial mail data. Every call carries "Authorization: Bearer <ABCH_NS_KEY>".
package nsapi

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/services/soap"
)

// API is the NS-facing handler set.
type API struct {
	d soap.Deps
}

// New returns the NS API as an http.Handler.
func New(d soap.Deps) http.Handler {
	a := &API{d: d}
	r := gin.New()
	r.Use(gin.Recovery())
	v1 := r.Group("/ns/v1", a.requireKey)
	a.routes(v1)
	return r
}

// routes is the NS API route table. Each handler lives in the file of its
// area: tickets.go, users.go, mail.go.
func (a *API) routes(g *gin.RouterGroup) {
	g.POST("/tickets/verify", a.verifyTicket)      // USR TWN S / USR SSO S
	g.GET("/users/:email/profile", a.getProfile)   // profile MSG fields
	g.PUT("/users/:email/profile", a.putProfile)   // PRP MFN
	g.GET("/users/:email/lists", a.getLists)       // FL/AL/BL/RL/PL in MSNP terms
	g.GET("/users/:email/privacy", a.getPrivacy)   // BLP, GTC
	g.PUT("/users/:email/privacy", a.putPrivacy)   // BLP command
	g.GET("/users/:email/watchers", a.getWatchers) // who may see this account's presence
	g.GET("/users/:email/maildata", a.getMailData) // initial OIM Mail-Data
}

// requireKey checks the bearer key in constant time; a missing or wrong key is
// 401. With no key configured the API refuses everything.
func (a *API) requireKey(c *gin.Context) {
	want := a.d.Config.NSKey
	got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	if !ok || want == "" || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "unauthorized", "message": "missing or wrong NS key"})
		return
	}
	c.Next()
}
