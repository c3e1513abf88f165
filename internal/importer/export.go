package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"gorm.io/gorm"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Export writes accounts in the lists format, one line each, in account id
// order: every account, or only the one with address user when not empty.
// What it writes is what the services show (View).
func Export(ctx context.Context, st *store.Store, w io.Writer, user string) (int, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	db := st.DB.WithContext(ctx)
	q := db.Model(&models.Account{}).Order("id")
	if user != "" {
		lower, err := models.NormalizeEmail(user)
		if err != nil {
			return 0, err
		}
		var n int64
		if err := db.Model(&models.Account{}).Where("email_lower = ?", lower).Count(&n).Error; err != nil {
			return 0, err
		}
		if n == 0 {
			return 0, models.Errorf(models.CodeNotFound, "no account %s", lower)
		}
		q = q.Where("email_lower = ?", lower)
	}
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // names like "Tom & Jerry's <Pals>" stay readable
	count := 0
	var last int64
	for {
		var page []models.Account
		if err := q.Session(&gorm.Session{}).Where("id > ?", last).Limit(500).Find(&page).Error; err != nil {
			return count, err
		}
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			b, err := loadBook(db, a)
			if err != nil {
				return count, err
			}
			if err := enc.Encode(b.doc()); err != nil {
				return count, err
			}
			count++
			last = a.ID
		}
	}
	return count, bw.Flush()
}
