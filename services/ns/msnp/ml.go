package msnp

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/abch-im/abch/models"
)

// ML is an ADL, RML or FQY payload:
//
//	<ml l="1"><d n="example.com"><c n="bob" l="3" t="1"/></d><t><c n="tel:+1555" l="3"/></t></ml>
//
// (PROTOCOL.md §4.2).
type ML struct {
	// L is the <ml l> attribute: 1 marks the initial list of a sign-in, 2
	// an FQY query; 0 when absent (incremental ADL/RML, server pushes).
	L int
	// Domains are the <d> elements in order.
	Domains []MLDomain
	// Phones are the <c> elements of the <t> element (tel: URIs).
	Phones []MLContact
}

// MLDomain is one <d n="domain"> element.
type MLDomain struct {
	Name     string      // the domain, as sent
	Contacts []MLContact // its <c> elements
}

// MLContact is one <c> element. In a <d> element N is the local part of
// the address; in <t> it is a "tel:" URI.
type MLContact struct {
	Name string // n: local part (or tel: URI)
	L    int    // l: list bits (ListFL|ListAL|ListBL from clients); 0 when absent
	T    int    // t: network id (models.NetworkPassport …); 0 when absent
	F    string // f: URL-encoded friendly name (server → client only)
}

// Email returns the contact's address in domain, lower-cased (the tel: URI
// itself for a phone contact, domain "").
func (c MLContact) Email(domain string) string {
	if domain == "" {
		return c.Name
	}
	return strings.ToLower(c.Name + "@" + domain)
}

// Limits of one ML payload. pidgin sends at most 150 contacts per ADL and
// papyon splits at about 7,500 bytes (PROTOCOL.md §4.2); MaxMLContacts
// leaves room for other clients' batching.
const (
	MaxMLContacts = 500
	MaxMLDomains  = 500
)

// Networks lists the network ids a <c t> attribute may carry (PROTOCOL.md
// §4.2): Passport, LCS, telephone, MNI, SMTP, Yahoo.
var Networks = map[int]bool{1: true, 2: true, 4: true, 8: true, 16: true, 32: true}

// MLKind says which command an ML payload belongs to: it decides which
// attributes are required and which list bits a client may send.
type MLKind int

// The ML payload kinds.
const (
	MLAdd    MLKind = iota // client ADL: every <c> needs l (FL|AL|BL only) and t
	MLRemove               // client RML: as ADL
	MLQuery                // client FQY: <c n> only (l and t optional)
	MLServer               // server push (ADL 0/RML 0, FQY answer): any bits, f allowed
)

// ParseML parses a client ADL or RML payload strictly (see ParseMLKind with
// MLAdd).
func ParseML(p []byte) (ML, error) { return ParseMLKind(p, MLAdd) }

// ParseMLKind parses an ML payload of the given kind. It accepts what the
// clients send: both quote styles (pidgin writes l='1', MSNPSharp l="1"),
// spaces before "/>", whitespace between elements, the five predefined XML
// entities and character references. Errors are *Error (TrID empty: the
// caller sets it) with the numbers real servers used (PROTOCOL.md §4.2,
// ESC `_m_adl`):
//
//   - ErrADLEmpty (240): empty payload, <ml> with no <d>/<t>, a <d> with no <c>;
//   - ErrInvalidNetwork (204): a t attribute outside Networks;
//   - ErrADLInvalid (241): anything else — not the ML shape, unknown elements
//     or attributes, a domain or contact name that is not a valid address,
//     list bits outside FL|AL|BL from a client (ESC answers 241 for RL/PL),
//     invalid UTF-8, more than MaxMLContacts contacts or MaxMLDomains domains.
func ParseMLKind(p []byte, kind MLKind) (ML, error) {
	var ml ML
	if len(strings.TrimSpace(string(p))) == 0 {
		return ml, mlErr(ErrADLEmpty, "empty payload")
	}
	if !utf8.Valid(p) {
		return ml, mlErr(ErrADLInvalid, "invalid UTF-8")
	}
	x := &xmlScanner{s: string(p)}
	tag, err := x.open()
	if err != nil {
		return ml, err
	}
	if tag.name != "ml" || tag.closing {
		return ml, mlErr(ErrADLInvalid, "root element is not <ml>")
	}
	for _, a := range tag.attrs {
		if a.name != "l" {
			return ml, mlErr(ErrADLInvalid, "unknown <ml> attribute "+a.name)
		}
		n, ok := smallInt(a.value)
		if !ok {
			return ml, mlErr(ErrADLInvalid, "bad <ml l>")
		}
		ml.L = n
	}
	if tag.empty {
		return ml, x.end(&ml)
	}
	contacts := 0
	for {
		tag, err := x.open()
		if err != nil {
			return ml, err
		}
		if tag.closing {
			if tag.name != "ml" {
				return ml, mlErr(ErrADLInvalid, "unexpected </"+tag.name+">")
			}
			break
		}
		switch tag.name {
		case "d":
			if len(ml.Domains) >= MaxMLDomains {
				return ml, mlErr(ErrADLInvalid, "too many domains")
			}
			d, err := x.domain(tag, kind, &contacts)
			if err != nil {
				return ml, err
			}
			ml.Domains = append(ml.Domains, d)
		case "t":
			if len(tag.attrs) != 0 {
				return ml, mlErr(ErrADLInvalid, "attributes on <t>")
			}
			if tag.empty {
				return ml, mlErr(ErrADLEmpty, "<t> without contacts")
			}
			cs, err := x.contacts("t", "", kind, &contacts)
			if err != nil {
				return ml, err
			}
			ml.Phones = append(ml.Phones, cs...)
		default:
			return ml, mlErr(ErrADLInvalid, "unexpected <"+tag.name+">")
		}
	}
	return ml, x.end(&ml)
}

