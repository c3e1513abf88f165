// Package importer moves contact data from other revival servers into abch
// (issue 7): Escargot databases and the versioned JSON-lines "lists" format
// for SYN-era servers, and exports abch's own data in that format. It writes
// the model tables directly, one transaction per account, following the
// model rules of docs/DESIGN.md; it emits no change events (the NS reads the
// lists when users sign in). docs/migration.md documents the format.
package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/strictjson"
	"github.com/abch-im/abch/models"
)

// FormatVersion is the version of the JSON-lines format this package reads
// and writes (the "v" field of every line).
const FormatVersion = 1

// MaxGroupName is the longest group name accepted, in code points
// (Escargot's limit, PROTOCOL.md §9).
const MaxGroupName = 61

// AccountDoc is one line of the lists format: an account with its groups
// and contacts. The unexported fields carry identities an Escargot source
// knows (GUIDs) so imported rows keep them; they are not part of the format.
type AccountDoc struct {
	V            int          `json:"v"`
	Email        string       `json:"email"`
	DisplayName  string       `json:"display_name"`
	PasswordHash string       `json:"password_hash"`
	Created      string       `json:"created,omitempty"`
	BLP          string       `json:"blp"`
	GTC          string       `json:"gtc"`
	MPOP         string       `json:"mpop,omitempty"`
	Groups       []GroupDoc   `json:"groups"`
	Contacts     []ContactDoc `json:"contacts"`

	meGUID string
}

// GroupDoc is one of an account's contact groups.
type GroupDoc struct {
	Name     string `json:"name"`
	Favorite bool   `json:"favorite,omitempty"`

	guid string
}

// ContactDoc is one entry of an account's lists. Lists holds the MSNP list
// bits (FL 1, AL 2, BL 4, RL 8, PL 16); ListNames is the same as names and
// may be given instead of (or besides, then they must agree) Lists. FL means
// "in the address book"; Messenger=false marks an e-mail-only entry.
type ContactDoc struct {
	Email       string   `json:"email"`
	Lists       *int     `json:"lists,omitempty"`
	ListNames   []string `json:"list_names,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
	Nickname    string   `json:"nickname,omitempty"`
	Messenger   *bool    `json:"messenger,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	FirstName   string   `json:"first_name,omitempty"`
	MiddleName  string   `json:"middle_name,omitempty"`
	LastName    string   `json:"last_name,omitempty"`
	Comment     string   `json:"comment,omitempty"`
	Birthdate   string   `json:"birthdate,omitempty"`

	guid string
}

// bits returns the contact's list bits (after normalize).
func (c *ContactDoc) bits() int {
	if c.Lists == nil {
		return 0
	}
	return *c.Lists
}

func (c *ContactDoc) setBits(b int) { c.Lists = &b }

// messenger reports whether the contact is a Messenger contact (default).
func (c *ContactDoc) messenger() bool { return c.Messenger == nil || *c.Messenger }

var listNames = []struct {
	name string
	bit  int
}{{"FL", listbits.FL}, {"AL", listbits.AL}, {"BL", listbits.BL}, {"RL", listbits.RL}, {"PL", listbits.PL}}

// ParseLine decodes one line of the lists format strictly (unknown fields
// and trailing data are errors).
func ParseLine(line []byte) (*AccountDoc, error) {
	if err := strictjson.Check(line); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var d AccountDoc
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid JSON: more than one value on the line")
	}
	if d.V != FormatVersion {
		return nil, fmt.Errorf("unsupported format version v=%d (this abch reads v=%d)", d.V, FormatVersion)
	}
	return &d, nil
}

// normalize validates d and brings it to its canonical form: trimmed
// addresses, lower-cased contact addresses sorted, defaults filled in,
// per-contact group names sorted. The error explains why the account cannot
// be imported.
func (d *AccountDoc) normalize() error {
	if err := d.checkUTF8(); err != nil { // utf8.go
		return err
	}
	d.V = FormatVersion
	d.Email = strings.TrimSpace(d.Email)
	lower, err := models.NormalizeEmail(d.Email)
	if err != nil {
		return fmt.Errorf("malformed address %q", d.Email)
	}
	if err := d.normalizeProfile(); err != nil {
		return err
	}
	groups, err := d.normalizeGroups()
	if err != nil {
		return err
	}
	if d.Contacts == nil {
		d.Contacts = []ContactDoc{}
	}
	seen := map[string]bool{}
	for i := range d.Contacts {
		c := &d.Contacts[i]
		addr, err := models.NormalizeEmail(c.Email)
		if err != nil {
			return fmt.Errorf("contact %q: malformed address", c.Email)
		}
		c.Email = addr
		if addr == lower {
			return fmt.Errorf("contact %s: an account cannot be its own contact", addr)
		}
		if seen[addr] {
			return fmt.Errorf("contact %s appears twice", addr)
		}
		seen[addr] = true
		if err := d.normalizeContact(c, groups); err != nil {
			return err
		}
	}
	sortContacts(d.Contacts)
	return nil
}

