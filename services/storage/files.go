package storage

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/abch-im/abch/services/soap"
)

// Files serves display pictures over HTTP at the address GetProfile gives
// (TilePrefix/<CID hex>/<n>/<version>): the PreAuthURL, which MSNPSharp
// fetches with "?t=" and its storage ticket, and the
// StaticUserTilePublicURL, which needs none. A picture is public like the
// real static tile URL, so the ticket is not required; the owner's CID in
// the path must match. The address changes with every upload, so answers
// may be cached for a day and revalidated by ETag.
func Files(deps Deps) http.Handler {
	s := &service{deps: deps}
	return http.HandlerFunc(s.serveTile)
}

func (s *service) serveTile(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		soap.WriteRaw(w, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", []byte("GET only\n"))
		return
	}
	notFound := func() {
		soap.WriteRaw(w, http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
	}
	rest := strings.TrimPrefix(soap.NormalizePath(r.URL.Path), TilePrefix)
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || len(parts) > 3 {
		notFound()
		return
	}
	n, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || n <= photoBase {
		notFound()
		return
	}
	ph, err := s.deps.Store.Photo(r.Context(), n-photoBase)
	if err != nil {
		notFound()
		return
	}
	owner, err := s.deps.Store.AccountByID(r.Context(), ph.AccountID)
	if err != nil || !strings.EqualFold(cidHex(owner), parts[0]) {
		notFound()
		return
	}
	data, err := base64.StdEncoding.DecodeString(ph.Data)
	if err != nil {
		soap.WriteRaw(w, http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("stored picture unreadable\n"))
		return
	}
	etag := `"` + strconv.FormatInt(n, 10) + "-" + version(ph) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", ph.UpdatedAt.UTC().Format(http.TimeFormat))
	h.Set("X-Content-Type-Options", "nosniff")
	cache := "public, max-age=86400"
	if inm := r.Header.Get("If-None-Match"); inm != "" && strings.Contains(inm, etag) {
		h.Set("Cache-Control", cache)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ph.MimeType)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", cache)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}
