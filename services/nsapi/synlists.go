package nsapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

// The list writes of SYN-era sessions (docs/events.md §7.1): each handler
// decodes the command into a store.SynListWrite, calls the store (one
// transaction, the SOAP operation's rules and events) and answers the
// state after it. A refusal is 422 with the MSNP error number.

// SynStore is the storage of the SYN-era list writes (*store.Store).
type SynStore interface {
	SynAdd(ctx context.Context, ownerID int64, w store.SynListWrite) (*store.SynResult, error)
	SynRemove(ctx context.Context, ownerID int64, w store.SynListWrite) (*store.SynResult, error)
	SynAddGroup(ctx context.Context, ownerID int64, name string) (*store.SynResult, error)
	SynRemoveGroup(ctx context.Context, ownerID int64, ref store.SynGroupRef) (*store.SynResult, error)
	SynRenameGroup(ctx context.Context, ownerID int64, ref store.SynGroupRef, name string) (*store.SynResult, error)
	SynSetContactName(ctx context.Context, ownerID int64, guid, address, name string) (*store.SynResult, error)
	SynGroupZero(ctx context.Context, ownerID int64) (map[int64]bool, error)
}

// msnpError is a refusal: its MSNP number and the JSON error name.
type msnpError struct {
	number int
	name   string
}

var (
	errInvalidParameter    = msnpError{nsclient.ErrInvalidParameter, "invalid_parameter"}
	errInvalidUser         = msnpError{nsclient.ErrInvalidUser, "invalid_user"}
	errInvalidUserName     = msnpError{nsclient.ErrInvalidUserName, "invalid_user_name"}
	errInvalidFriendlyName = msnpError{nsclient.ErrInvalidFriendlyName, "invalid_friendly_name"}
	errListFull            = msnpError{nsclient.ErrListFull, "list_full"}
	errAlreadyThere        = msnpError{nsclient.ErrAlreadyThere, "already_there"}
	errNotOnList           = msnpError{nsclient.ErrNotOnList, "not_on_list"}
	errOppositeList        = msnpError{nsclient.ErrOppositeList, "opposite_list"}
	errTooManyGroups       = msnpError{nsclient.ErrTooManyGroups, "too_many_groups"}
	errInvalidGroup        = msnpError{nsclient.ErrInvalidGroup, "invalid_group"}
	errNotInGroup          = msnpError{nsclient.ErrNotInGroup, "not_in_group"}
	errGroupExists         = msnpError{nsclient.ErrGroupExists, "group_exists"}
	errGroupNameTooLong    = msnpError{nsclient.ErrGroupNameTooLong, "group_name_too_long"}
	errGroupZero           = msnpError{nsclient.ErrGroupZero, "group_zero"}
)

// opKind selects the meaning of the codes that differ between commands.
type opKind int

const (
	opList  opKind = iota // ADD/ADC/REM
	opGroup               // ADG/RMG/REG
	opName                // SBP/REA
)

// msnpFor maps a store error of a SYN-era write to its MSNP error, or
// false for errors that are not a refusal (500).
func msnpFor(kind opKind, err error) (msnpError, bool) {
	switch models.ErrorCode(err) {
	case models.CodeInvalidArgument:
		return errInvalidParameter, true
	case models.CodeInvalidPassportUser, models.CodeUserDoesNotExist:
		return errInvalidUser, true
	case models.CodeInvalidEmail, models.CodeBadEmailArgument:
		return errInvalidUserName, true
	case models.CodeContactAlreadyExists, models.CodeMemberAlreadyExists:
		return errAlreadyThere, true
	case models.CodeContactDoesNotExist, models.CodeMemberDoesNotExist:
		return errNotOnList, true
	case models.CodeOnOppositeList:
		return errOppositeList, true
	case models.CodeGroupDoesNotExist:
		return errInvalidGroup, true
	case models.CodeNotInGroup:
		return errNotInGroup, true
	case models.CodeGroupAlreadyExists:
		return errGroupExists, true
	case models.CodeGroupZero:
		return errGroupZero, true
	case models.CodeBadArgumentLength:
		if kind == opName {
			return errInvalidFriendlyName, true
		}
		return errGroupNameTooLong, true
	case models.CodeRequestLimitReached:
		if kind == opGroup {
			return errTooManyGroups, true
		}
		return errListFull, true
	case models.CodeBadRequest:
		switch kind {
		case opGroup:
			return errGroupNameTooLong, true // an empty name
		case opName:
			return errInvalidFriendlyName, true
		}
		return errInvalidParameter, true
	}
	return msnpError{}, false
}

