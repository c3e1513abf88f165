package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/testenv"
)

// TestMalformedDocumentsGetTheServiceFault: a malformed XML declaration,
// invalid UTF-8 and content after the root element get, on every SOAP
// service, the same fault as a body that is not XML at all, and change
// nothing (issue 20: such requests used to run).
func TestMalformedDocumentsGetTheServiceFault(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		s := testenv.StartServer(t, cfg)
		alice := testenv.NewAccount(t, s, "alice@example.com", "pw", "Alice")
		ticket := strings.ReplaceAll(s.Deps.Tickets.Issue(alice.ID, alice.TokenVersion, auth.AudContacts).Text(), "&", "&amp;")
		groups := func() int64 {
			var n int64
			if err := s.Store.DB.Raw("SELECT count(*) FROM ab_groups").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		groupAdd := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><TicketToken>` + ticket +
			`</TicketToken></ABAuthHeader></soap:Header><soap:Body><ABGroupAdd xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><groupAddOptions><fRenameOnMsgrConflict>false</fRenameOnMsgrConflict></groupAddOptions><groupInfo><GroupInfo><name>G</name></GroupInfo></groupInfo></ABGroupAdd></soap:Body></soap:Envelope>`
		mt := s.Deps.Tickets.Issue(alice.ID, alice.TokenVersion, auth.AudMessenger)
		abHeader := `<soap:Header><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><TicketToken>` + ticket + `</TicketToken></ABAuthHeader></soap:Header>`
		const soapOpen = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`
		// A request each service answers 200 when it is well-formed (OIM
		// Store needs a lock key challenge: any fault other than the
		// malformed-request one tells the request was read).
		valid := map[string]string{
			"/abservice/abservice.asmx":      groupAdd,
			"/abservice/SharingService.asmx": soapOpen + abHeader + `<soap:Body><FindMembership xmlns="http://www.msn.com/webservices/AddressBook"><serviceFilter><Types><ServiceType>Messenger</ServiceType></Types></serviceFilter></FindMembership></soap:Body></soap:Envelope>`,
			"/RST.srf":                       `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsse:UsernameToken Id="user"><wsse:Username>alice@example.com</wsse:Username><wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS"><wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST0"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>http://Passport.NET/tb</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken></ps:RequestMultipleSecurityTokens></Body></Envelope>`,
			"/rsi/rsi.asmx":                  soapOpen + `<soap:Header><PassportCookie xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"><t>` + strings.ReplaceAll(mt.T, "&", "&amp;") + `</t><p>` + strings.ReplaceAll(mt.P, "&", "&amp;") + `</p></PassportCookie></soap:Header><soap:Body><GetMetadata xmlns="http://www.hotmail.msn.com/ws/2004/09/oim/rsi"/></soap:Body></soap:Envelope>`,
			"/OimWS/oim.asmx":                groupAdd,
		}
		faultcode := regexp.MustCompile(`<faultcode[^>]*>([^<]*)</faultcode>`)
		for path, good := range valid {
			variants := map[string]string{
				"misspelt version":               `<?xml vevsion='1.0' encoding='utf-8'?>` + good,
				"invalid UTF-8 in the encoding":  "<?xml version='1.0' encoding='utf\xff-8'?>" + good,
				"envelope written twice":         good + good,
				"trailing text":                  good + "x",
				"invalid UTF-8 in a comment":     "<!--\xff-->" + good,
				"declaration after the envelope": good + `<?xml version="1.0"?>`,
			}
			ref := rawPost(t, s.HTTPAddr, "HTTP/1.1", path, "<not-xml")
			refStatus, refCode := firstLine(ref), faultcode.FindStringSubmatch(ref)
			if refCode == nil {
				t.Fatalf("%s: no faultcode for a non-XML body:\n%s", path, ref)
			}
			t.Run(path+": control: the well-formed request is read", func(t *testing.T) {
				got := rawPost(t, s.HTTPAddr, "HTTP/1.1", path, `<?xml version="1.0" encoding="utf-8"?>`+good+"\r\n")
				if path == "/OimWS/oim.asmx" {
					if code := faultcode.FindStringSubmatch(got); code == nil || code[1] == refCode[1] {
						t.Fatalf("got %v:\n%s", code, got)
					}
					return
				}
				if !strings.HasPrefix(got, "HTTP/1.1 200 ") {
					t.Fatalf("got:\n%s", got)
				}
			})
			for name, body := range variants {
				t.Run(path+": "+name+" gets the malformed-request fault", func(t *testing.T) {
					before := groups()
					got := rawPost(t, s.HTTPAddr, "HTTP/1.1", path, body)
					code := faultcode.FindStringSubmatch(got)
					if firstLine(got) != refStatus || code == nil || code[1] != refCode[1] {
						t.Fatalf("got %q %v, want %q %q:\n%s", firstLine(got), code, refStatus, refCode[1], got)
					}
					if groups() != before {
						t.Fatal("the request ran: a group was created")
					}
				})
			}
		}
	})
}
