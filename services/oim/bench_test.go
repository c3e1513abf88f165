package oim_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
)

// BenchmarkStoreAndFetch measures one Store2 (lock key verified, stored with
// its event) and one GetMessage over loopback HTTP on the embedded database.
func BenchmarkStoreAndFetch(b *testing.B) {
	cfg := testenv.Config(b, testenv.DB{Name: store.DialectSQLite})
	cfg.OIMMaxPerRecipient = 1 << 30
	s := testenv.StartServer(b, cfg)
	// The real clock: a standing one would throttle the sender.
	e := &env{Service: &testenv.Service{Server: s, T: b, Base: "http://" + s.HTTPAddr}}
	e.alice = e.Account("alice@example.com", "Alice")
	e.bob = e.Account("bob@example.com", "Bob")
	storeBody := e.validStore(b, e.alice)
	get := withCookie(readClientFile(b, "requests/papyon/GetMessage.xml"), e.Ticket(e.bob, auth.AudMessenger))
	do := func(path, action, body string) {
		req, _ := http.NewRequest(http.MethodPost, e.Base+path, strings.NewReader(body))
		req.Header.Set("SOAPAction", action)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", action, resp.StatusCode)
		}
	}
	b.Run("Store2", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			do(oimPath, actStore2, storeBody)
		}
	})
	list, err := s.Deps.Store.OfflineMessages(b.Context(), e.bob.ID)
	if err != nil || len(list) == 0 {
		b.Fatal("nothing stored", err)
	}
	getOne := withMessageID(get, list[0].GUID)
	b.Run("GetMessage", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			do(rsiPath, actRSI+"GetMessage", getOne)
		}
	})
}
