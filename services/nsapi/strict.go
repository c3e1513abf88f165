package nsapi

import (
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/strictjson"
)

// readStrict reads the request body (at most maxJSONBody bytes) and refuses
// with 400 bad_request what encoding/json would otherwise repair silently:
// invalid UTF-8 and unpaired surrogate escapes would be stored as U+FFFD
// (docs/events.md: a malformed body is a 400).
func readStrict(c *gin.Context) ([]byte, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxJSONBody))
	if err != nil {
		apiError(c, http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error())
		return nil, false
	}
	if err := strictjson.Check(raw); err != nil {
		apiError(c, http.StatusBadRequest, "bad_request", err.Error())
		return nil, false
	}
	return raw, true
}
