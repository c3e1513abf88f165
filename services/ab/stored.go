package ab

import (
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Stored answers (store.StoredAnswer, issue 19): the rendered full answer
// of a book kept in the database for the revision it was rendered at, under
// the in-memory cache's key (account, find form) and the renderer's format.

// storedKind names a find form's stored answer.
func storedKind(form findForm) string {
	if form == formPaged {
		return "ABFindContactsPaged"
	}
	return "ABFindAll"
}

// renderFormat identifies this build's renderer: a digest of both forms of
// a sample book that sets every field renderBook writes (and the
// ServiceHeader BeginAB writes), so an answer stored by a renderer that
// wrote anything differently is never served. A change that shows only in
// a book unlike the sample must bump renderFormatVersion.
var renderFormat = func() string {
	const renderFormatVersion = "1"
	at := time.Date(2009, 6, 1, 12, 30, 45, 123456700, time.UTC)
	rev := models.RevisionAt(at)
	acct := int64(7)
	b := &store.Book{
		Owner: models.Account{ID: 3, Email: "Owner@Example.com", EmailLower: "owner@example.com", CID: -42, DisplayName: "Owner <&> \"o\"",
			BLP: models.BLPBlock, GTC: models.GTCNone, MBEA: 1, RoamLiveProps: 1, Revision: rev, CreatedAt: at, MeContactGUID: "me-guid"},
		Groups: []models.Group{{ID: 1, GUID: "group-guid", Name: "Friends & co", Annotations: `[{"Name":"MSN.IM.Display","Value":"1"}]`, IsFavorite: true, Rev: rev}},
		Contacts: []store.BookContact{
			{Contact: models.Contact{ID: 1, GUID: "me-guid", Key: models.MeKey, ContactType: "Me", Annotations: `[{"Name":"MSN.IM.MPOP","Value":"1"}]`, Rev: rev}},
			{Contact: models.Contact{ID: 2, GUID: "c-guid", Key: "passport:bob@example.com", ContactAccountID: &acct, ContactType: "Regular",
				PassportName: "bob@example.com", CID: 99, DisplayName: "Bob\r\n\x01", QuickName: "bobby", FirstName: "B", MiddleName: "M", LastName: "L",
				Comment: "c", Birthdate: "1990-01-01T00:00:00", IsMessengerUser: true, IsMobileIMEnabled: true, HasSpace: true, IsFavorite: true,
				IsSMTP: true, Annotations: `[{"Name":"AB.NickName","Value":"b"}]`, Rev: rev}, GroupGUIDs: []string{"group-guid"}},
			{Contact: models.Contact{ID: 3, GUID: "e-guid", Key: "email:carol@example.com", ContactType: "Regular", Email: "carol@example.com", Rev: rev}},
		},
	}
	return soap.FormatDigest(renderFormatVersion, renderBook(b, formFindAll), renderBook(b, formPaged))
}()
