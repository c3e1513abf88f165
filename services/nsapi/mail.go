package nsapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// mailDataResponse is the answer of GET /ns/v1/users/:email/maildata.
type mailDataResponse struct {
	// Payload is the whole body of the MSG Hotmail Hotmail the NS sends
	// after sign-in (text/x-msmsgsinitialmdatanotification, PROTOCOL.md
	// §7.2): the NS writes "MSG Hotmail Hotmail <len(Payload)>\r\n" + Payload.
	Payload string `json:"payload"`
	// Count is the number of stored offline messages.
	Count int `json:"count"`
}

// getMailData returns the initial Mail-Data of an account: inline up to
// events.MailDataInlineMax messages, the literal "too-large" beyond (clients
// then call RSI GetMetadata). Unknown accounts are 404.
func (s *service) getMailData(c *gin.Context) {
	ctx := c.Request.Context()
	acct, err := s.deps.Store.AccountByEmail(ctx, c.Param("email"))
	if err != nil {
		switch models.ErrorCode(err) {
		case models.CodeNotFound, models.CodeInvalidEmail:
			c.JSON(http.StatusNotFound, gin.H{"error": "not_found", "message": "no such account"})
		default:
			s.deps.Log.Error("nsapi maildata", "error", err)
			c.JSON(http.StatusInternalServerError, gin.H{"error": "internal", "message": "internal error"})
		}
		return
	}
	list, err := s.deps.Store.OfflineMessages(ctx, acct.ID)
	if err != nil {
		s.deps.Log.Error("nsapi maildata", "error", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "internal", "message": "internal error"})
		return
	}
	msgs := make([]events.MailMessage, len(list))
	for i := range list {
		msgs[i] = store.MailMessageOf(&list[i])
	}
	c.JSON(http.StatusOK, mailDataResponse{Payload: events.InitialMailDataPayload(msgs), Count: len(msgs)})
}
