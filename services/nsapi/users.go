package nsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// What the NS needs about a signed-in user (PROTOCOL.md §8): the profile MSG
// fields (B3), the lists (B7, B9), privacy (B6) and the watchers presence
// fans out to; plus PRP MFN (B8) and BLP (B6) writes. docs/events.md
// documents the JSON.

// Profile is the data of the text/x-msmsgsprofile MSG (PROTOCOL.md §8 B3).
// The NS decodes this JSON with nsclient, so both sides share one type.
type Profile = nsclient.Profile

// Privacy is an account's BLP and GTC settings.
type Privacy struct {
	BLP string `json:"blp"`
	GTC string `json:"gtc"`
}

// Watchers answers "who may see this account's presence".
type Watchers = nsclient.Watchers

// maxJSONBody caps NS API request bodies.
const maxJSONBody = 16 << 10

// apiError writes the JSON error shape of the NS API.
func apiError(c *gin.Context, status int, code, msg string) {
	c.AbortWithStatusJSON(status, gin.H{"error": code, "message": msg})
}

// fail translates a store error: unknown account 404, invalid input 400,
// anything else 500 (logged, shown generically).
func (s *service) fail(c *gin.Context, err error) {
	switch models.ErrorCode(err) {
	case models.CodeNotFound:
		apiError(c, http.StatusNotFound, "not_found", "no such user")
	case models.CodeInvalidEmail:
		apiError(c, http.StatusBadRequest, "bad_request", "malformed e-mail address")
	case models.CodeBadRequest:
		var me *models.Error
		errors.As(err, &me)
		apiError(c, http.StatusBadRequest, "bad_request", me.Message)
	default:
		s.deps.Log.Error("ns api", "path", c.FullPath(), "error", err)
		apiError(c, http.StatusInternalServerError, "internal", "internal error")
	}
}

// account loads the :email account or answers 400/404.
func (s *service) account(c *gin.Context) (*models.Account, bool) {
	acct, err := s.deps.Store.AccountByEmail(c.Request.Context(), c.Param("email"))
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return acct, true
}

// decode reads a JSON object body into v, refusing unknown fields, trailing
// data, oversized bodies and invalid UTF-8 with 400.
func decode(c *gin.Context, v any) bool {
	raw, ok := readStrict(c) // strict.go
	if !ok {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		apiError(c, http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error())
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		apiError(c, http.StatusBadRequest, "bad_request", "body must hold one JSON object")
		return false
	}
	return true
}

func (s *service) profile(ctx context.Context, acct *models.Account) (Profile, error) {
	psm, err := s.deps.Store.PersonalStatus(ctx, acct.ID)
	if err != nil {
		return Profile{}, err
	}
	puid := acct.PUIDUnsigned()
	return Profile{
		Email: acct.Email, CID: acct.CID, PUID: puid,
		MemberIDHigh: uint32(puid >> 32), MemberIDLow: uint32(puid),
		DisplayName: acct.DisplayName, PersonalMessage: psm,
		MSPAuth: s.deps.Tickets.Issue(acct.ID, acct.TokenVersion, auth.AudMessenger).T,
		BLP:     acct.BLP, GTC: acct.GTC, Disabled: acct.Disabled,
		Created: acct.CreatedAt.UTC(), Revision: models.FormatRevision(acct.Revision),
		ListVersion: acct.ListVersion,
	}, nil
}

// writeProfile answers acct's profile.
func (s *service) writeProfile(c *gin.Context, acct *models.Account) {
	p, err := s.profile(c.Request.Context(), acct)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// getProfile answers the profile MSG fields, with a fresh MSPAuth.
func (s *service) getProfile(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	s.writeProfile(c, acct)
}

// putProfile is PRP MFN: {"display_name": "..."}.
func (s *service) putProfile(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	var body struct {
		DisplayName *string `json:"display_name"`
	}
	if !decode(c, &body) {
		return
	}
	if body.DisplayName == nil {
		apiError(c, http.StatusBadRequest, "bad_request", "display_name is required")
		return
	}
	updated, err := s.deps.Store.SetDisplayName(c.Request.Context(), acct.ID, *body.DisplayName)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.writeProfile(c, updated)
}

// getLists answers the account's contacts with FL/AL/BL/RL/PL bits, and its groups.
func (s *service) getLists(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	l, err := s.lists(c.Request.Context(), acct)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, l)
}

// lists reads acct's lists. The version and privacy are acct's as the
// caller read it, before the rows: a change racing the read leaves a
// version older than the rows, so the next SYN is a full one rather than a
// short answer that hides the change.
func (s *service) lists(ctx context.Context, acct *models.Account) (*nsclient.Lists, error) {
	rows, err := s.deps.Store.ListRows(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	zero, err := s.deps.Store.SynGroupZero(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	l := lists(rows, zero)
	l.Version, l.Revision, l.BLP, l.GTC = acct.ListVersion, models.FormatRevision(acct.Revision), acct.BLP, acct.GTC
	return l, nil
}

// getPrivacy answers BLP and GTC.
func (s *service) getPrivacy(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, Privacy{BLP: acct.BLP, GTC: acct.GTC})
}

// putPrivacy is the BLP command: {"blp": "AL"|"BL"} (and/or "gtc": "A"|"N").
func (s *service) putPrivacy(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	var body Privacy
	if !decode(c, &body) {
		return
	}
	updated, err := s.deps.Store.SetPrivacy(c.Request.Context(), acct.ID, body.BLP, body.GTC)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, nsclient.Privacy{BLP: updated.BLP, GTC: updated.GTC, Version: updated.ListVersion})
}

// getWatchers answers who has the account on their FL and whether each may
// see its presence (PROTOCOL.md §5.4).
func (s *service) getWatchers(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	ws, err := s.deps.Store.Watchers(c.Request.Context(), acct)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, Watchers{Email: acct.Email, BLP: acct.BLP, Watchers: watchers(ws)})
}
