package ab

import (
	"testing"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/corpus"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// FuzzABDecoders runs the AB request decoders (abId check, contactInfo of
// ABContactAdd, ABContactUpdate contacts, annotations, id lists,
// MessengerMemberInfo) over any body that parses. Properties: no panic;
// every refusal is a coded models.Error, never an internal one; what they
// accept is valid UTF-8.
func FuzzABDecoders(f *testing.F) {
	corpus.SeedPath(f, "/abservice/abservice.asmx")
	f.Fuzz(func(t *testing.T, body []byte) {
		op := soap.FirstOperation(body)
		if op == nil {
			return
		}
		coded := func(what string, err error) {
			if err == nil {
				return
			}
			if e := models.AsError(err); e.Code == models.CodeInternalError {
				t.Fatalf("%s: uncoded error %v", what, err)
			}
		}
		valid := func(what string, ss ...string) {
			for _, s := range ss {
				if !utf8.ValidString(s) {
					t.Fatalf("%s: accepted invalid UTF-8 %q", what, s)
				}
			}
		}
		coded("abId", checkAbID(op))
		for _, c := range soap.Children(soap.Child(op, "contacts"), "Contact") {
			in, err := contactInput(soap.Child(c, "contactInfo"))
			coded("contactInput", err)
			if err == nil {
				coded("memberInfo", memberInfo(soap.Child(op, "MessengerMemberInfo"), in))
				valid("contactInput", in.PassportName, in.Email, in.DisplayName, in.QuickName, in.FirstName, in.MiddleName, in.LastName, in.Comment)
			}
			_, err = contactUpdate(c)
			coded("contactUpdate", err)
			anns, err := soap.Annotations(soap.Path(c, "contactInfo", "annotations"), maxAnnotations)
			coded("annotations", err)
			for _, a := range anns {
				valid("annotation", a.Name, a.Value)
			}
		}
		for _, path := range [][]string{{"groupFilter", "groupIds"}, {"groupIds"}, {"contacts"}} {
			ids, err := guidList(soap.Path(op, path...), "ids")
			coded("guidList", err)
			for _, id := range ids {
				if !models.IsGUID(id) {
					t.Fatalf("guidList accepted %q", id)
				}
			}
		}
		coded("memberInfo", memberInfo(soap.Child(op, "MessengerMemberInfo"), &models.NewContact{}))
	})
}
