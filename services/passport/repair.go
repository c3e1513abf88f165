package passport

import (
	"bytes"
	"regexp"
)

// passwordElement finds the UsernameToken password, any prefix.
var passwordElement = regexp.MustCompile(`(?s)(<(?:[A-Za-z0-9_]+:)?Password(?:\s[^>]*)?>)(.*?)(</(?:[A-Za-z0-9_]+:)?Password>)`)

// entityRef matches the references a well-formed password may contain.
var entityRef = regexp.MustCompile(`^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);`)

// repairPassword escapes a password written into the XML without escaping.
// pidgin 2.4 (MSNP13) builds its RST from a template and inserts the password
// as is (clients/RST_OIM.md §1.2), so a password with '&' or '<' made its
// request malformed and the user could never sign in. Only the text inside
// the Password element is touched, and only bare '&' (not starting an entity
// reference) and '<' are escaped; a correctly escaped password is unchanged.
// A password containing the literal text "</wsse:Password>" cannot be told
// apart from the end of the element and stays unrepairable.
func repairPassword(body []byte) []byte {
	loc := passwordElement.FindSubmatchIndex(body)
	if loc == nil {
		return body
	}
	inner := body[loc[4]:loc[5]]
	if !bytes.ContainsAny(inner, "&<") {
		return body
	}
	var fixed bytes.Buffer
	for i := 0; i < len(inner); i++ {
		switch c := inner[i]; {
		case c == '<':
			fixed.WriteString("&lt;")
		case c == '&' && entityRef.Match(inner[i:]):
			fixed.WriteByte(c)
		case c == '&':
			fixed.WriteString("&amp;")
		default:
			fixed.WriteByte(c)
		}
	}
	if bytes.Equal(fixed.Bytes(), inner) {
		return body
	}
	out := make([]byte, 0, len(body)+fixed.Len()-len(inner))
	out = append(out, body[:loc[4]]...)
	out = append(out, fixed.Bytes()...)
	return append(out, body[loc[5]:]...)
}
