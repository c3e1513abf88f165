package nsapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/nsclient"
)

// BenchmarkSynAddRemove measures one MSNP9 ADD FL (into group 0) plus its
// REM FL 0 through the NS API over loopback HTTP: two transactions, each
// with the reverse-list change on the target and the events.
func BenchmarkSynAddRemove(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			cfg := testenv.Config(b, db)
			s := testenv.StartServer(b, cfg)
			api := nsclient.New("http://"+s.NSAddr, cfg.NSKey)
			ctx := context.Background()
			alice := testenv.NewAccount(b, s, "alice@example.com", "x", "Alice")
			testenv.NewAccount(b, s, "bob@example.com", "x", "Bob")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := nsclient.ListWrite{List: "FL", Address: "bob@example.com", Group: "0"}
				if _, err := api.AddToList(ctx, alice.Email, w); err != nil {
					b.Fatal(err)
				}
				if _, err := api.RemoveFromList(ctx, alice.Email, w); err != nil {
					b.Fatal(fmt.Errorf("round %d: %w", i, err))
				}
			}
		})
	}
}