// normalizeProfile checks and completes the account's own fields.
func (d *AccountDoc) normalizeProfile() error {
	if d.DisplayName == "" {
		d.DisplayName = d.Email
	}
	if !utf8.ValidString(d.DisplayName) {
		return fmt.Errorf("display name is not valid UTF-8")
	}
	if err := CheckHashFormat(d.PasswordHash); err != nil {
		return err
	}
	if d.Created != "" {
		if _, err := time.Parse(time.RFC3339Nano, d.Created); err != nil {
			return fmt.Errorf("created %q is not an RFC 3339 time", d.Created)
		}
	}
	if err := oneOf(&d.BLP, "blp", models.BLPAllow, models.BLPBlock); err != nil {
		return err
	}
	return oneOf(&d.GTC, "gtc", models.GTCAsk, models.GTCNone)
}

// oneOf checks that the setting *v is def or other, making "" def.
func oneOf(v *string, field, def, other string) error {
	switch *v {
	case "":
		*v = def
	case def, other:
	default:
		return fmt.Errorf("%s %q is neither %s nor %s", field, *v, def, other)
	}
	return nil
}

// normalizeGroups checks the account's groups and returns their
// lower-cased names.
func (d *AccountDoc) normalizeGroups() (map[string]bool, error) {
	if d.Groups == nil {
		d.Groups = []GroupDoc{}
	}
	seenGroup := map[string]bool{}
	for _, g := range d.Groups {
		if strings.TrimSpace(g.Name) == "" {
			return nil, fmt.Errorf("a group has an empty name")
		}
		if !utf8.ValidString(g.Name) || utf8.RuneCountInString(g.Name) > MaxGroupName {
			return nil, fmt.Errorf("group name %q is longer than %d characters", g.Name, MaxGroupName)
		}
		if g.Name == "(No Group)" {
			return nil, fmt.Errorf("group name %q is reserved", g.Name)
		}
		k := strings.ToLower(g.Name)
		if seenGroup[k] {
			return nil, fmt.Errorf("group name %q appears twice (names are unique regardless of case)", g.Name)
		}
		seenGroup[k] = true
	}
	return seenGroup, nil
}

// normalizeContact checks contact c (its address already normalized): its
// lists, what only an FL entry may carry, its birthdate and its groups
// (one of groups, by lower-cased name).
func (d *AccountDoc) normalizeContact(c *ContactDoc, groups map[string]bool) error {
	addr := c.Email
	bits, err := c.listBits()
	if err != nil {
		return err
	}
	c.setBits(bits)
	if bits&listbits.FL == 0 {
		if len(c.Groups) > 0 || c.Nickname != "" || c.Messenger != nil || c.hasDetails() {
			return fmt.Errorf("contact %s: groups, nickname, messenger and contact details need FL", addr)
		}
		if bits&(listbits.RL|listbits.PL) == 0 {
			c.DisplayName = "" // kept only on address-book, Reverse and Pending entries
		}
	}
	if c.Birthdate != "" {
		bd, err := parseBirthdate(c.Birthdate)
		if err != nil {
			return fmt.Errorf("contact %s: %v", addr, err)
		}
		c.Birthdate = bd
	}
	if c.Messenger != nil && *c.Messenger {
		c.Messenger = nil
	}
	gs := map[string]bool{}
	out := c.Groups[:0]
	for _, g := range c.Groups {
		if !groups[strings.ToLower(g)] {
			return fmt.Errorf("contact %s: group %q is not one of the account's groups", addr, g)
		}
		if !gs[strings.ToLower(g)] {
			gs[strings.ToLower(g)] = true
			out = append(out, d.groupName(g))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = nil
	}
	c.Groups = out
	return nil
}

// listBits reads c's lists (the bitmask, the list names, or both when
// they agree) and checks them.
func (c *ContactDoc) listBits() (int, error) {
	addr := c.Email
	bits := -1
	if c.Lists != nil {
		bits = *c.Lists
	}
	if len(c.ListNames) > 0 {
		nb := 0
		for _, n := range c.ListNames {
			found := false
			for _, ln := range listNames {
				if strings.EqualFold(n, ln.name) {
					nb |= ln.bit
					found = true
				}
			}
			if !found {
				return 0, fmt.Errorf("contact %s: unknown list name %q", addr, n)
			}
		}
		if bits >= 0 && bits != nb {
			return 0, fmt.Errorf("contact %s: lists %d and list_names %v disagree", addr, bits, c.ListNames)
		}
		bits = nb
		c.ListNames = nil
	}
	if bits < 0 {
		return 0, fmt.Errorf("contact %s: neither lists nor list_names given", addr)
	}
	if bits == 0 || bits > 31 {
		return 0, fmt.Errorf("contact %s: lists %d is not a combination of FL 1, AL 2, BL 4, RL 8, PL 16", addr, bits)
	}
	if bits&listbits.AL != 0 && bits&listbits.BL != 0 {
		return 0, fmt.Errorf("contact %s: on both AL and BL (Allow and Block exclude each other)", addr)
	}
	return bits, nil
}

func sortContacts(cs []ContactDoc) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Email < cs[j].Email })
}