// refuse answers 422 with e.
func refuse(c *gin.Context, e msnpError, msg string) {
	c.AbortWithStatusJSON(http.StatusUnprocessableEntity, gin.H{"error": e.name, "message": msg, "msnp_error": e.number})
}

// failSyn answers a store error of a SYN-era write.
func (s *service) failSyn(c *gin.Context, kind opKind, err error) {
	if e, ok := msnpFor(kind, err); ok {
		var me *models.Error
		errors.As(err, &me)
		refuse(c, e, me.Message)
		return
	}
	s.fail(c, err)
}

// parseSynGroup reads ListWrite.Group or the :group path segment: "" no
// group, a decimal SYN id, or a GUID.
func parseSynGroup(s string) (store.SynGroupRef, bool) {
	if s == "" {
		return store.SynGroupRef{}, true
	}
	if id, err := strconv.Atoi(s); err == nil {
		if id < 0 || strconv.Itoa(id) != s {
			return store.SynGroupRef{}, false
		}
		return store.SynGroupRef{Given: true, Integer: true, ID: id}, true
	}
	if len(s) > 64 || strings.ContainsAny(s, " \t\r\n") {
		return store.SynGroupRef{}, false
	}
	return store.SynGroupRef{Given: true, GUID: strings.ToLower(s)}, true
}

// listWrite decodes and checks a ListWrite body; false means answered.
func (s *service) listWrite(c *gin.Context) (store.SynListWrite, bool) {
	var body nsclient.ListWrite
	if !decode(c, &body) {
		return store.SynListWrite{}, false
	}
	w := store.SynListWrite{List: strings.ToUpper(body.List), Nickname: body.Nickname}
	switch w.List {
	case store.ListFL, store.ListAL, store.ListBL, store.ListRL, store.ListPL:
	default:
		refuse(c, errInvalidParameter, "list must be FL, AL, BL, RL or PL")
		return w, false
	}
	switch {
	case body.Contact != "" && body.Address != "":
		refuse(c, errInvalidParameter, "give address or contact, not both")
		return w, false
	case body.Contact != "":
		if w.List != store.ListFL {
			refuse(c, errInvalidParameter, "contact GUIDs name FL entries only")
			return w, false
		}
		w.ContactGUID = strings.ToLower(strings.TrimSpace(body.Contact))
	case body.Address != "":
		addr, err := models.NormalizeEmail(body.Address)
		if err != nil {
			refuse(c, errInvalidUserName, err.Error())
			return w, false
		}
		w.Address = addr
	default:
		refuse(c, errInvalidParameter, "address or contact is required")
		return w, false
	}
	g, ok := parseSynGroup(strings.TrimSpace(body.Group))
	if !ok {
		refuse(c, errInvalidGroup, "group must be a SYN id or a group GUID")
		return w, false
	}
	if g.Given && w.List != store.ListFL {
		refuse(c, errInvalidParameter, "only FL entries are in groups")
		return w, false
	}
	w.Group = g
	if len(w.Nickname) > store.MaxDisplayNameBytes || strings.ContainsAny(w.Nickname, "\r\n\x00") {
		refuse(c, errInvalidFriendlyName, "nickname is too long or holds a line break")
		return w, false
	}
	return w, true
}

// addToList is ADD/ADC.
func (s *service) addToList(c *gin.Context) {
	s.listChange(c, true)
}

// removeFromList is REM.
func (s *service) removeFromList(c *gin.Context) {
	s.listChange(c, false)
}

