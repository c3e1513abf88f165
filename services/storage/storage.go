// Package storage is the Storage service, SchematizedStore
// (/storageservice/SchematizedStore.asmx on storage.msn.com and
// tkrdr.storage.msn.com): the roaming profile (display name, personal
// status, flags) and the display picture that Messenger 8.5/2009,
// MSNPSharp and papyon keep there, plus the HTTP address the picture is
// fetched from (docs/storage.md).
package storage

import (
	"context"
	"log/slog"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
	"github.com/abch-im/abch/wsdl"
)

// NS is the Storage service's namespace (request and response payloads,
// SOAPAction prefix), as clients send it (captures/msnpsharp-login
// 006_GetProfile).
const NS = "http://www.msn.com/webservices/storage/w10"

// NS2008 is the namespace later MSNPSharp releases (and WLM 2009) send
// their Storage calls in; their generated proxies read only answers in the
// same namespace, so an answer is written in the namespace of its request.
const NS2008 = "http://www.msn.com/webservices/storage/2008"

// nsOf is the namespace r's answer is written in.
func nsOf(r *soap.Request) string {
	if r != nil && r.Op != nil && r.Op.NamespaceURI() == NS2008 {
		return NS2008
	}
	return NS
}

// Path is the service's path; TilePrefix the path prefix display pictures
// are served under (Files).
const (
	Path       = "/storageservice/SchematizedStore.asmx"
	TilePrefix = "/storage/usertile/"
)

// Audiences are the tickets StorageUserHeader/TicketToken may carry: the
// storage.msn.com ticket MSNPSharp, aMSN and WLM request from RST, and the
// contacts.msn.com one papyon sends (its Storage calls require
// LiveService.CONTACTS).
var Audiences = []auth.Audience{auth.AudStorage, auth.AudContacts}

// Limits of what a client may store.
const (
	// MaxPhotoBytes bounds one display picture. Messenger scales tiles to
	// 96x96 before upload; a few hundred KiB leaves room for large PNGs
	// while keeping base64 within the SOAP body limit.
	MaxPhotoBytes = 200 << 10
	// MaxPersonalStatus bounds the personal message in characters (the
	// client's own limit is 129; UBX accepts no more either).
	MaxPersonalStatus = 256
	// MaxDocumentName bounds a document's Name.
	MaxDocumentName = 256
)

// Store is the storage the Storage service uses (*store.Store).
type Store interface {
	AccountByID(ctx context.Context, id int64) (*models.Account, error)
	LoadProfile(ctx context.Context, accountID int64) (*store.ProfileView, error)
	EnsureProfile(ctx context.Context, accountID int64) error
	UpdateProfile(ctx context.Context, accountID int64, u store.ProfileUpdate) error
	CreatePhoto(ctx context.Context, accountID int64, name, mimeType, data string, size int) (int64, error)
	UpdatePhoto(ctx context.Context, accountID, id int64, name, mimeType, data string, size int) error
	SetProfilePhoto(ctx context.Context, accountID, id int64, unlink bool) error
	Photos(ctx context.Context, accountID int64) ([]store.StoragePhoto, error)
	Photo(ctx context.Context, id int64) (*store.StoragePhoto, error)
	AccountByCID(ctx context.Context, cid int64) (*models.Account, error)
	ProfileReadable(ctx context.Context, owner, reader *models.Account) (bool, error)
}

// Deps are the Storage service's dependencies.
type Deps struct {
	Store Store
	Auth  *auth.Authenticator
	Log   *slog.Logger
}

// service holds the dependencies of the SOAP handlers and of Files.
type service struct{ deps Deps }

// New returns the Storage SOAP service.
func New(deps Deps) *soap.Service {
	s := &service{deps: deps}
	return &soap.Service{
		Name:  "storage",
		Paths: []string{Path},
		Ops: map[string]soap.Handler{
			"GetProfile":          s.getProfile,
			"CreateProfile":       s.createProfile,
			"UpdateProfile":       s.updateProfile,
			"FindDocuments":       s.findDocuments,
			"CreateDocument":      s.createDocument,
			"UpdateDocument":      s.updateDocument,
			"CreateRelationships": s.createRelationships,
			"DeleteRelationships": s.deleteRelationships,
			"ShareItem":           s.shareItem,
		},
		Fault: fault,
		WSDL:  wsdl.Storage,
	}
}

// authenticate checks StorageUserHeader/TicketToken ("t=…&p=…", XML
// escaped; the storage.msn.com ticket) and returns the caller's account.
func (s *service) authenticate(r *soap.Request) (*models.Account, error) {
	tok := soap.PathText(r.Header, "StorageUserHeader", "TicketToken")
	p, err := s.deps.Auth.Verify(r.Ctx, tok, Audiences...)
	if err != nil {
		return nil, err
	}
	r.Account = p.Email
	return s.deps.Store.AccountByID(r.Ctx, p.AccountID)
}
