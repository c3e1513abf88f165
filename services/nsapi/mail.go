package nsapi

import "github.com/gin-gonic/gin"

func (a *API) getMailData(c *gin.Context) { notImplemented(c) }
