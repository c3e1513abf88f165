package storage

import (
	"net/http"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// All of the Storage service's XML is written in this file (one place to
// move to the shared writer).

// timeLayout is how dates are written: UTC with milliseconds, which
// .NET's XmlSerializer (MSNPSharp) and papyon's parser both read.
const timeLayout = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeLayout) }

// envelope starts an answer: the AffinityCacheHeader clients keep and send
// back (MSNPSharp stores its CacheKey per service), then the operation's
// <op>Response in the storage namespace.
func envelope(r *soap.Request, op string) (*soap.Envelope, *etree.Element) {
	env := soap.NewEnvelope()
	h := env.Head().CreateElement("AffinityCacheHeader")
	h.CreateAttr("xmlns", nsOf(r))
	soap.Elem(h, "CacheKey", cacheKey(r))
	resp := env.Body.CreateElement(op + "Response")
	resp.CreateAttr("xmlns", nsOf(r))
	return env, resp
}

// cacheKey echoes the client's CacheKey, or gives a fixed one when it sent
// none (the key only routes requests to a front end; abch has one).
func cacheKey(r *soap.Request) string {
	if k := soap.PathText(r.Header, "AffinityCacheHeader", "CacheKey"); k != "" && len(k) <= 256 {
		return k
	}
	return "1p" + "abch-storage"
}

// renderEmpty is an operation's empty answer.
func renderEmpty(r *soap.Request, op string) []byte {
	env, _ := envelope(r, op)
	return env.Bytes()
}

// renderResult is <op>Response><op>Result>text.
func renderResult(r *soap.Request, op, text string) []byte {
	env, resp := envelope(r, op)
	soap.Elem(resp, op+"Result", text)
	return env.Bytes()
}

// renderProfile is GetProfile's answer: the profile's ResourceID and
// DateModified, then the ExpressionProfile with the photo (when one is
// linked), the personal status and the display name with their last
// changes, the static tile URL and the flags. MSNPSharp reads the
// DocumentStream whose DocumentStreamType is UserTileStatic and fetches
// its PreAuthURL plus "?t=" and the ticket.
func renderProfile(r *soap.Request, v *store.ProfileView) []byte {
	a, p := v.Account, v.Profile
	env, resp := envelope(r, "GetProfile")
	res := resp.CreateElement("GetProfileResult")
	soap.Elem(res, "ResourceID", profileID(a))
	modified := p.UpdatedAt
	if a.UpdatedAt.After(modified) {
		modified = a.UpdatedAt
	}
	soap.Elem(res, "DateModified", stamp(modified))
	ep := res.CreateElement("ExpressionProfile")
	soap.Elem(ep, "ResourceID", expressionID(a))
	soap.Elem(ep, "DateModified", stamp(modified))
	soap.Elem(ep, "Flags", strconv.Itoa(p.Flags))
	tile := ""
	if ph := v.Photo; ph != nil {
		tile = tileURL(r, a, ph)
		photo := ep.CreateElement("Photo")
		soap.Elem(photo, "ItemType", "Photo")
		soap.Elem(photo, "ResourceID", photoID(a, ph.ID))
		soap.Elem(photo, "DateModified", stamp(ph.UpdatedAt))
		soap.Elem(photo, "Name", ph.Name)
		streams := photo.CreateElement("DocumentStreams")
		ds := streams.CreateElement("DocumentStream")
		ds.CreateAttr("xsi:type", "PhotoStream")
		soap.Elem(ds, "DocumentStreamName", "UserTileStatic")
		soap.Elem(ds, "MimeType", ph.MimeType)
		soap.Elem(ds, "DataSize", strconv.Itoa(ph.Size))
		soap.Elem(ds, "PreAuthURL", tile)
		soap.Elem(ds, "PreAuthURLPartner", tile)
		soap.Elem(ds, "DocumentStreamType", "UserTileStatic")
		soap.Elem(ds, "WriteMode", "Overwrite")
		soap.Elem(ds, "SizeX", "96")
		soap.Elem(ds, "SizeY", "96")
	}
	soap.Elem(ep, "PersonalStatus", p.PersonalStatus)
	soap.Elem(ep, "PersonalStatusLastModified", stamp(orElse(p.StatusModified, p.CreatedAt)))
	soap.Elem(ep, "DisplayName", a.DisplayName)
	soap.Elem(ep, "DisplayNameLastModified", stamp(orElse(p.NameModified, a.CreatedAt)))
	if tile != "" {
		soap.Elem(ep, "StaticUserTilePublicURL", tile)
	}
	return env.Bytes()
}

func orElse(t *time.Time, def time.Time) time.Time {
	if t != nil {
		return *t
	}
	return def
}

// renderDocuments is FindDocuments' answer: one Photo per stored picture.
func renderDocuments(r *soap.Request, a *models.Account, list []store.StoragePhoto) []byte {
	env, resp := envelope(r, "FindDocuments")
	res := resp.CreateElement("FindDocumentsResult")
	for i := range list {
		d := res.CreateElement("Document")
		d.CreateAttr("xsi:type", "Photo")
		soap.Elem(d, "ResourceID", photoID(a, list[i].ID))
		soap.Elem(d, "Name", list[i].Name)
	}
	return env.Bytes()
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
	env := soap.NewEnvelope()
	f := env.Body.CreateElement("soap:Fault")
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
	soap.Elem(f, "faultcode", code)
	soap.Elem(f, "faultstring", text)
	op := "SchematizedStore"
	if r != nil && r.Operation != "" && r.Operation != "unknown" {
		op = r.Operation
	}
	ns := nsOf(r)
	soap.Elem(f, "faultactor", ns+"/"+op)
	d := f.CreateElement("detail")
	soap.Elem(d, "errorcode", ec).CreateAttr("xmlns", ns)
	soap.Elem(d, "errorstring", text).CreateAttr("xmlns", ns)
	return &soap.Response{Status: http.StatusInternalServerError, Body: env.Bytes()}
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