func (c *ContactDoc) hasDetails() bool {
	return c.FirstName != "" || c.MiddleName != "" || c.LastName != "" || c.Comment != "" || c.Birthdate != ""
}

// birthdateLayout is how birthdays are stored and written: the AB wire form
// without a zone (PROTOCOL.md §1.3 birthdate).
const birthdateLayout = "2006-01-02T15:04:05"

// parseBirthdate accepts YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.
func parseBirthdate(s string) (string, error) {
	for _, l := range []string{birthdateLayout, "2006-01-02"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.Format(birthdateLayout), nil
		}
	}
	return "", fmt.Errorf("birthdate %q is not YYYY-MM-DD", s)
}

// groupName returns the account's spelling of group name n.
func (d *AccountDoc) groupName(n string) string {
	for _, g := range d.Groups {
		if strings.EqualFold(g.Name, n) {
			return g.Name
		}
	}
	return n
}

// stateHash fingerprints what an account looks like to clients (profile,
// privacy, groups, lists), without the password, the creation date, the
// letter case of the address or the order of groups: the import compares
// it to tell whether abch changed an account since it was imported.
func (d *AccountDoc) stateHash() string {
	c := *d
	c.Email, c.PasswordHash, c.Created = "", "", ""
	c.Groups = append([]GroupDoc(nil), d.Groups...)
	sort.Slice(c.Groups, func(i, j int) bool { return c.Groups[i].Name < c.Groups[j].Name })
	c.Contacts = append([]ContactDoc(nil), d.Contacts...)
	sortContacts(c.Contacts)
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CheckHashFormat reports whether hash is a password hash abch can verify
// (internal/auth VerifyPassword): empty (no password yet), an argon2id PHC
// string, or Escargot's pbkdf2_sha256$<iterations>$<salt>$<base64>. It checks
// the structure only.
func CheckHashFormat(hash string) error {
	switch {
	case hash == "":
		return nil
	case strings.HasPrefix(hash, "$argon2id$"):
		p := strings.Split(hash, "$")
		if len(p) != 6 || p[2] != "v=19" {
			return fmt.Errorf("malformed argon2id hash (want $argon2id$v=19$m=…,t=…,p=…$salt$key)")
		}
		for _, kv := range strings.Split(p[3], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if _, err := strconv.ParseUint(v, 10, 32); !ok || err != nil || (k != "m" && k != "t" && k != "p") {
				return fmt.Errorf("malformed argon2id parameters %q", p[3])
			}
		}
		if _, err := base64.RawStdEncoding.DecodeString(p[4]); err != nil {
			return fmt.Errorf("malformed argon2id salt")
		}
		if k, err := base64.RawStdEncoding.DecodeString(p[5]); err != nil || len(k) < 16 || len(k) > 64 {
			return fmt.Errorf("malformed argon2id key")
		}
		return nil
	case strings.HasPrefix(hash, "pbkdf2_sha256$"):
		p := strings.Split(hash, "$")
		if len(p) != 4 {
			return fmt.Errorf("malformed pbkdf2_sha256 hash (want pbkdf2_sha256$<iterations>$<salt>$<base64>)")
		}
		if n, err := strconv.Atoi(p[1]); err != nil || n < 1 || n > 10_000_000 {
			return fmt.Errorf("pbkdf2_sha256 iteration count %q out of range", p[1])
		}
		if k, err := base64.StdEncoding.DecodeString(p[3]); err != nil || len(k) == 0 {
			return fmt.Errorf("malformed pbkdf2_sha256 key")
		}
		return nil
	}
	prefix := hash
	if i := strings.IndexAny(hash[1:], "$}:"); i >= 0 {
		prefix = hash[:i+2]
	}
	if len(prefix) > 20 {
		prefix = prefix[:20] + "…"
	}
	return fmt.Errorf("unknown password hash format %q (accepted: argon2id PHC, pbkdf2_sha256, or empty)", prefix)
}
