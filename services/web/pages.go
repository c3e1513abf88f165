package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html static/style.css
var files embed.FS

// pages are the parsed templates: each page with the layout.
type pages struct {
	byName map[string]*template.Template
	css    []byte
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// friendly decodes a sender's RFC 2047 friendly name (as OIMs carry it).
	"friendly": func(s string) string {
		if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
			return d
		}
		return s
	},
}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		p.byName[base] = t
	}
	if p.css, err = files.ReadFile("static/style.css"); err != nil {
		return nil, err
	}
	return p, nil
}

// view is what every page gets: its title, the CSRF token for its forms,
// who is signed in, a message, and the page's own data.
type view struct {
	Title   string
	CSRF    string
	Email   string // the signed-in user, "" for none
	Admin   bool   // an operator is signed in
	Notice  string // what just happened
	Problem string // what went wrong
	Refresh int    // reload the page every this many seconds (0: never)
	Data    any
}

// render writes page with status. The page is rendered into a buffer
// first, so a template failure is a clean 500, never half a page.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, page string, v view) {
	t := w.pages.byName[page]
	if t == nil {
		w.internal(rw, r, fmt.Errorf("web: no page %q", page))
		return
	}
	v.CSRF = w.csrfToken(rw, r)
	if ss := sessionFrom(r); ss != nil {
		v.Email, v.Admin = ss.email, ss.admin
	} else if ss := w.sessionOf(r); ss != nil {
		v.Email, v.Admin = ss.email, ss.admin
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		w.internal(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

// fail answers with status and a page saying msg.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, status int, msg string) {
	w.render(rw, r, status, "message", view{Title: http.StatusText(status), Problem: msg})
}

// internal logs an unexpected error and answers 500 without detail.
func (w *Web) internal(rw http.ResponseWriter, r *http.Request, err error) {
	w.deps.Log.Error("web page failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
	body := "Something went wrong on the server. Try again later.\n"
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
	rw.WriteHeader(http.StatusInternalServerError)
	_, _ = rw.Write([]byte(body))
}

func (w *Web) css(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "text/css; charset=utf-8")
	rw.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = rw.Write(w.pages.css)
}

// Version is the binary's module version and VCS revision, as the Go
// toolchain recorded them.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	if v == "" {
		v = "devel"
	}
	return v + ", " + bi.GoVersion
}
