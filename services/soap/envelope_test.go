package soap_test

import (
	"strings"
	"testing"

	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

const envelopeStart = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`

func TestServiceHeader(t *testing.T) {
	t.Run("an answer carries its account's CacheKey with CacheKeyChanged=true, as every captured AB and Sharing answer does", func(t *testing.T) {
		got := string(soap.EmptyResponse(soap.BeginAB(0, 42), "ABAddResponse", soap.NSAB))
		want := envelopeStart + `<soap:Header><ServiceHeader xmlns="http://www.msn.com/webservices/AddressBook"><Version>` + soap.ServiceVersion +
			`</Version><CacheKey>` + soap.CacheKey(42) + `</CacheKey><CacheKeyChanged>true</CacheKeyChanged></ServiceHeader></soap:Header>` +
			`<soap:Body><ABAddResponse xmlns="http://www.msn.com/webservices/AddressBook"/></soap:Body></soap:Envelope>`
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("the cache key is stable per account and differs between accounts", func(t *testing.T) {
		if k := soap.CacheKey(42); k != soap.CacheKey(42) || k == soap.CacheKey(43) || !strings.HasPrefix(k, "12r1:") {
			t.Errorf("CacheKey(42) = %q, CacheKey(43) = %q", k, soap.CacheKey(43))
		}
	})
	t.Run("no PreferredHostName: MSNPSharp would move every later call there", func(t *testing.T) {
		if strings.Contains(string(soap.End(soap.BeginAB(0, 1))), "PreferredHostName") {
			t.Error("PreferredHostName sent")
		}
	})
	t.Run("the redirect probe's header names the host and the session after the key", func(t *testing.T) {
		w := soap.Begin(0)
		soap.ServiceHeader{CacheKey: "12r1:s", PreferredHostName: "contacts.msn.com", SessionID: "s"}.Write(w)
		want := envelopeStart + `<soap:Header><ServiceHeader xmlns="http://www.msn.com/webservices/AddressBook"><Version>` + soap.ServiceVersion +
			`</Version><CacheKey>12r1:s</CacheKey><CacheKeyChanged>true</CacheKeyChanged><PreferredHostName>contacts.msn.com</PreferredHostName>` +
			`<SessionId>s</SessionId></ServiceHeader></soap:Header>`
		if got := string(w.Bytes()); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("a plain envelope has no header", func(t *testing.T) {
		if got := string(soap.End(soap.BeginPlain(0))); got != envelopeStart+`<soap:Body></soap:Body></soap:Envelope>` {
			t.Errorf("got %s", got)
		}
	})
}

func TestABFaultShape(t *testing.T) {
	t.Run("a message-carrying code shows the message, escaped with named entities", func(t *testing.T) {
		e := &models.Error{Code: models.CodeBadArgumentLength, Message: `name "a<b" is too long`, Param: "GroupName"}
		got := string(soap.ABFault(e, "ABGroupAdd", "AB1"))
		want := envelopeStart + `<soap:Body><soap:Fault><faultcode>soap:Client</faultcode><faultstring>name "a&lt;b" is too long</faultstring>` +
			`<faultactor>http://www.msn.com/webservices/AddressBook/ABGroupAdd</faultactor><detail>` +
			`<errorcode xmlns="http://www.msn.com/webservices/AddressBook">BadArgumentLength</errorcode>` +
			`<errorstring xmlns="http://www.msn.com/webservices/AddressBook">name "a&lt;b" is too long</errorstring>` +
			`<machineName xmlns="http://www.msn.com/webservices/AddressBook">AB1</machineName><parameterFault>GroupName</parameterFault>` +
			`<additionalDetails><originalExceptionErrorMessage>name "a&lt;b" is too long</originalExceptionErrorMessage></additionalDetails>` +
			`</detail></soap:Fault></soap:Body></soap:Envelope>`
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("the table's text wins over the message for MSNPSharp's substring checks", func(t *testing.T) {
		text, server := soap.ABFaultString(&models.Error{Code: models.CodeFullSyncRequired, Message: "cursor too old"})
		if !strings.Contains(text, "Need to do full sync") || server {
			t.Errorf("%q server=%v", text, server)
		}
	})
	t.Run("internal errors are soap:Server with a generic text", func(t *testing.T) {
		got := string(soap.ABFault(&models.Error{Code: models.CodeInternalError, Message: "pq: connection refused"}, "", "AB1"))
		if !strings.Contains(got, "<faultcode>soap:Server</faultcode><faultstring>Internal server error</faultstring>") || strings.Contains(got, "pq:") {
			t.Errorf("got %s", got)
		}
		if strings.Contains(got, "<faultactor>") {
			t.Error("faultactor without an operation")
		}
	})
	t.Run("an unknown code with no message still has a non-empty errorcode and text", func(t *testing.T) {
		text, _ := soap.ABFaultString(&models.Error{Code: "SomethingNew"})
		if text != "SomethingNew" {
			t.Errorf("text %q", text)
		}
	})
}
