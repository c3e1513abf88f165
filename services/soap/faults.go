package soap

import (
	"strings"

	"github.com/abch-im/abch/models"
)

// faultText is how one error code is shown to Address Book and Sharing
// clients. String is the faultstring (and errorstring), worded the way the
// historical service did: MSNPSharp matches substrings of it ("Need to do full
// sync", "Address Book Does Not Exist", "Member already exists", "Member does
// not exist"), emesene shows it. UseMessage puts the error's own message in
// instead (for texts that name the argument).
type faultText struct {
	String     string
	UseMessage bool
	Server     bool // soap:Server rather than soap:Client
}

// abFaults is the one table that maps error codes to AB/Sharing faults
// (PROTOCOL.md §0.5, §1.4, §2.5, §3.3; clients/RESPONSES.md §2).
var abFaults = map[models.Code]faultText{
	models.CodeFullSyncRequired:       {String: "Full sync required.  Details: Need to do full sync. Can't sync deltas; client has too old a copy."},
	models.CodeABDoesNotExist:         {String: "Address Book Does Not Exist"},
	models.CodeABAlreadyExists:        {String: "Address Book Already Exists"},
	models.CodeContactAlreadyExists:   {String: "Contact Already Exists"},
	models.CodeContactDoesNotExist:    {String: "Contact Does Not Exist"},
	models.CodeInvalidPassportUser:    {UseMessage: true},
	models.CodeBadEmailArgument:       {UseMessage: true},
	models.CodeEmailDomainIsFederated: {String: "Email domain is federated"},
	models.CodeGroupAlreadyExists:     {String: "Group Already Exists"},
	models.CodeGroupDoesNotExist:      {String: "Group Does Not Exist"},
	models.CodeBadArgumentLength:      {UseMessage: true},
	models.CodeRequestLimitReached:    {String: "Request limit reached"},
	models.CodeMemberAlreadyExists:    {String: "Member already exists"},
	models.CodeMemberDoesNotExist:     {String: "Member does not exist"},
	models.CodeUserDoesNotExist:       {String: "User does not exist"},
	models.CodeRoleDoesNotExist:       {String: "Role Does Not Exist"},
	models.CodeInvalidArgument:        {UseMessage: true},
	models.CodePassportAuthFail:       {String: "Passport authentication failed (PassportAuthFail). Sign in again."},
	models.CodeForbidden:              {UseMessage: true},
	models.CodeBadRequest:             {UseMessage: true},
	models.CodeRequestTooLarge:        {UseMessage: true},
	models.CodeInternalError:          {String: "Internal server error", Server: true},
}

// ABFaultString returns the faultstring for e as AB/Sharing clients see it.
func ABFaultString(e *models.Error) (text string, server bool) {
	ft, ok := abFaults[e.Code]
	if !ok {
		ft = faultText{UseMessage: true}
	}
	text = ft.String
	if ft.UseMessage || text == "" {
		text = e.Message
	}
	if text == "" {
		text = string(e.Code)
	}
	return text, ft.Server
}

// ABFault renders the fault envelope every AB/Sharing client can read
// (clients/RESPONSES.md §2): unprefixed faultcode/faultstring/faultactor/
// detail, a non-empty errorcode in the AB namespace (an empty one crashes
// pidgin), errorstring, machineName and additionalDetails.
func ABFault(e *models.Error, operation, machine string) []byte {
	text, server := ABFaultString(e)
	w := BeginPlain(1024)
	w.Open("soap:Fault")
	if server {
		w.Leaf("faultcode", "soap:Server")
	} else {
		w.Leaf("faultcode", "soap:Client")
	}
	w.Leaf("faultstring", text)
	if operation != "" {
		w.Leaf("faultactor", NSAB+"/"+operation)
	}
	w.Open("detail")
	w.LeafAttr("errorcode", "xmlns", NSAB, string(e.Code))
	w.LeafAttr("errorstring", "xmlns", NSAB, text)
	w.LeafAttr("machineName", "xmlns", NSAB, machine)
	if e.Param != "" {
		w.Leaf("parameterFault", e.Param)
	}
	w.Open("additionalDetails")
	if e.ConflictID != "" {
		w.Leaf("conflictObjectId", e.ConflictID)
	} else {
		w.Leaf("originalExceptionErrorMessage", text)
	}
	w.Close("additionalDetails")
	w.Close("detail")
	w.Close("soap:Fault")
	return End(w)
}

// ActionName returns the last path segment of a SOAPAction header value,
// without quotes ("…/AddressBook/ABFindAll" → ABFindAll).
func ActionName(action string) string {
	a := strings.Trim(strings.TrimSpace(action), `"`)
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		a = a[i+1:]
	}
	return a
}
