package storage_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
)

// fixedNow is the deterministic clock of golden-file tests.
var fixedNow = time.Date(2009, 3, 14, 18, 2, 11, 250_000_000, time.UTC)

// storageHost is the Host clients send (captures/msnpsharp-login).
const storageHost = "tkrdr.storage.msn.com"

// env is one running server with Alice and Bob, whose CIDs are fixed so
// resource ids and URLs are reproducible.
type env struct {
	t          testing.TB
	s          *server.Server
	base       string
	alice, bob *models.Account
}

func newEnv(t *testing.T, s *server.Server) *env {
	t.Helper()
	testenv.Deterministic(s.Deps.Store, fixedNow, 0, "5f0c6a2e-9b1d-4e3f-8a7c-")
	e := &env{t: t, s: s, base: "http://" + s.HTTPAddr}
	e.alice = e.account("alice@example.com", "Alice", 1000)
	e.bob = e.account("bob@example.com", "Bob", -5734210987654321012)
	return e
}

func (e *env) account(email, name string, cid int64) *models.Account {
	e.t.Helper()
	a, err := e.s.Deps.Store.CreateAccount(context.Background(), store.NewAccount{Email: email, DisplayName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.s.Deps.Store.DB.Exec("UPDATE accounts SET cid = ? WHERE id = ?", cid, a.ID).Error; err != nil {
		e.t.Fatal(err)
	}
	a.CID = cid
	return a
}

// ticket is a's storage.msn.com ticket as StorageUserHeader carries it.
func (e *env) ticket(a *models.Account) string {
	return e.ticketFor(a, auth.AudStorage)
}

func (e *env) ticketFor(a *models.Account, aud auth.Audience) string {
	tk := e.s.Deps.Tickets.Issue(a.ID, a.TokenVersion, aud)
	return "t=" + tk.T + "&amp;p=" + tk.P
}

// post sends one SOAP request to path with Host tkrdr.storage.msn.com.
func (e *env) post(path, op, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = storageHost
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"http://www.msn.com/webservices/storage/w10/`+op+`"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.ContentLength != int64(len(b)) {
		e.t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
	}
	return resp.StatusCode, string(b)
}

// call posts op's request (built by the request builders below) to the
// service path and fails the test unless it answers 200.
func (e *env) call(op, body string) string {
	e.t.Helper()
	code, resp := e.post("/storageservice/SchematizedStore.asmx", op, body)
	if code != http.StatusOK {
		e.t.Fatalf("%s: HTTP %d: %s", op, code, resp)
	}
	return resp
}

// fault posts op's request and checks it gets the storage fault with
// errorcode code.
func (e *env) fault(op, body, code string) string {
	e.t.Helper()
	status, resp := e.post("/storageservice/SchematizedStore.asmx", op, body)
	if status != http.StatusInternalServerError {
		e.t.Fatalf("%s: HTTP %d, want 500: %s", op, status, resp)
	}
	want := `<errorcode xmlns="http://www.msn.com/webservices/storage/w10">` + code + `</errorcode>`
	if !strings.Contains(resp, want) || !strings.Contains(resp, "<soap:Fault><faultcode>soap:Client</faultcode>") {
		e.t.Fatalf("%s: want fault %s, got %s", op, code, resp)
	}
	return resp
}

// get fetches url and returns the response with its body read.
func (e *env) get(url string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func (e *env) count(model any, where string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.s.Deps.Store.DB.Model(model).Where(where, args...).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// golden compares got with fixtures/storage/name (testenv.Golden: one
// -update flag for every package).
func golden(t *testing.T, name, got string) {
	t.Helper()
	testenv.Golden(t, "storage", name, got)
}

// pngImage is a small w x h PNG whose pixels depend on seed.
func pngImage(t testing.TB, w, h int, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: byte(x) ^ seed, G: byte(y) + seed, B: byte(x*y) ^ seed, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// The requests below are built the way MSNPSharp's generated proxy
// (XmlSerializer: soap prefix, xsi/xsd declared, storage namespace on each
// element) and papyon's templates write them.

const envOpen = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`

// msnpHeader is MSNPSharp's header block for scenario.
func msnpHeader(ticket, scenario string) string {
	return `<soap:Header><AffinityCacheHeader xmlns="http://www.msn.com/webservices/storage/w10"><CacheKey>1p8CXNxj7cA5bq2Cgp8yEnEUqwy2c0wu2oYSpWfFo0dHz96yQBbMw-_Ra6Lmq-ryTDnLz5-Uh1p84</CacheKey></AffinityCacheHeader><StorageApplicationHeader xmlns="http://www.msn.com/webservices/storage/w10"><ApplicationID>Messenger Client 8.5</ApplicationID><Scenario>` + scenario + `</Scenario></StorageApplicationHeader><StorageUserHeader xmlns="http://www.msn.com/webservices/storage/w10"><Puid>0</Puid><TicketToken>` + ticket + `</TicketToken></StorageUserHeader></soap:Header>`
}

// papyonHeader is papyon's header block: no AffinityCacheHeader, indented,
// with the values wrapped in whitespace.
func papyonHeader(ticket, scenario string) string {
	return `<soap:Header><StorageApplicationHeader xmlns="http://www.msn.com/webservices/storage/w10">
            <ApplicationID>Messenger Client 8.0</ApplicationID>
            <Scenario>
                ` + scenario + `
            </Scenario>
        </StorageApplicationHeader>
        <StorageUserHeader xmlns="http://www.msn.com/webservices/storage/w10">
            <Puid>0</Puid>
            <TicketToken>
                ` + ticket + `
            </TicketToken>
        </StorageUserHeader></soap:Header>`
}

func body(op, inner string) string {
	return `<soap:Body><` + op + ` xmlns="http://www.msn.com/webservices/storage/w10">` + inner + `</` + op + `></soap:Body></soap:Envelope>`
}

func alias(cid int64) string {
	return fmt.Sprintf(`<Alias><Name>%d</Name><NameSpace>MyCidStuff</NameSpace></Alias>`, cid)
}

var reCaptureTicket = regexp.MustCompile(`<TicketToken>[^<]*</TicketToken>`)

// getProfileReq is the capture's GetProfile (006_GetProfile) with a's
// ticket and CID.
func getProfileReq(t testing.TB, a *models.Account, ticket string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), "captures/msnpsharp-login/006_GetProfile.http"))
	if err != nil {
		t.Fatal(err)
	}
	_, b, ok := strings.Cut(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n")
	if !ok {
		t.Fatal("capture has no body")
	}
	b = reCaptureTicket.ReplaceAllString(strings.TrimRight(b, "\n"), "<TicketToken>"+ticket+"</TicketToken>")
	return strings.Replace(b, "<Name>1000</Name>", fmt.Sprintf("<Name>%d</Name>", a.CID), 1)
}

func createProfileReq(ticket string) string {
	return envOpen + msnpHeader(ticket, "RoamingSeed") + body("CreateProfile",
		`<profile><ExpressionProfile><PersonalStatus /><RoleDefinitionName>ExpressionProfileDefault</RoleDefinitionName></ExpressionProfile></profile>`)
}

// updateProfileMSNP names the profile by the ExpressionProfile's id as
// NS_CLIENT_FACTS.md reports for MSNPSharp.
func updateProfileMSNP(ticket, rid, name, status string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("UpdateProfile",
		`<profile><ResourceID>`+rid+`</ResourceID><ExpressionProfile><FreeText>Update</FreeText><DisplayName>`+name+`</DisplayName><PersonalStatus>`+status+`</PersonalStatus><Flags>0</Flags></ExpressionProfile></profile>`)
}

// updateProfilePapyon names the profile by the profile's own id.
func updateProfilePapyon(ticket, rid, name, status string) string {
	return envOpen + papyonHeader(ticket, "RoamingIdentityChanged") + body("UpdateProfile",
		`<profile><ResourceID>`+rid+`</ResourceID><ExpressionProfile><FreeText>Update</FreeText><DisplayName>`+name+`</DisplayName><PersonalStatus>`+status+`</PersonalStatus><Flags>0</Flags></ExpressionProfile></profile>`)
}

func findDocumentsReq(ticket string, cid int64) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("FindDocuments",
		`<objectHandle><RelationshipName>/UserTiles</RelationshipName>`+alias(cid)+`</objectHandle><documentAttributes><ResourceID>true</ResourceID><Name>true</Name></documentAttributes><documentFilter><FilterAttributes>None</FilterAttributes></documentFilter><documentSort><SortBy>DateModified</SortBy></documentSort><findContext><FindMethod>Default</FindMethod><ChunkSize>25</ChunkSize></findContext>`)
}

// createDocumentReq is MSNPSharp's CreateDocument (MimeType "png").
func createDocumentReq(ticket string, cid int64, mime, data string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("CreateDocument",
		`<parentHandle><RelationshipName>/UserTiles</RelationshipName>`+alias(cid)+`</parentHandle><document xsi:type="Photo"><Name>tile.png</Name><DocumentStreams><DocumentStream xsi:type="PhotoStream"><DocumentStreamType>UserTileStatic</DocumentStreamType><MimeType>`+mime+`</MimeType><Data>`+data+`</Data><DataSize>0</DataSize></DocumentStream></DocumentStreams></document><relationshipName>Messenger User Tile</relationshipName>`)
}

func updateDocumentReq(ticket, rid, data string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("UpdateDocument",
		`<document xsi:type="Photo"><ResourceID>`+rid+`</ResourceID><Name>tile2.png</Name><DocumentStreams><DocumentStream xsi:type="PhotoStream"><DocumentStreamType>UserTileStatic</DocumentStreamType><MimeType>image/png</MimeType><Data>`+data+`</Data><DataSize>0</DataSize></DocumentStream></DocumentStreams></document>`)
}

func createRelationshipsReq(ticket, source, target string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("CreateRelationships",
		`<relationships><Relationship><SourceID>`+source+`</SourceID><SourceType>SubProfile</SourceType><TargetID>`+target+`</TargetID><TargetType>Photo</TargetType><RelationshipName>ProfilePhoto</RelationshipName></Relationship></relationships>`)
}

// deleteRelationshipsByID is MSNPSharp's profile -> photo form.
func deleteRelationshipsByID(ticket, source, target string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("DeleteRelationships",
		`<sourceHandle><ResourceID>`+source+`</ResourceID></sourceHandle><targetHandles><ObjectHandle><ResourceID>`+target+`</ResourceID></ObjectHandle></targetHandles>`)
}

// deleteRelationshipsByAlias is MSNPSharp's /UserTiles -> photo form.
func deleteRelationshipsByAlias(ticket string, cid int64, target string) string {
	return envOpen + msnpHeader(ticket, "RoamingIdentityChanged") + body("DeleteRelationships",
		`<sourceHandle><RelationshipName>/UserTiles</RelationshipName>`+alias(cid)+`</sourceHandle><targetHandles><ObjectHandle><ResourceID>`+target+`</ResourceID></ObjectHandle></targetHandles>`)
}

func shareItemReq(ticket, rid string) string {
	return envOpen + msnpHeader(ticket, "RoamingSeed") + body("ShareItem",
		`<resourceID>`+rid+`</resourceID><displayName>Messenger Roaming Identity</displayName>`)
}

var (
	reResult  = regexp.MustCompile(`<(?:CreateDocument|CreateProfile)Result>([^<]*)<`)
	rePreAuth = regexp.MustCompile(`<PreAuthURL>([^<]*)</PreAuthURL>`)
	rePublic  = regexp.MustCompile(`<StaticUserTilePublicURL>([^<]*)</StaticUserTilePublicURL>`)
)

func match(t testing.TB, re *regexp.Regexp, s string) string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%s not in %s", re, s)
	}
	return m[1]
}
