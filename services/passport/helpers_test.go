package passport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/server"
	"github.com/abch-im/abch/models"
)

// reply is one HTTP answer as a client reads it.
type reply struct {
	Proto  string
	Status int
	Header http.Header
	Body   []byte
	Raw    string // the status line as sent
}

// sendRaw writes req byte for byte on a fresh connection and reads the
// answer, skipping a "100 Continue" (msnp-sharp sends Expect: 100-continue).
func sendRaw(t testing.TB, addr string, req []byte) reply {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("read response: %v", err)
		}
		if resp.StatusCode == http.StatusContinue {
			continue
		}
		if len(resp.TransferEncoding) > 0 {
			t.Errorf("response uses Transfer-Encoding %v (pidgin hangs on chunked answers)", resp.TransferEncoding)
		}
		if resp.Header.Get("Content-Length") == "" {
			t.Errorf("response has no Content-Length")
		}
		rawHead := resp.Proto + " " + resp.Status // the status line as sent
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read body: %v", err)
		}
		if fmt.Sprint(len(body)) != resp.Header.Get("Content-Length") {
			t.Errorf("Content-Length %s but body has %d bytes", resp.Header.Get("Content-Length"), len(body))
		}
		return reply{Proto: resp.Proto, Status: resp.StatusCode, Header: resp.Header, Body: body, Raw: rawHead}
	}
}

// post sends body to path the way purple does (SOAPAction empty, no space
// after the Content-Type colon).
func post(t testing.TB, addr, path string, body []byte) reply {
	t.Helper()
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nSOAPAction: \r\nContent-Type:text/xml; charset=utf-8\r\nHost: login.live.com\r\nContent-Length: %d\r\n\r\n", path, len(body))
	return sendRaw(t, addr, append([]byte(req), body...))
}

// requestedAddresses lists the AppliesTo addresses of an RST request in
// document order, as the test expects them echoed.
func requestedAddresses(t testing.TB, body []byte) []string {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(body); err != nil {
		t.Fatalf("fixture is not XML: %v", err)
	}
	var out []string
	for _, e := range doc.FindElements("//Address") {
		out = append(out, strings.TrimSpace(e.Text()))
	}
	return out
}

var (
	ticketRe  = regexp.MustCompile(`^t=([A-Za-z0-9_-]+)&p=([A-Za-z0-9_-]+)$`)
	indentRe  = regexp.MustCompile(`>\s+<`)
	hex16Re   = regexp.MustCompile(`^[0-9A-Fa-f]{16}$`)
	timeFmtRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
)