// domain reads a <d n="domain"> element (tag, already opened) and its
// contacts; total counts the contacts of the whole list.
func (x *xmlScanner) domain(tag xmlTag, kind MLKind, total *int) (MLDomain, error) {
	d := MLDomain{}
	for _, a := range tag.attrs {
		if a.name != "n" {
			return d, mlErr(ErrADLInvalid, "unknown <d> attribute "+a.name)
		}
		d.Name = a.value
	}
	if d.Name == "" {
		return d, mlErr(ErrADLInvalid, "<d> without n")
	}
	if _, err := models.NormalizeEmail("x@" + d.Name); err != nil {
		return d, mlErr(ErrADLInvalid, "bad domain name")
	}
	if tag.empty {
		return d, mlErr(ErrADLEmpty, "<d> without contacts")
	}
	cs, err := x.contacts("d", d.Name, kind, total)
	if err != nil {
		return d, err
	}
	d.Contacts = cs
	return d, nil
}

// mlErr is an ADL/RML/FQY payload error with code (240, 241 or 204).
func mlErr(code int, msg string) *Error { return &Error{Code: code, Msg: "ml: " + msg} }

// contacts reads <c> elements up to </parent>.
func (x *xmlScanner) contacts(parent, domain string, kind MLKind, total *int) ([]MLContact, error) {
	var out []MLContact
	for {
		tag, err := x.open()
		if err != nil {
			return nil, err
		}
		if tag.closing {
			if tag.name != parent {
				return nil, mlErr(ErrADLInvalid, "unexpected </"+tag.name+">")
			}
			if len(out) == 0 {
				return nil, mlErr(ErrADLEmpty, "<"+parent+"> without contacts")
			}
			return out, nil
		}
		if tag.name != "c" || !tag.empty {
			return nil, mlErr(ErrADLInvalid, "<"+parent+"> may only hold empty <c/> elements")
		}
		if *total++; *total > MaxMLContacts {
			return nil, mlErr(ErrADLInvalid, "more than "+strconv.Itoa(MaxMLContacts)+" contacts")
		}
		c, err := contactFrom(tag, domain, kind)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func contactFrom(tag xmlTag, domain string, kind MLKind) (MLContact, error) {
	var c MLContact
	var hasL, hasT, hasN bool
	for _, a := range tag.attrs {
		switch a.name {
		case "n":
			c.Name, hasN = a.value, true
		case "l":
			n, ok := smallInt(a.value)
			if !ok {
				return c, mlErr(ErrADLInvalid, "bad l")
			}
			c.L, hasL = n, true
		case "t":
			n, ok := smallInt(a.value)
			if !ok {
				return c, mlErr(ErrADLInvalid, "bad t")
			}
			c.T, hasT = n, true
		case "f":
			if kind != MLServer {
				return c, mlErr(ErrADLInvalid, "f from a client")
			}
			c.F = a.value
		default:
			return c, mlErr(ErrADLInvalid, "unknown <c> attribute "+a.name)
		}
	}
	if !hasN || c.Name == "" {
		return c, mlErr(ErrADLInvalid, "<c> without n")
	}
	if domain == "" {
		if !validTel(c.Name) {
			return c, mlErr(ErrADLInvalid, "bad tel: contact")
		}
		if hasT && c.T != models.NetworkPhone {
			return c, mlErr(ErrInvalidNetwork, "phone contact with network "+strconv.Itoa(c.T))
		}
	} else if _, err := models.NormalizeEmail(c.Name + "@" + domain); err != nil {
		return c, mlErr(ErrADLInvalid, "bad contact name")
	}
	if hasT && !Networks[c.T] {
		return c, mlErr(ErrInvalidNetwork, "network "+strconv.Itoa(c.T))
	}
	switch kind {
	case MLAdd, MLRemove:
		const clientBits = ListFL | ListAL | ListBL
		if !hasL || c.L == 0 || c.L&^clientBits != 0 {
			return c, mlErr(ErrADLInvalid, "list bits must be FL|AL|BL")
		}
		if domain != "" && !hasT {
			return c, mlErr(ErrADLInvalid, "<c> without t")
		}
	case MLQuery:
		if hasL && c.L&^(ListFL|ListAL|ListBL) != 0 {
			return c, mlErr(ErrADLInvalid, "list bits must be FL|AL|BL")
		}
	case MLServer:
		if c.L&^(ListFL|ListAL|ListBL|ListRL|ListPL) != 0 {
			return c, mlErr(ErrADLInvalid, "unknown list bits")
		}
	}
	return c, nil
}

// validTel reports whether s is a tel: URI of digits with an optional '+'.
func validTel(s string) bool {
	rest, ok := strings.CutPrefix(s, "tel:")
	rest = strings.TrimPrefix(rest, "+")
	if !ok || rest == "" || len(rest) > 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return false
		}
	}
	return true
}

