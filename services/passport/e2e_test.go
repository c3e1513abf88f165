package passport_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

func nsVerify(t *testing.T, nsAddr, key, ticket string) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"ticket": ticket, "email": "alice@example.com"})
	req, _ := http.NewRequest(http.MethodPost, "http://"+nsAddr+"/ns/v1/tickets/verify", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// TestLoginThenNSCheckThenPasswordChange is the whole sign-in path of an
// MSNP15 client: pidgin's captured RST, the NS checks the messengerclear
// token and gets the BinarySecret the client received; after `abch user
// passwd` that ticket and the old password stop working and the new
// password signs in.
func TestLoginThenNSCheckThenPasswordChange(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		acct := testenv.NewAccount(t, s, "alice@example.com", "secret", "")
		raw, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), "captures", "pidgin-2.10.1-login", "001_RST.http"))
		if err != nil {
			t.Fatal(err)
		}
		body := raw[bytes.Index(raw, []byte("\r\n\r\n"))+4:]
		want := requestedAddresses(t, body)
		tokens := checkAnswer(t, s, acct, sendRaw(t, s.HTTPAddr, raw), want)
		clear := -1
		for i, a := range want {
			if a == "messengerclear.live.com" {
				clear = i
			}
		}
		if clear < 0 {
			t.Fatal("capture asks for no messengerclear token")
		}
		code, out := nsVerify(t, s.NSAddr, cfg.NSKey, tokens[clear])
		if code != 200 || out["audience"] != "messengerclear.live.com" || out["email"] != "alice@example.com" {
			t.Fatalf("NS check: %d %v", code, out)
		}
		if pk, _ := out["proof_key"].(string); pk == "" {
			t.Fatalf("no proof key")
		}

		t.Setenv("ABCH_DATA_DIR", cfg.DataDir)
		t.Setenv("ABCH_DATABASE_URL", cfg.DatabaseURL)
		t.Setenv("ABCH_ARGON2_MEMORY_KIB", "1024")
		t.Setenv("ABCH_ARGON2_TIME", "1")
		var errOut bytes.Buffer
		if code := cli.Run([]string{"user", "passwd", "ALICE@example.com", "--password", "new secret"}, io.Discard, &errOut); code != 0 {
			t.Fatalf("user passwd: exit %d: %s", code, errOut.String())
		}
		if code, out := nsVerify(t, s.NSAddr, cfg.NSKey, tokens[clear]); code != 403 {
			t.Fatalf("ticket from before the password change accepted: %d %v", code, out)
		}
		if code := faultOf(t, sendRaw(t, s.HTTPAddr, raw)); code != "wsse:FailedAuthentication" {
			t.Fatalf("old password: %s", code)
		}
		newBody := bytes.Replace(body, []byte("<wsse:Password>secret</wsse:Password>"), []byte("<wsse:Password>new secret</wsse:Password>"), 1)
		fresh := checkAnswer(t, s, acct, post(t, s.HTTPAddr, "//RST.srf", newBody), want)
		if code, out := nsVerify(t, s.NSAddr, cfg.NSKey, fresh[clear]); code != 200 {
			t.Fatalf("new ticket refused: %d %v", code, out)
		}
	})
}
