package passport_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

// BenchmarkRSTLogin measures complete sign-ins through the real HTTP stack
// (loopback, keep-alive client, embedded database): purple 2.5's
// eight-token request, password check, eight tickets, answer. The argon2id
// hash dominates, so it runs with the production parameters (19 MiB, t=2)
// and with the cheap test parameters (1 MiB, t=1) to show the rest.
func BenchmarkRSTLogin(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(testenv.ClientsDir(b), "requests", "libpurple-2.5.0", "RequestMultipleSecurityTokens.xml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range []struct {
		name      string
		mem, time uint32
	}{{"argon2id-19MiB-t2", 19 * 1024, 2}, {"argon2id-1MiB-t1", 1024, 1}} {
		b.Run(p.name, func(b *testing.B) {
			cfg := testenv.Config(b, testenv.DB{Name: store.DialectSQLite})
			cfg.Argon2Memory, cfg.Argon2Time = p.mem, p.time
			s := testenv.StartServer(b, cfg)
			h, err := auth.HashPassword("secret-password", auth.Argon2Params{MemoryKiB: p.mem, Time: p.time, Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Deps.Store.CreateAccount(context.Background(), store.NewAccount{Email: "alice@example.com", PasswordHash: h}); err != nil {
				b.Fatal(err)
			}
			url := "http://" + s.HTTPAddr + "/RST.srf"
			client := &http.Client{}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := client.Post(url, "text/xml; charset=utf-8", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n < 1000 {
					b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}

// BenchmarkArgon2id is the password check alone, for comparison.
func BenchmarkArgon2id(b *testing.B) {
	params := auth.Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Parallelism: 1}
	h, _ := auth.HashPassword("secret-password", params)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ok, _ := auth.VerifyPassword(h, "secret-password", params); !ok {
			b.Fatal("no match")
		}
	}
}