// smallInt parses a decimal of at most 9 digits without sign.
func smallInt(s string) (int, bool) { return parseLength(s) }

// Append appends ml in the form servers write it: double quotes, attributes
// n, t, l, f in that order, " />" closing each contact (PROTOCOL.md §5.1;
// the FQY answers clients accepted in clients/captures). Zero L/T and empty
// F are left out.
func (ml ML) Append(dst []byte) []byte {
	dst = append(dst, "<ml"...)
	if ml.L != 0 {
		dst = append(dst, ` l="`...)
		dst = strconv.AppendInt(dst, int64(ml.L), 10)
		dst = append(dst, '"')
	}
	dst = append(dst, '>')
	for _, d := range ml.Domains {
		dst = append(dst, `<d n="`...)
		dst = appendAttr(dst, d.Name)
		dst = append(dst, `">`...)
		for _, c := range d.Contacts {
			dst = c.append(dst)
		}
		dst = append(dst, "</d>"...)
	}
	if len(ml.Phones) > 0 {
		dst = append(dst, "<t>"...)
		for _, c := range ml.Phones {
			dst = c.append(dst)
		}
		dst = append(dst, "</t>"...)
	}
	return append(dst, "</ml>"...)
}

func (c MLContact) append(dst []byte) []byte {
	dst = append(dst, `<c n="`...)
	dst = appendAttr(dst, c.Name)
	dst = append(dst, '"')
	if c.T != 0 {
		dst = append(dst, ` t="`...)
		dst = strconv.AppendInt(dst, int64(c.T), 10)
		dst = append(dst, '"')
	}
	if c.L != 0 {
		dst = append(dst, ` l="`...)
		dst = strconv.AppendInt(dst, int64(c.L), 10)
		dst = append(dst, '"')
	}
	if c.F != "" {
		dst = append(dst, ` f="`...)
		dst = appendAttr(dst, c.F)
		dst = append(dst, '"')
	}
	return append(dst, " />"...)
}

// FQYAnswer builds the server's FQY answer for a parsed query: each
// contact with its network id from network (models.NetworkPassport when it
// returns 0), no l (captures: `<ml><d n="example.com"><c n="dave" t="1" /></d></ml>`).
func FQYAnswer(q ML, network func(email string) int) []byte {
	out := ML{}
	for _, d := range q.Domains {
		nd := MLDomain{Name: d.Name}
		for _, c := range d.Contacts {
			t := 0
			if network != nil {
				t = network(c.Email(d.Name))
			}
			if t == 0 {
				t = models.NetworkPassport
			}
			nd.Contacts = append(nd.Contacts, MLContact{Name: c.Name, T: t})
		}
		out.Domains = append(out.Domains, nd)
	}
	return out.Append(nil)
}
