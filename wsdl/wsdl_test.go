package wsdl_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestWSDLServed fetches GET <path>?wsdl from the running server for every
// service and checks the document is well-formed and names each operation
// abch implements, with its SOAPAction.
func TestWSDLServed(t *testing.T) {
	ab := "http://www.msn.com/webservices/AddressBook/"
	rsi := "http://www.hotmail.msn.com/ws/2004/09/oim/rsi/"
	cases := map[string]map[string]string{
		"/abservice/abservice.asmx?wsdl": {
			"ABFindAll": ab + "ABFindAll", "ABFindContactsPaged": ab + "ABFindContactsPaged", "ABContactAdd": ab + "ABContactAdd",
			"ABContactDelete": ab + "ABContactDelete", "ABContactUpdate": ab + "ABContactUpdate", "ABGroupAdd": ab + "ABGroupAdd",
			"ABGroupDelete": ab + "ABGroupDelete", "ABGroupUpdate": ab + "ABGroupUpdate", "ABGroupContactAdd": ab + "ABGroupContactAdd",
			"ABGroupContactDelete": ab + "ABGroupContactDelete", "ABAdd": ab + "ABAdd",
		},
		"/abservice/SharingService.asmx?WSDL": {"FindMembership": ab + "FindMembership", "AddMember": ab + "AddMember", "DeleteMember": ab + "DeleteMember"},
		"//RST.srf?wsdl":                      {"RequestMultipleSecurityTokens": "", "RequestSecurityToken": ""},
		"/OimWS/oim.asmx?wsdl":                {"Store": "http://messenger.msn.com/ws/2004/09/oim/Store", "Store2": "http://messenger.live.com/ws/2006/09/oim/Store2"},
		"/rsi/rsi.asmx?wsdl":                  {"GetMetadata": rsi + "GetMetadata", "GetMessage": rsi + "GetMessage", "DeleteMessages": rsi + "DeleteMessages"},
	}
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		for path, ops := range cases {
			resp, err := http.Get("http://" + s.HTTPAddr + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(body); err != nil {
				t.Fatalf("%s: not well-formed: %v", path, err)
			}
			if doc.Root() == nil || doc.Root().Tag != "definitions" {
				t.Fatalf("%s: root is not wsdl:definitions", path)
			}
			got := map[string]string{}
			for _, op := range doc.FindElements("//binding/operation") {
				action := ""
				if so := op.SelectElement("soap:operation"); so != nil {
					action = so.SelectAttrValue("soapAction", "?")
				}
				got[op.SelectAttrValue("name", "")] = action
			}
			for op, action := range ops {
				if a, ok := got[op]; !ok || a != action {
					t.Errorf("%s: operation %s has soapAction %q (present %v), want %q", path, op, a, ok, action)
				}
			}
			if len(got) != len(ops) {
				t.Errorf("%s: %d operations described, want %d: %v", path, len(got), len(ops), got)
			}
			if n := len(doc.FindElements("//portType/operation")); n != len(ops) {
				t.Errorf("%s: portType has %d operations", path, n)
			}
		}
	})
}
