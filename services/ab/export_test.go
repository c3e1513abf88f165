package ab

import "github.com/abch-im/abch/internal/store"

// RenderFull is the full answer the rows of b render (ABFindAll, or
// ABFindContactsPaged when paged): what a stored answer must equal.
func RenderFull(b *store.Book, paged bool) []byte {
	if paged {
		return renderBook(b, formPaged)
	}
	return renderBook(b, formFindAll)
}
