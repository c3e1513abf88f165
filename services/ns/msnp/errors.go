package msnp

import "strconv"

// Error numbers an MSNP server sends as "<code> <trid>" (error.c in pidgin's
// libpurple/protocols/msn maps each to the text the user sees; PROTOCOL.md
// §4.2 for the ADL/RML ones).
const (
	ErrSyntax              = 200 // syntax error: unknown command, bad argument count, bad trid
	ErrInvalidParameter    = 201 // invalid parameter (bad status, bad UTF-8 …); pidgin says "Invalid email address"
	ErrInvalidNetwork      = 204 // ADL: network id out of range
	ErrInvalidUser         = 205 // invalid principal (e-mail not a valid sign-in name)
	ErrDomainMissing       = 206 // domain name missing
	ErrAlreadyLoggedIn     = 207 // already signed in (USR twice)
	ErrInvalidUsername     = 208 // invalid principal / unknown user (ADL, ESC InvalidUser2)
	ErrInvalidFriendly     = 209 // friendly name change illegal (PRP MFN too long, bad)
	ErrListFull            = 210 // list full
	ErrAlreadyOnList       = 215 // principal already on list
	ErrNotOnList           = 216 // principal not on list
	ErrNotOnline           = 217 // principal not online
	ErrAlreadyInMode       = 218 // already in that mode
	ErrInOppositeList      = 219 // principal is in the opposite list (AL vs BL)
	ErrTooManyGroups       = 223 // too many groups
	ErrInvalidGroup        = 224 // invalid group
	ErrPageRefused         = 220 // PAG: not allowed to page the principal, or a malformed page (msnp8-miscellaneous seed)
	ErrNotInGroup          = 225 // principal not in group
	ErrGroupNotEmpty       = 227 // group not empty
	ErrGroupExists         = 228 // group with that name exists
	ErrGroupNameTooLong    = 229 // group name too long
	ErrGroupZero           = 230 // cannot remove group zero
	ErrADLEmpty            = 240 // ADL/RML: empty payload / domain without contacts
	ErrADLInvalid          = 241 // ADL/RML: malformed XML, bad names, bad list bits
	ErrSwitchboardFailed   = 280 // switchboard failed (XFR SB not available)
	ErrTransferFailed      = 281 // transfer to switchboard failed
	ErrRequiredField       = 300 // required field missing
	ErrNotLoggedIn         = 302 // command before authentication
	ErrInternal            = 500 // internal server error
	ErrDatabase            = 501 // database server error
	ErrCommandDisabled     = 502 // command disabled
	ErrMobileFailure       = 509 // UPS failure sending a mobile message (carries a payload)
	ErrChallenge           = 540 // challenge response failed (QRY)
	ErrServerBusy          = 600 // server is busy
	ErrUnavailable         = 601 // server is unavailable
	ErrGoingDown           = 604 // server is going down
	ErrCreateConnection    = 707 // could not create connection
	ErrBadCVR              = 710 // bad CVR parameters
	ErrWriteBlocking       = 711 // write is blocking
	ErrSessionOverload     = 712 // session is overloaded
	ErrTooRapid            = 713 // calling too rapidly
	ErrTooManySessions     = 714 // too many sessions
	ErrNotExpected         = 715 // "not expected"; pidgin 2.4.3 and 2.10.1 pop up "Passport not verified" (error.c)
	ErrBadFriendFile       = 717 // bad friend file
	ErrNotExpectedCVR      = 731 // not expected; pidgin logs it only (error.c: debug)
	ErrChangingTooRapid    = 800 // pidgin: "Friendly name is changing too rapidly"
	ErrServerTooBusy       = 910 // server too busy
	ErrAuthFailed          = 911 // authentication failed
	ErrNotAllowedOffline   = 913 // not allowed when offline (HDN)
	ErrNotAcceptingNew     = 920 // not accepting new principals
	ErrKidsWithoutConsent  = 923 // Kids Passport without parental consent
	ErrPassportNotVerified = 924 // Passport account not yet verified
	ErrBadTicket           = 928 // bad ticket
)

// Error is a protocol error: the number to send, the transaction id it
// answers (empty when the line had none that could be trusted) and whether
// the stream is lost. Fatal errors (overlong line, bad payload length) leave
// the reader unable to find the next command: the server writes the error
// line (when TrID is set) and closes the connection.
type Error struct {
	Code  int    // error number (Err* constants)
	TrID  string // transaction id it answers, "" for none
	Fatal bool   // the stream is lost: write the line and close
	Msg   string // why, for logs (never sent)
}

// Error implements error.
func (e *Error) Error() string {
	s := "msnp " + strconv.Itoa(e.Code)
	if e.TrID != "" {
		s += " (trid " + e.TrID + ")"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Line is the error line to send for e ("<code> <trid>\r\n"), or nil when e
// carries no transaction id.
func (e *Error) Line() []byte {
	if e.TrID == "" {
		return nil
	}
	return AppendError(nil, e.Code, e.TrID)
}

// LineFor is Line for a session of protocol version (see AppendErrorFor).
func (e *Error) LineFor(version int) []byte {
	if e.TrID == "" {
		return nil
	}
	return AppendErrorFor(nil, e.Code, e.TrID, version)
}

func errorf(code int, trid string, fatal bool, msg string) *Error {
	return &Error{Code: code, TrID: trid, Fatal: fatal, Msg: msg}
}
