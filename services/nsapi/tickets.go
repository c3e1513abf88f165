package nsapi

import "github.com/gin-gonic/gin"

// verifyTicket checks a ticket for the NS.
func (a *API) verifyTicket(c *gin.Context) { notImplemented(c) }