// literal follows a path of prefixed names exactly as written (aMSN's
// xml2list and emesene's expat handler match "wst:…" textually).
func literal(e *etree.Element, path ...string) *etree.Element {
	for _, name := range path {
		var next *etree.Element
		for _, c := range e.ChildElements() {
			if c.FullTag() == name {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		e = next
	}
	return e
}

// checkAnswer asserts everything a client reads from a successful RST
// answer; it returns the token texts by request index.
func checkAnswer(t testing.TB, s *server.Server, acct *models.Account, r reply, want []string) map[int]string {
	t.Helper()
	if r.Proto != "HTTP/1.1" || r.Status != 200 || !strings.HasPrefix(r.Raw, "HTTP/1.1 200 ") {
		t.Fatalf("status: %s %d\n%s\n%s", r.Proto, r.Status, r.Raw, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := string(r.Body)
	if !strings.HasPrefix(body, `<?xml version="1.0" encoding="utf-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Header><psf:pp `) {
		t.Errorf("answer does not start as clients expect: %.200s", body)
	}
	if m := indentRe.FindString(body); m != "" {
		t.Errorf("whitespace between elements (%q): pidgin crashes on it", m)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(r.Body); err != nil {
		t.Fatalf("answer is not XML: %v", err)
	}
	root := doc.Root()
	if root.FullTag() != "S:Envelope" {
		t.Fatalf("root %s", root.FullTag())
	}
	// aMSN: ServerTime, else every token counts as expired.
	si := literal(root, "S:Header", "psf:pp", "psf:serverInfo")
	if si == nil || !timeFmtRe.MatchString(si.SelectAttrValue("ServerTime", "")) {
		t.Errorf("S:Envelope/S:Header/psf:pp/psf:serverInfo@ServerTime missing or malformed")
	}
	if puid := literal(root, "S:Header", "psf:pp", "psf:PUID"); puid == nil || !hex16Re.MatchString(puid.Text()) || puid.Text() != fmt.Sprintf("%016X", acct.PUIDUnsigned()) {
		t.Errorf("psf:PUID wrong")
	}
	props := map[string]string{}
	if cp := literal(root, "S:Header", "psf:pp", "psf:credProperties"); cp != nil {
		for _, p := range cp.SelectElements("psf:credProperty") {
			props[p.SelectAttrValue("Name", "")] = p.Text()
		}
	}
	if props["MainBrandID"] != "MSFT" || props["CID"] != fmt.Sprintf("%016x", uint64(acct.CID)) || props["AuthMembername"] != acct.Email {
		t.Errorf("credProperties: %v", props)
	}
	coll := literal(root, "S:Body", "wst:RequestSecurityTokenResponseCollection")
	if coll == nil {
		t.Fatalf("no S:Body/wst:RequestSecurityTokenResponseCollection")
	}
	// purple 2.5 walks node->next over every child node: each one must be an
	// RSTR with AppliesTo/EndpointReference/Address (a text node segfaults).
	var rstrs []*etree.Element
	for _, tok := range coll.Child {
		e, ok := tok.(*etree.Element)
		if !ok {
			t.Fatalf("non-element node %T between RequestSecurityTokenResponse elements", tok)
		}
		if e.FullTag() != "wst:RequestSecurityTokenResponse" {
			t.Fatalf("unexpected child %s", e.FullTag())
		}
		rstrs = append(rstrs, e)
	}
	if len(rstrs) != len(want) {
		t.Fatalf("%d RSTRs for %d requested tokens", len(rstrs), len(want))
	}
	tokens := map[int]string{}
	for i, rstr := range rstrs {
		addr := literal(rstr, "wsp:AppliesTo", "wsa:EndpointReference", "wsa:Address")
		if addr == nil {
			t.Fatalf("RSTR %d has no wsp:AppliesTo/wsa:EndpointReference/wsa:Address", i)
		}
		if addr.Text() != want[i] {
			t.Errorf("RSTR %d address %q, requested %q", i, addr.Text(), want[i])
		}
		created, expires := literal(rstr, "wst:LifeTime", "wsu:Created"), literal(rstr, "wst:LifeTime", "wsu:Expires")
		if created == nil || expires == nil {
			t.Fatalf("RSTR %d: LifeTime incomplete", i)
		}
		c0, err1 := time.Parse("2006-01-02T15:04:05Z", created.Text())
		c1, err2 := time.Parse("2006-01-02T15:04:05Z", expires.Text())
		if err1 != nil || err2 != nil || c1.Sub(c0) < 24*time.Hour {
			t.Errorf("RSTR %d: lifetime %s..%s (must be >= 24h)", i, created.Text(), expires.Text())
		}
		secret := literal(rstr, "wst:RequestedProofToken", "wst:BinarySecret")
		if secret == nil {
			t.Fatalf("RSTR %d: no wst:RequestedProofToken/wst:BinarySecret", i)
		}
		key, err := base64.StdEncoding.DecodeString(secret.Text())
		if err != nil || len(key) != 24 {
			t.Errorf("RSTR %d: BinarySecret %q is not base64 of 24 bytes", i, secret.Text())
		}
		aud := auth.AudienceFor(want[i])
		if aud == auth.AudTB {
			ed := literal(rstr, "wst:RequestedSecurityToken", "EncryptedData")
			if literal(rstr, "wst:TokenType").Text() != "urn:passport:legacy" || ed == nil || ed.SelectAttrValue("Id", "") != fmt.Sprintf("BinaryDAToken%d", i) {
				t.Errorf("tb RSTR %d malformed", i)
			} else if cv := literal(ed, "CipherData", "CipherValue"); cv == nil || cv.Text() == "" {
				t.Errorf("tb RSTR %d: empty CipherValue", i)
			}
			continue
		}
		bst := literal(rstr, "wst:RequestedSecurityToken", "wsse:BinarySecurityToken")
		if bst == nil {
			t.Fatalf("RSTR %d: no wsse:BinarySecurityToken", i)
		}
		if id := bst.SelectAttrValue("Id", ""); id != fmt.Sprintf("Compact%d", i) {
			t.Errorf("RSTR %d: Id %q, want Compact%d", i, id, i)
		}
		m := ticketRe.FindStringSubmatch(bst.Text())
		if m == nil {
			t.Fatalf("RSTR %d: token %q is not t=[A-Za-z0-9_-]+&p=[A-Za-z0-9_-]+", i, bst.Text())
		}
		if !bytes.Equal(key, s.Deps.Tickets.ProofKey(m[1])) {
			t.Errorf("RSTR %d: BinarySecret is not the ticket's proof key", i)
		}
		p, err := s.Deps.Auth.Verify(context.Background(), bst.Text(), aud)
		if err != nil || p.AccountID != acct.ID {
			t.Errorf("RSTR %d: ticket for %s does not verify for its audience: %v", i, want[i], err)
		}
		tokens[i] = bst.Text()
	}
	if n := strings.Count(body, "&amp;p="); n != len(tokens) {
		t.Errorf("%d tokens written with &amp;p=, want %d", n, len(tokens))
	}
	return tokens
}
