package soap

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/abch-im/abch/models"
)

// Request is one decoded SOAP call.
type Request struct {
	Ctx       context.Context
	HTTP      *http.Request
	ID        string // request id, in logs and the X-Request-Id header
	Service   *Service
	Doc       *etree.Document
	Envelope  *etree.Element
	Header    *etree.Element // soap Header, nil when absent
	Body      *etree.Element
	Op        *etree.Element // first element inside Body
	Operation string         // the registered operation name
	Action    string         // SOAPAction header as sent (only cross-checked and logged)
	RemoteIP  string
	// Account is set by handlers once the caller is known, for logs.
	Account string
}

// Response is what a handler answers.
type Response struct {
	Status int // 0 means 200
	Body   []byte
	// pooled: Body is a buffer of answerBuffers, returned to it once
	// written (OKPooled).
	pooled bool
}

// OK wraps a rendered envelope as a 200 response.
func OK(body []byte) *Response { return &Response{Status: http.StatusOK, Body: body} }

// answerBuffers recycles the buffers of large answers nothing keeps after
// they are written: a stored answer decoded for a service whose answer
// cache is off (a fresh 300 KB buffer per request was a sixth of serving
// it, its allocation and the garbage collection it caused).
var answerBuffers sync.Pool

// AnswerBuffer returns a buffer for an answer to be written with
// OKPooled (its capacity is what it has; nil when the pool is empty).
func AnswerBuffer() []byte {
	if b, ok := answerBuffers.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return nil
}

// OKPooled is OK for a body in a buffer from AnswerBuffer (or one the
// caller allocated), which nothing else may keep: once the answer is
// written the buffer goes back to the pool.
func OKPooled(body []byte) *Response {
	return &Response{Status: http.StatusOK, Body: body, pooled: true}
}

// Handler serves one operation: decode r into a plain value, call the
// service, encode the result. Errors become the service's fault.
type Handler func(r *Request) (*Response, error)

// FaultFunc renders an error as the service's fault response.
type FaultFunc func(r *Request, e *models.Error) *Response

// Service is one SOAP endpoint: its paths, operations, fault dialect and WSDL.
type Service struct {
	Name  string   // metrics/log label: abservice, sharing, passport, oim, rsi
	Paths []string // canonical paths; matched case-insensitively, repeated slashes collapsed
	// Ops maps operation names (first element in soap:Body, matched
	// case-insensitively) to handlers.
	Ops map[string]Handler
	// OpFor overrides how the operation name is found (OIM Store has no
	// operation element: its body starts with MessageType/Content).
	OpFor func(r *Request) string
	// Repair, when set, may fix a known client bug in the raw body before it
	// is parsed (purple 2.4 writes RST passwords unescaped). It must return
	// the body unchanged when there is nothing to repair.
	Repair func(body []byte) []byte
	Fault  FaultFunc
	WSDL   []byte // served for GET <path>?wsdl
}

// Dispatcher routes requests to services by path, then by operation.
type Dispatcher struct {
	MaxBody int64
	Log     *slog.Logger
	Metrics *Metrics

	byPath map[string]*Service
}

// NewDispatcher builds the route table from services.
func NewDispatcher(maxBody int64, log *slog.Logger, m *Metrics, services ...*Service) *Dispatcher {
	d := &Dispatcher{MaxBody: maxBody, Log: log, Metrics: m, byPath: map[string]*Service{}}
	for _, s := range services {
		for _, p := range s.Paths {
			d.byPath[NormalizePath(p)] = s
		}
	}
	return d
}

// Handles reports whether path belongs to a SOAP service.
func (d *Dispatcher) Handles(path string) bool {
	_, ok := d.byPath[NormalizePath(path)]
	return ok
}

// NormalizePath collapses repeated slashes and lower-cases the path: pidgin
// posts to //RST.srf and //abservice/… and must never get a redirect
// (clients/captures/README.md).
func NormalizePath(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	prevSlash := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if prevSlash {
				continue
			}
			prevSlash = true
		} else {
			prevSlash = false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	s := b.String()
	if !strings.HasPrefix(s, "/") {
		s = "/" + s
	}
	return s
}

// ServeHTTP dispatches one request. It never panics, never redirects and
// always answers with a Content-Length.
func (d *Dispatcher) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	svc := d.byPath[NormalizePath(hr.URL.Path)]
	r := &Request{Ctx: hr.Context(), HTTP: hr, ID: newRequestID(), Service: svc, Action: hr.Header.Get("SOAPAction"), RemoteIP: remoteIP(hr)}
	w.Header().Set("X-Request-Id", r.ID)
	if svc == nil {
		writeRaw(w, http.StatusNotFound, "text/plain; charset=utf-8", []byte("not found\n"))
		return
	}
	if hr.Method == http.MethodGet || hr.Method == http.MethodHead {
		if _, ok := queryHas(hr, "wsdl"); ok && svc.WSDL != nil {
			writeRaw(w, http.StatusOK, "text/xml; charset=utf-8", svc.WSDL)
			return
		}
		w.Header().Set("Allow", "POST")
		writeRaw(w, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", []byte("POST a SOAP envelope, or GET ?wsdl\n"))
		return
	}
	if hr.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeRaw(w, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", []byte("POST only\n"))
		return
	}
	resp, faultCode := d.serve(r)
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	writeRaw(w, status, "text/xml; charset=utf-8", resp.Body)
	if resp.pooled {
		b := resp.Body[:0]
		answerBuffers.Put(&b)
	}
	if d.Metrics != nil {
		d.Metrics.observe(svc.Name, r.Operation, faultCode, time.Since(start))
	}
	if d.Log != nil {
		attrs := []any{"request_id", r.ID, "service", svc.Name, "operation", r.Operation, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "remote", r.RemoteIP}
		if r.Account != "" {
			attrs = append(attrs, "account", r.Account)
		}
		if faultCode != "" {
			attrs = append(attrs, "fault", faultCode)
		}
		if a := ActionName(r.Action); a != "" && r.Operation != "" && !strings.EqualFold(a, r.Operation) {
			attrs = append(attrs, "soapaction_mismatch", a)
		}
		d.Log.Info("soap", attrs...)
	}
}