func (s *service) listChange(c *gin.Context, add bool) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	w, ok := s.listWrite(c)
	if !ok {
		return
	}
	if add && w.Address == acct.EmailLower {
		refuse(c, errInvalidParameter, "an account cannot add itself")
		return
	}
	var (
		res *store.SynResult
		err error
	)
	if add {
		res, err = s.deps.Store.SynAdd(c.Request.Context(), acct.ID, w)
	} else {
		res, err = s.deps.Store.SynRemove(c.Request.Context(), acct.ID, w)
	}
	if err != nil {
		s.failSyn(c, opList, err)
		return
	}
	s.writeEntry(c, acct, res)
}

// writeEntry answers a ListWriteResult: the version of res and the entry
// as the lists now show it.
func (s *service) writeEntry(c *gin.Context, acct *models.Account, res *store.SynResult) {
	l, err := s.lists(c.Request.Context(), acct)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := nsclient.ListWriteResult{Version: res.ListVersion, Revision: models.FormatRevision(res.Revision),
		Entry: nsclient.ListEntry{Email: res.Address, Groups: []nsclient.Group{}, SynGroups: []int{}}}
	for _, e := range l.Contacts {
		if e.Email == res.Address {
			out.Entry = e
		}
	}
	c.JSON(http.StatusOK, out)
}

// groupBody is ADG's and REG's body.
type groupBody struct {
	Name *string `json:"name"`
}

// groupName decodes {"name": …}; false means answered.
func groupName(c *gin.Context) (string, bool) {
	var body groupBody
	if !decode(c, &body) {
		return "", false
	}
	if body.Name == nil {
		refuse(c, errGroupNameTooLong, "name is required")
		return "", false
	}
	return *body.Name, true
}

// groupRef reads the :group segment; false means answered.
func groupRef(c *gin.Context) (store.SynGroupRef, bool) {
	ref, ok := parseSynGroup(c.Param("group"))
	if !ok || !ref.Given {
		refuse(c, errInvalidGroup, "group must be a SYN id or a group GUID")
		return ref, false
	}
	return ref, true
}

// addGroup is ADG.
func (s *service) addGroup(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	name, ok := groupName(c)
	if !ok {
		return
	}
	res, err := s.deps.Store.SynAddGroup(c.Request.Context(), acct.ID, name)
	s.writeGroup(c, res, err)
}

// removeGroup is RMG.
func (s *service) removeGroup(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	ref, ok := groupRef(c)
	if !ok {
		return
	}
	res, err := s.deps.Store.SynRemoveGroup(c.Request.Context(), acct.ID, ref)
	s.writeGroup(c, res, err)
}

// renameGroup is REG.
func (s *service) renameGroup(c *gin.Context) {
	acct, ok := s.account(c)
	if !ok {
		return
	}
	ref, ok := groupRef(c)
	if !ok {
		return
	}
	name, ok := groupName(c)
	if !ok {
		return
	}
	res, err := s.deps.Store.SynRenameGroup(c.Request.Context(), acct.ID, ref, name)
	s.writeGroup(c, res, err)
}

func (s *service) writeGroup(c *gin.Context, res *store.SynResult, err error) {
	if err != nil {
		s.failSyn(c, opGroup, err)
		return
	}
	g := res.Group
	c.JSON(http.StatusOK, nsclient.GroupResult{Version: res.ListVersion, Revision: models.FormatRevision(res.Revision),
		Group: nsclient.Group{ID: g.SynID, GUID: g.GUID, Name: g.Name}})
}

// setContactName is SBP <guid> MFN / REA of another contact.
func (s *service) setContactName(c *gin.Context) {
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
		refuse(c, errInvalidFriendlyName, "display_name is required")
		return
	}
	guid, address := "", ""
	if ref := c.Param("contact"); strings.Contains(ref, "@") {
		addr, err := models.NormalizeEmail(ref)
		if err != nil {
			refuse(c, errInvalidUserName, err.Error())
			return
		}
		address = addr
	} else {
		guid = strings.ToLower(ref)
	}
	res, err := s.deps.Store.SynSetContactName(c.Request.Context(), acct.ID, guid, address, *body.DisplayName)
	if err != nil {
		s.failSyn(c, opName, err)
		return
	}
	s.writeEntry(c, acct, res)
}
