package storage

import (
	"net/http"
	"strconv"
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/xmlw"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// All of the Storage service's XML is written in this file, with the one
// writer (internal/xmlw) through soap.Begin/End.

// timeLayout is how dates are written: UTC with milliseconds, which
// .NET's XmlSerializer (MSNPSharp) and papyon's parser both read.
const timeLayout = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// begin starts an answer: the AffinityCacheHeader clients keep and send
// back (MSNPSharp stores its CacheKey per service), then the operation's
// <op>Response in the storage namespace, left open.
func begin(r *soap.Request, op string) *xmlw.Writer {
	w := header(r)
	w.OpenAttr(op+"Response", "xmlns", nsOf(r))
	return w
}

// header writes the envelope up to <soap:Body>, with the AffinityCacheHeader.
func header(r *soap.Request) *xmlw.Writer {
	w := soap.Begin(1024)
	w.Raw(`<soap:Header>`)
	w.OpenAttr("AffinityCacheHeader", "xmlns", nsOf(r))
	w.Leaf("CacheKey", cacheKey(r))
	w.Close("AffinityCacheHeader")
	w.Raw(`</soap:Header>`)
	soap.BeginBody(w)
	return w
}

// end closes <op>Response and the envelope.
func end(w *xmlw.Writer, op string) []byte {
	w.Close(op + "Response")
	return soap.End(w)
}

// cacheKey echoes the client's CacheKey, or gives a fixed one when it sent
// none (the key only routes requests to a front end; abch has one).
func cacheKey(r *soap.Request) string {
	if k := soap.PathText(r.Header, "AffinityCacheHeader", "CacheKey"); k != "" && len(k) <= 256 {
		return k
	}
	return "1p" + "abch-storage"
}

// renderEmpty is an operation's empty answer (<op>Response xmlns=…/>).
func renderEmpty(r *soap.Request, op string) []byte {
	return soap.EmptyResponse(header(r), op+"Response", nsOf(r))
}

// renderResult is <op>Response><op>Result>text.
func renderResult(r *soap.Request, op, text string) []byte {
	w := begin(r, op)
	w.Leaf(op+"Result", text)
	return end(w, op)
}

// renderProfile is GetProfile's answer: the profile's ResourceID and
// DateModified, then the ExpressionProfile with the photo (when one is
// linked), the personal status and the display name with their last
// changes, the static tile URL and the flags. MSNPSharp reads the
// DocumentStream whose DocumentStreamType is UserTileStatic and fetches
// its PreAuthURL plus "?t=" and the ticket.
func renderProfile(r *soap.Request, v *store.ProfileView) []byte {
	a, p := v.Account, v.Profile
	w := begin(r, "GetProfile")
	w.Open("GetProfileResult")
	w.Leaf("ResourceID", profileID(a))
	modified := p.UpdatedAt
	if a.UpdatedAt.After(modified) {
		modified = a.UpdatedAt
	}
	w.Leaf("DateModified", stamp(modified))
	w.Open("ExpressionProfile")
	w.Leaf("ResourceID", expressionID(a))
	w.Leaf("DateModified", stamp(modified))
	w.Leaf("Flags", strconv.Itoa(p.Flags))
	tile := ""
	if ph := v.Photo; ph != nil {
		tile = tileURL(r, a, ph)
		writePhoto(w, a, ph, tile)
	}
	w.Leaf("PersonalStatus", p.PersonalStatus)
	w.Leaf("PersonalStatusLastModified", stamp(orElse(p.StatusModified, p.CreatedAt)))
	w.Leaf("DisplayName", a.DisplayName)
	w.Leaf("DisplayNameLastModified", stamp(orElse(p.NameModified, a.CreatedAt)))
	if tile != "" {
		w.Leaf("StaticUserTilePublicURL", tile)
	}
	w.Close("ExpressionProfile")
	w.Close("GetProfileResult")
	return end(w, "GetProfile")
}

// writePhoto writes the profile's Photo with its one UserTileStatic stream.
func writePhoto(w *xmlw.Writer, a *models.Account, ph *store.StoragePhoto, tile string) {
	w.Open("Photo")
	w.Leaf("ItemType", "Photo")
	w.Leaf("ResourceID", photoID(a, ph.ID))
	w.Leaf("DateModified", stamp(ph.UpdatedAt))
	w.Leaf("Name", ph.Name)
	w.Open("DocumentStreams")
	w.OpenAttr("DocumentStream", "xsi:type", "PhotoStream")
	w.Leaf("DocumentStreamName", "UserTileStatic")
	w.Leaf("MimeType", ph.MimeType)
	w.Leaf("DataSize", strconv.Itoa(ph.Size))
	w.Leaf("PreAuthURL", tile)
	w.Leaf("PreAuthURLPartner", tile)
	w.Leaf("DocumentStreamType", "UserTileStatic")
	w.Leaf("WriteMode", "Overwrite")
	w.Leaf("SizeX", "96")
	w.Leaf("SizeY", "96")
	w.Close("DocumentStream")
	w.Close("DocumentStreams")
	w.Close("Photo")
}

func orElse(t *time.Time, def time.Time) time.Time {
	if t != nil {
		return *t
	}
	return def
}

// renderDocuments is FindDocuments' answer: one Photo per stored picture.
func renderDocuments(r *soap.Request, a *models.Account, list []store.StoragePhoto) []byte {
	w := begin(r, "FindDocuments")
	if len(list) == 0 {
		w.Empty("FindDocumentsResult")
		return end(w, "FindDocuments")
	}
	w.Open("FindDocumentsResult")
	for i := range list {
		w.OpenAttr("Document", "xsi:type", "Photo")
		w.Leaf("ResourceID", photoID(a, list[i].ID))
		w.Leaf("Name", list[i].Name)
		w.Close("Document")
	}
	w.Close("FindDocumentsResult")
	return end(w, "FindDocuments")
}

// tileURL is the absolute address a picture is served at: this server as
// the client reached it (MSNPSharp puts blufiles.storage.msn.com in front
// of a relative one), the owner's CID, the photo and its version, so a
// replaced picture gets a new address and clients that cache by URL fetch
// it again.
func tileURL(r *soap.Request, a *models.Account, ph *store.StoragePhoto) string {
	scheme := "http"
	if r.HTTP.TLS != nil {
		scheme = "https"
	}
	host := r.HTTP.Host
	if host == "" {
		host = "storage.msn.com"
	}
	return scheme + "://" + host + TilePrefix + cidHex(a) + "/" + strconv.FormatInt(photoBase+ph.ID, 10) + "/" + version(ph)
}

// version names one upload of a picture.
func version(ph *store.StoragePhoto) string { return strconv.FormatInt(ph.UpdatedAt.UnixMilli(), 36) }

// fault renders the Storage service's fault: HTTP 500, faultcode
// soap:Client (soap:Server for internal errors), the message as
// faultstring, and the storage error code in detail/errorcode.
// MSNPSharp reads the message ("does not exist" makes it create the
// profile); papyon the errorcode.
func fault(r *soap.Request, e *models.Error) *soap.Response {
	code, text := "soap:Client", e.Message
	if e.Code == models.CodeInternalError {
		code, text = "soap:Server", "Internal server error"
	}
	ec := errorCode(e.Code)
	if ec == "PassportAuthFail" {
		text = "Passport ticket is invalid or expired"
	}
	if text == "" {
		text = ec
	}
	op := "SchematizedStore"
	if r != nil && r.Operation != "" && r.Operation != "unknown" {
		op = r.Operation
	}
	ns := nsOf(r)
	w := soap.BeginPlain(1024)
	w.Open("soap:Fault")
	w.Leaf("faultcode", code)
	w.Leaf("faultstring", text)
	w.Leaf("faultactor", ns+"/"+op)
	w.Open("detail")
	w.LeafAttr("errorcode", "xmlns", ns, ec)
	w.LeafAttr("errorstring", "xmlns", ns, text)
	w.Close("detail")
	w.Close("soap:Fault")
	return &soap.Response{Status: http.StatusInternalServerError, Body: soap.End(w)}
}

// errorCode maps an error to the storage service's error codes.
func errorCode(c models.Code) string {
	switch c {
	case models.CodePassportAuthFail, models.CodeAuthenticationFailed:
		return "PassportAuthFail"
	case models.CodeNotFound:
		return "ItemDoesNotExist"
	case models.CodeBadArgumentLength, models.CodeRequestTooLarge:
		return "BadArgumentLength"
	case models.CodeInternalError:
		return "InternalError"
	case models.CodeForbidden:
		return "NotImplemented"
	}
	return "InvalidArgument"
}