// serve runs the request through parse, dispatch and the handler, turning
// every failure (and any panic) into the service's fault.
func (d *Dispatcher) serve(r *Request) (resp *Response, faultCode string) {
	defer func() {
		if p := recover(); p != nil {
			if d.Log != nil {
				d.Log.Error("panic in handler", "request_id", r.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			e := &models.Error{Code: models.CodeInternalError, Message: "internal error"}
			resp, faultCode = r.Service.Fault(r, e), string(e.Code)
		}
	}()
	fail := func(err error) (*Response, string) {
		e := models.AsError(err)
		if e.Code == models.CodeInternalError && d.Log != nil {
			d.Log.Error("internal error", "request_id", r.ID, "service", r.Service.Name, "operation", r.Operation, "error", err.Error())
		}
		return r.Service.Fault(r, e), string(e.Code)
	}
	body, err := io.ReadAll(io.LimitReader(r.HTTP.Body, d.MaxBody+1))
	if err != nil {
		return fail(models.Errorf(models.CodeBadRequest, "could not read request body"))
	}
	if int64(len(body)) > d.MaxBody {
		// Drain a bounded amount so the client, still sending, reads the
		// fault instead of a connection reset; nothing of it is kept.
		_, _ = io.CopyN(io.Discard, r.HTTP.Body, 4*d.MaxBody)
		return fail(models.Errorf(models.CodeRequestTooLarge, "request body over %d bytes", d.MaxBody))
	}
	if len(body) == 0 {
		return fail(models.Errorf(models.CodeBadRequest, "empty request body"))
	}
	if r.Service.Repair != nil {
		body = r.Service.Repair(body)
	}
	doc, err := Parse(body)
	if err != nil {
		return fail(err)
	}
	r.Doc = doc
	r.Envelope = doc.Root()
	if !strings.EqualFold(r.Envelope.Tag, "Envelope") {
		return fail(models.Errorf(models.CodeBadRequest, "root element is %s, not a SOAP Envelope", r.Envelope.Tag))
	}
	r.Header = Child(r.Envelope, "Header")
	r.Body = Child(r.Envelope, "Body")
	if r.Body == nil {
		return fail(models.Errorf(models.CodeBadRequest, "SOAP Body missing"))
	}
	if kids := r.Body.ChildElements(); len(kids) > 0 {
		r.Op = kids[0]
	}
	name := ""
	if r.Service.OpFor != nil {
		name = r.Service.OpFor(r)
	} else if r.Op != nil {
		name = r.Op.Tag
	}
	if name == "" {
		return fail(models.Errorf(models.CodeBadRequest, "SOAP Body has no operation"))
	}
	var h Handler
	for op, fn := range r.Service.Ops {
		if strings.EqualFold(op, name) {
			h, r.Operation = fn, op
			break
		}
	}
	if h == nil {
		r.Operation = "unknown"
		return fail(models.Errorf(models.CodeForbidden, "API %s no longer supported", Truncate(name, 64)))
	}
	resp, err = h(r)
	if err != nil {
		return fail(err)
	}
	return resp, ""
}

// writeRaw writes a complete response with an explicit Content-Length, so Go
// never switches to chunked encoding (pidgin hangs on chunked answers:
// clients/captures/pidgin-2.10.1-hang-on-chunked).
func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteRaw is writeRaw for other packages' plain endpoints.
func WriteRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	writeRaw(w, status, contentType, body)
}

func queryHas(r *http.Request, key string) (string, bool) {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, key) {
			if len(v) > 0 {
				return v[0], true
			}
			return "", true
		}
	}
	return "", false
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Metrics are the SOAP layer's Prometheus series.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the SOAP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "abch_soap_requests_total", Help: "SOAP requests by service, operation and fault code (empty = success).",
		}, []string{"service", "operation", "fault"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "abch_soap_request_duration_seconds", Help: "SOAP request latency by service and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "operation"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *Metrics) observe(service, op, fault string, d time.Duration) {
	if op == "" {
		op = "none"
	}
	m.requests.WithLabelValues(service, op, fault).Inc()
	m.latency.WithLabelValues(service, op).Observe(d.Seconds())
}

// ServeStored answers a full read from the answer stored in the database
// for the account's current revision (load: the service's
// store.StoredAnswer, returning the body and the account row read with it,
// whose revision the body is valid for; nil body: none is stored, and
// ServeStored returns nil). With pool (the service's answer cache is off,
// nothing keeps the answer once written) it is decoded into a recycled
// buffer and written from it; otherwise keep puts it in the answer cache at
// its revision.
func ServeStored(pool bool, load func(dst []byte) ([]byte, *models.Account, error), keep func(rev int64, body []byte)) (*Response, error) {
	var dst []byte
	if pool {
		dst = AnswerBuffer()
	}
	body, owner, err := load(dst)
	if err != nil || body == nil {
		return nil, err
	}
	if pool {
		return OKPooled(body), nil
	}
	keep(owner.Revision, body)
	return OK(body), nil
}
