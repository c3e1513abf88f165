// Package models is abch's vocabulary: accounts, contacts, groups, memberships,
// offline messages, change events and error codes. It imports nothing from the
// project and knows nothing about HTTP or XML.
package models

import (
	"errors"
	"fmt"
)

// Code names a failure the way clients know it. SOAP services translate a Code
// into a fault once, through the table in services/soap (faults.go).
type Code string

// Error codes. The AB/Sharing ones are the errorcode values real clients match
// (PROTOCOL.md §2.5, §3.3; clients/RESPONSES.md §2).
const (
	// Generic request problems.
	CodeInternalError       Code = "InternalError"     // anything unexpected; logged, shown generically
	CodeBadRequest          Code = "BadRequest"        // malformed XML, missing element, wrong type
	CodeRequestTooLarge     Code = "RequestTooLarge"   // body over the configured limit
	CodeForbidden           Code = "Forbidden"         // ESC's "API X no longer supported" fault
	CodePassportAuthFail    Code = "PassportAuthFail"  // missing/forged/expired/foreign ticket
	CodeBadArgumentLength   Code = "BadArgumentLength" // a value over its length limit
	CodeRequestLimitReached Code = "RequestLimitReached"

	// Address book.
	CodeABDoesNotExist         Code = "ABDoesNotExist"
	CodeABAlreadyExists        Code = "ABAlreadyExists"
	CodeFullSyncRequired       Code = "FullSyncRequired"
	CodeContactAlreadyExists   Code = "ContactAlreadyExists"
	CodeContactDoesNotExist    Code = "ContactDoesNotExist"
	CodeInvalidPassportUser    Code = "InvalidPassportUser"
	CodeBadEmailArgument       Code = "BadEmailArgument"
	CodeEmailDomainIsFederated Code = "EmailDomainIsFederated"
	CodeGroupAlreadyExists     Code = "GroupAlreadyExists"
	CodeGroupDoesNotExist      Code = "GroupDoesNotExist"
	CodeInvalidArgument        Code = "InvalidArgument"

	// Sharing.
	CodeMemberAlreadyExists Code = "MemberAlreadyExists"
	CodeMemberDoesNotExist  Code = "MemberDoesNotExist"
	CodeUserDoesNotExist    Code = "UserDoesNotExist"
	CodeRoleDoesNotExist    Code = "RoleDoesNotExist"

	// SYN-era list writes (NS API; MSNP errors 219, 225, 230).
	CodeOnOppositeList Code = "OnOppositeList" // ADD AL while on BL or the reverse
	CodeNotInGroup     Code = "NotInGroup"     // REM FL from a group the contact is not in
	CodeGroupZero      Code = "GroupZero"      // RMG 0 / REG 0: group 0 is not stored

	// Passport.
	CodeFailedAuthentication Code = "FailedAuthentication"
	CodeInvalidRequest       Code = "InvalidRequest"

	// Offline IM (faultcode q0:<Code>, RST_OIM.md §2.2).
	CodeAuthenticationFailed        Code = "AuthenticationFailed"
	CodeSystemUnavailable           Code = "SystemUnavailable"
	CodeInvalidContent              Code = "InvalidContent"
	CodeSenderThrottleLimitExceeded Code = "SenderThrottleLimitExceeded"

	// Accounts (command line and store).
	CodeAccountExists   Code = "AccountExists"
	CodeInvalidEmail    Code = "InvalidEmail"
	CodeNotFound        Code = "NotFound"
	CodeInvalidPassword Code = "InvalidPassword"
)

// Error is a failure with a code clients understand.
type Error struct {
	Code    Code
	Message string // human readable, safe to show to the client
	// ConflictID is the id of the existing object for *AlreadyExists faults
	// (detail/additionalDetails/conflictObjectId).
	ConflictID string
	// Param names the offending argument for BadArgumentLength (parameterFault).
	Param string
	// Detail carries extra fault detail a service needs (for example the OIM
	// LockKeyChallenge).
	Detail map[string]string
	// Err is the underlying cause, logged but never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, CodeInternalError when err carries none, and
// "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternalError
}

// AsError returns err as *Error, wrapping unknown errors as CodeInternalError.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternalError, Message: "internal error", Err: err}
}
