package soap_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/services/soap"
)

func abFindAll(b *testing.B) []byte {
	body, err := os.ReadFile(filepath.Join(testenv.ClientsDir(b), "requests", "libpurple-2.5.0", "ABFindAll.xml"))
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkDispatchUnknownOperation is the SOAP layer alone: read the body,
// parse it (DTD check, etree), find the service and operation, and render
// the AB fault for an unknown operation (no handler, no database).
func BenchmarkDispatchUnknownOperation(b *testing.B) {
	body := bytes.Replace(abFindAll(b), []byte("ABFindAll"), []byte("ABNoSuchThing"), -1)
	svc := &soap.Service{Name: "abservice", Paths: []string{"/abservice/abservice.asmx"}, Ops: map[string]soap.Handler{}, Fault: soap.ABFaults("ABCH01")}
	d := soap.NewDispatcher(1<<20, nil, nil, svc)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "//abservice/abservice.asmx", bytes.NewReader(body))
		w := httptest.NewRecorder()
		d.ServeHTTP(w, req)
		if w.Code != http.StatusInternalServerError {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkParse is the XML parse of a real ABFindAll request alone.
func BenchmarkParse(b *testing.B) {
	body := abFindAll(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := soap.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
