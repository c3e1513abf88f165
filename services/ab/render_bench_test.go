package ab

import (
	"fmt"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// BenchmarkRenderBook times the writer alone on a 1,000-contact book (the
// part of an uncached full ABFindAll that is not the database), so a change
// to the XML writer can be measured without the noise of loopback HTTP and
// Postgres on a shared machine.
func BenchmarkRenderBook(b *testing.B) {
	now := time.Date(2008, 8, 10, 15, 20, 6, 0, time.UTC)
	book := &store.Book{Owner: models.Account{ID: 1, CID: 1001, EmailLower: "owner@example.com", DisplayName: "Owner", CreatedAt: now, Revision: 42}}
	for i := 0; i < 10; i++ {
		book.Groups = append(book.Groups, models.Group{GUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("Group & %d", i), Annotations: "[]"})
	}
	book.Contacts = append(book.Contacts, store.BookContact{Contact: models.Contact{GUID: "00000000-0000-4000-8000-100000000000", Key: models.MeKey, ContactType: models.ContactTypeMe, Annotations: "[]"}})
	for i := 0; i < 1000; i++ {
		email := fmt.Sprintf("contact%d@example.com", i)
		book.Contacts = append(book.Contacts, store.BookContact{
			Contact: models.Contact{
				GUID: fmt.Sprintf("00000000-0000-4000-8000-2%011d", i), Key: "passport:" + email, ContactType: models.ContactTypeRegular,
				PassportName: email, DisplayName: fmt.Sprintf("Contact <%d> & co", i), CID: int64(5000 + i),
				IsMessengerUser: true, Annotations: models.EncodeAnnotations([]models.Annotation{{Name: "AB.NickName", Value: "nick"}}), Rev: int64(i),
			},
			GroupGUIDs: []string{book.Groups[i%10].GUID},
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := renderBook(book, formFindAll)
		b.SetBytes(int64(len(body)))
	}
}
