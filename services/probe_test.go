package services_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestProbe replays MSNPSharp's probe calls of the capture: sent to
// byrdr.omega.contacts.msn.com they get the fault naming the preferred
// host and a cache key; the same request to any other host is served.
func TestProbe(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for _, name := range []string{"002_redirect-probe-FindMembership", "004_redirect-probe-ABFindAll"} {
			raw, err := os.ReadFile(filepath.Join(testenv.ClientsDir(t), "captures/msnpsharp-login", name+".http"))
			if err != nil {
				t.Fatal(err)
			}
			head, body, _ := strings.Cut(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n\n")
			path := strings.Fields(head)[1]
			send := func(host string) (*http.Response, string) {
				req, err := http.NewRequest(http.MethodPost, "http://"+s.HTTPAddr+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Host = host
				req.Header.Set("Content-Type", "text/xml; charset=utf-8")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp, string(b)
			}
			t.Run(name+" to byrdr gets the preferred-host fault", func(t *testing.T) {
				resp, b := send("byrdr.omega.contacts.msn.com")
				if resp.StatusCode != http.StatusInternalServerError {
					t.Errorf("HTTP %d", resp.StatusCode)
				}
				for _, want := range []string{"<PreferredHostName>omega.contacts.msn.com</PreferredHostName>", "<CacheKey>12r1:", "<CacheKeyChanged>true</CacheKeyChanged>", "<faultstring>Use preferred host</faultstring>"} {
					if !strings.Contains(b, want) {
						t.Errorf("answer lacks %s: %s", want, b)
					}
				}
			})
			t.Run(name+" to the preferred host is served", func(t *testing.T) {
				_, b := send("omega.contacts.msn.com")
				if strings.Contains(b, "PreferredHostName") || strings.Contains(b, "Use preferred host") {
					t.Errorf("probe answer on the preferred host: %s", b)
				}
			})
		}
	})
}
