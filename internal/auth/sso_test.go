package auth

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVerifySSOResponseKnownAnswers checks the USR SSO S answers real
// clients computed in the captures (captures/README.md: the secret is the
// messengerclear BinarySecret in 001_RST.resp, the nonce and the answer are
// in ns.log). The captures are the repository's copy under fixtures/clients
// (testenv imports this package, so the path is spelled from here).
func TestVerifySSOResponseKnownAnswers(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "clients", "captures", "*"))
	secretRe := regexp.MustCompile(`messengerclear\.live\.com</wsa:Address>.*?<wst:BinarySecret>([^<]+)</wst:BinarySecret>`)
	nonceRe := regexp.MustCompile(`(?m)^S: USR \d+ SSO S \S+ (\S+)`)
	answerRe := regexp.MustCompile(`(?m)^C: USR \d+ SSO S \S+ (\S+)`)
	n := 0
	for _, dir := range dirs {
		resp, err1 := os.ReadFile(filepath.Join(dir, "001_RST.resp"))
		nslog, err2 := os.ReadFile(filepath.Join(dir, "ns.log"))
		if err1 != nil || err2 != nil {
			continue
		}
		sm, nm, am := secretRe.FindSubmatch(resp), nonceRe.FindSubmatch(nslog), answerRe.FindSubmatch(nslog)
		if sm == nil || nm == nil || am == nil {
			continue // MSNP13 (TWN) runs have no SSO exchange
		}
		key, err := base64.StdEncoding.DecodeString(string(sm[1]))
		if err != nil {
			t.Fatalf("%s: secret: %v", dir, err)
		}
		nonce, answer := string(nm[1]), string(am[1])
		if !VerifySSOResponse(key, nonce, answer) {
			t.Errorf("%s: the client's answer does not verify", filepath.Base(dir))
		}
		if VerifySSOResponse(key, nonce+"x", answer) {
			t.Errorf("%s: answer verifies for another nonce", filepath.Base(dir))
		}
		bad := append([]byte(nil), key...)
		bad[0] ^= 1
		if VerifySSOResponse(bad, nonce, answer) {
			t.Errorf("%s: answer verifies with another key", filepath.Base(dir))
		}
		// Our client-side computation with the client's IV gives the same
		// header, IV and HMAC (the cipher tail differs: purple copies heap
		// bytes past its buffer).
		rawAnswer, _ := base64.StdEncoding.DecodeString(answer)
		mine, err := SSOResponse(key, nonce, rawAnswer[28:36])
		if err != nil {
			t.Fatal(err)
		}
		rawMine, _ := base64.StdEncoding.DecodeString(mine)
		if string(rawMine[:24]) != string(rawAnswer[:24]) || string(rawMine[28:56]) != string(rawAnswer[28:56]) {
			t.Errorf("%s: SSOResponse differs from the client's answer", filepath.Base(dir))
		}
		if !VerifySSOResponse(key, nonce, mine) {
			t.Errorf("%s: our own answer does not verify", filepath.Base(dir))
		}
		n++
	}
	if n < 3 {
		t.Fatalf("only %d known-answer vectors found under fixtures/clients/captures", n)
	}
	if VerifySSOResponse([]byte("k"), "n", "not base64!") || VerifySSOResponse([]byte("k"), "n", base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 40)))) {
		t.Errorf("garbage blobs must not verify")
	}
}
