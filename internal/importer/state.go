package importer

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Annotation names the import reads and writes (PROTOCOL.md §1.3).
const (
	annNickName = "AB.NickName"
	annMPOP     = "MSN.IM.MPOP"
)

// book is an account's model rows as the services see them: the Me contact,
// groups and contacts that are not deleted (ABFindAll), memberships that are
// not deleted (FindMembership). Tombstoned contacts are kept in dead so a
// re-add revives the row and its GUID (DESIGN.md "Rows are never reused").
type book struct {
	acct     models.Account
	me       *models.Contact
	groups   []models.Group // not deleted, by id
	contacts map[string]*models.Contact
	dead     map[string]*models.Contact
	cgroups  map[int64][]int64 // contact id → group ids
	members  []models.Membership
}

// newBook sorts an account's stored rows into a book.
func newBook(acct models.Account, rows *store.BookRows) *book {
	b := &book{acct: acct, groups: rows.Groups, members: rows.Members,
		contacts: map[string]*models.Contact{}, dead: map[string]*models.Contact{}, cgroups: map[int64][]int64{}}
	for i := range rows.Contacts {
		c := &rows.Contacts[i]
		switch {
		case c.Key == models.MeKey:
			b.me = c
		case c.Deleted:
			b.dead[c.Key] = c
		default:
			b.contacts[c.Key] = c
		}
	}
	for _, l := range rows.Links {
		b.cgroups[l.ContactID] = append(b.cgroups[l.ContactID], l.GroupID)
	}
	return b
}

// contactEmail is the address a contact row stands for.
func contactEmail(c *models.Contact) string {
	if c.PassportName != "" {
		return strings.ToLower(c.PassportName)
	}
	if c.Email != "" {
		return strings.ToLower(c.Email)
	}
	_, addr, _ := strings.Cut(c.Key, ":")
	return addr
}

// doc renders the book in the lists format: what a client sees through
// ABFindAll (contacts, groups, nicknames) and FindMembership (roles), and the
// Me contact's privacy settings.
func (b *book) doc() *AccountDoc {
	d := &AccountDoc{
		V: FormatVersion, Email: b.acct.Email, DisplayName: b.acct.DisplayName, PasswordHash: b.acct.PasswordHash,
		Created: b.acct.CreatedAt.UTC().Format(time.RFC3339Nano), BLP: b.acct.BLP, GTC: b.acct.GTC,
		Groups: []GroupDoc{}, Contacts: []ContactDoc{},
	}
	if b.me != nil {
		d.MPOP = models.AnnotationValue(b.me.Annotations, annMPOP)
	}
	gname := map[int64]string{}
	for _, g := range b.groups {
		d.Groups = append(d.Groups, GroupDoc{Name: g.Name, Favorite: g.IsFavorite, guid: g.GUID})
		gname[g.ID] = g.Name
	}
	byEmail := map[string]*ContactDoc{}
	get := func(addr string) *ContactDoc {
		if c, ok := byEmail[addr]; ok {
			return c
		}
		c := &ContactDoc{Email: addr}
		c.setBits(0)
		byEmail[addr] = c
		return c
	}
	for _, c := range b.contacts {
		cd := get(contactEmail(c))
		cd.setBits(cd.bits() | listbits.FL)
		cd.DisplayName = c.DisplayName
		cd.Nickname = models.AnnotationValue(c.Annotations, annNickName)
		cd.FirstName, cd.MiddleName, cd.LastName, cd.Comment, cd.Birthdate = c.FirstName, c.MiddleName, c.LastName, c.Comment, c.Birthdate
		if !c.IsMessengerUser {
			f := false
			cd.Messenger = &f
		}
		for _, gid := range b.cgroups[c.ID] {
			if n, ok := gname[gid]; ok {
				cd.Groups = append(cd.Groups, n)
			}
		}
		sort.Strings(cd.Groups)
		cd.guid = c.GUID
	}
	for _, m := range b.members {
		cd := get(strings.ToLower(m.MemberName))
		cd.setBits(cd.bits() | listbits.RoleBit(m.Role))
		if (m.Role == models.RoleReverse || m.Role == models.RolePending) && cd.bits()&listbits.FL == 0 && m.DisplayName != "" {
			cd.DisplayName = m.DisplayName
		}
	}
	for _, c := range byEmail {
		d.Contacts = append(d.Contacts, *c)
	}
	sortContacts(d.Contacts)
	return d
}

// View returns what the services show for the account with address email:
// its address book (contacts and groups that are not deleted, nicknames,
// is-messenger flags), its memberships that are not deleted, and its
// privacy settings, in the lists format. Tests compare imports through it.
func View(ctx context.Context, st *store.Store, email string) (*AccountDoc, error) {
	lower, err := models.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	accts, err := st.Accounts(ctx, 0, 1, lower)
	if err != nil {
		return nil, err
	}
	rows, err := st.BookRows(ctx, accts[0].ID)
	if err != nil {
		return nil, err
	}
	return newBook(accts[0], rows).doc(), nil
}
