package cli_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestServeRunsTheWebPages starts `abch serve` in-process with the web
// pages on a free port: the pages answer, the dashboard takes the token,
// and `ABCH_WEB_ADDR=off` serves none.
func TestServeRunsTheWebPages(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		web := testenv.FreeAddr(t)
		for k, v := range map[string]string{
			"ABCH_DATA_DIR": cfg.DataDir, "ABCH_DATABASE_URL": cfg.DatabaseURL, "ABCH_HTTP_ADDR": "127.0.0.1:0",
			"ABCH_NS_ADDR": "127.0.0.1:0", "ABCH_MSNP_ADDR": "off", "ABCH_NATS_LISTEN": "127.0.0.1:-1",
			"ABCH_WEB_ADDR": web, "ABCH_ADMIN_TOKEN": "cli-test-token-0123456789", "ABCH_LOG_LEVEL": "error", "ABCH_NS_KEY": "k",
		} {
			t.Setenv(k, v)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			root := cli.NewRoot(io.Discard, io.Discard)
			root.SetArgs([]string{"serve"})
			done <- root.ExecuteContext(ctx)
		}()
		defer func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("serve did not stop")
			}
		}()
		testenv.WaitListen(t, web)
		get := func(path, token string) (int, string) {
			req, _ := http.NewRequest(http.MethodGet, "http://"+web+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, body := get("/signup", ""); code != http.StatusOK || !strings.Contains(body, "What is") {
			t.Fatalf("sign-up page: %d\n%s", code, body)
		}
		if code, body := get("/admin", "cli-test-token-0123456789"); code != http.StatusOK || !strings.Contains(body, `id="database"><span class="ok">up`) {
			t.Fatalf("dashboard: %d\n%s", code, body)
		}
		if code, _ := get("/admin", "wrong-token-wrong-token"); code != http.StatusUnauthorized {
			t.Fatalf("dashboard with a wrong token: %d", code)
		}
	})
}

func TestInviteCommands(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		run := adminEnv(t, cfg) // user_admin_test.go
		t.Setenv("ABCH_SIGNUP", "invite")
		if _, errOut, code := run("", "migrate"); code != 0 {
			t.Fatalf("migrate: %s", errOut)
		}
		out, errOut, code := run("", "invite", "create", "--count", "3", "--note", "club")
		codes := regexp.MustCompile(`(?m)^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$`).FindAllString(out, -1)
		if code != 0 || len(codes) != 3 || errOut != "" {
			t.Fatalf("invite create: exit %d, %q, %q", code, out, errOut)
		}
		out, _, code = run("", "invite", "list")
		if code != 0 || strings.Count(out, "club") != 3 || !strings.Contains(out, codes[0]) {
			t.Fatalf("invite list: %q", out)
		}
		if _, errOut, code := run("", "invite", "create", "--count", "0"); code == 0 || !strings.Contains(errOut, "1 to 1000") {
			t.Fatalf("--count 0: exit %d %q", code, errOut)
		}
		t.Setenv("ABCH_SIGNUP", "open")
		if _, errOut, _ := run("", "invite", "create"); !strings.Contains(errOut, "ABCH_SIGNUP=invite") {
			t.Fatalf("no note that open sign-up ignores codes: %q", errOut)
		}
	})
}

func TestUserAddPasswordRules(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		run := adminEnv(t, cfg)
		if _, errOut, code := run("tab\tpass\n", "user", "add", "tab@example.com", "--password-stdin"); code == 0 || !strings.Contains(errOut, "control characters") {
			t.Fatalf("a tab in the password: exit %d %q", code, errOut)
		}
		_, errOut, code := run("0123456789abcdefXYZ\n", "user", "add", "long@example.com", "--password-stdin")
		if code != 0 || !strings.Contains(errOut, "first 16") {
			t.Fatalf("a 19-character password: exit %d %q", code, errOut)
		}
		if _, errOut, code := run("", "user", "add", "nl@example.com", "--password", "goodpass1", "--name", "a\nb"); code == 0 || !strings.Contains(errOut, "display name") {
			t.Fatalf("a line break in the name: exit %d %q", code, errOut)
		}
	})
}
