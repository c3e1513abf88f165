package nsapi

import "github.com/gin-gonic/gin"

func (a *API) getProfile(c *gin.Context)  { notImplemented(c) }
func (a *API) putProfile(c *gin.Context)  { notImplemented(c) }
func (a *API) getLists(c *gin.Context)    { notImplemented(c) }
func (a *API) getPrivacy(c *gin.Context)  { notImplemented(c) }
func (a *API) putPrivacy(c *gin.Context)  { notImplemented(c) }
func (a *API) getWatchers(c *gin.Context) { notImplemented(c) }
