package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Export writes accounts in the lists format, one line each, in account id
// order: every account, or only the one with address user when not empty.
// What it writes is what the services show (View).
func Export(ctx context.Context, st *store.Store, w io.Writer, user string) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	lower := ""
	if user != "" {
		var err error
		if lower, err = models.NormalizeEmail(user); err != nil {
			return 0, err
		}
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // names like "Tom & Jerry's <Pals>" stay readable
	count := 0
	var last int64
	for {
		page, err := st.Accounts(ctx, last, 500, lower)
		if err != nil {
			return count, err
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			rows, err := st.BookRows(ctx, a.ID)
			if err != nil {
				return count, err
			}
			if err := enc.Encode(newBook(a, rows).doc()); err != nil {
				return count, err
			}
			count++
			last = a.ID
		}
	}
	return count, bw.Flush()
}
