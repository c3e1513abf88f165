package models

import "strconv"

// The changes a client asks of its address book, as plain values: request
// decoders build them, the store applies them. Addresses in them are
// already validated and lower-cased (NormalizeEmail); the store does not
// check them again.

// NewContact is a contact to add to a book (ABContactAdd, ABGroupContactAdd
// by passport).
type NewContact struct {
	// GUID keeps a given contact id when the contact is created (tests);
	// "" allocates a new one. A revived contact keeps its old id.
	GUID string
	// PassportName is the contact's sign-in name; Email is used instead for
	// an e-mail-only entry (never on the Forward List).
	PassportName string
	Email        string
	// IsMessengerUser puts the contact on the Forward List (PROTOCOL.md §1.3).
	IsMessengerUser bool
	DisplayName     string
	QuickName       string
	FirstName       string
	MiddleName      string
	LastName        string
	Comment         string
	Annotations     []Annotation
	// InviterName and InviteMessage are what the target sees on its Pending
	// and Reverse entries (MessengerMemberInfo, PROTOCOL.md §2.1).
	InviterName   string
	InviteMessage string
}

// Key is the contact's identity within its book (Contact.Key).
func (c *NewContact) Key() string {
	if c.PassportName != "" {
		return "passport:" + c.PassportName
	}
	return "email:" + c.Email
}

// ContactChange is one change to a contact: the contact (by GUID, or the
// owner's own with Me) and the fields to set; nil fields stay as they are.
type ContactChange struct {
	GUID string
	Me   bool

	DisplayName     *string
	QuickName       *string
	FirstName       *string
	MiddleName      *string
	LastName        *string
	Comment         *string
	Birthdate       *string
	IsMessengerUser *bool
	HasSpace        *bool
	// Annotations are set by name; an empty value clears one
	// (MergeAnnotations).
	Annotations []Annotation
	// Settings apply to the Me contact only: they live on the account row.
	Settings Settings
}

// Settings are the owner's account-wide settings the Me contact shows; nil
// fields stay as they are.
type Settings struct {
	BLP           *string // BLPAllow or BLPBlock
	GTC           *string // GTCAsk or GTCNone
	MBEA          *int
	RoamLiveProps *int
}

// NewGroup is a group to add.
type NewGroup struct {
	GUID        string // keep this id (tests); "" = new
	Name        string
	Annotations []Annotation
	// RenameOnConflict (ABGroupAdd's fRenameOnMsgrConflict) adds a group
	// whose name is taken as "Name (2)", "Name (3)", … instead of failing.
	RenameOnConflict bool
}

// GroupChange renames a group (Name non-nil) and/or sets its favourite flag.
type GroupChange struct {
	GUID       string
	Name       *string
	IsFavorite *bool
}

// GroupContactItem names a contact to put into groups: an existing one by
// GUID, or (New) a passport to add to the book first.
type GroupContactItem struct {
	ContactGUID string
	New         *NewContact
}

// MembershipRoles are the roles the Sharing service reports and manages, in
// the order FindMembership lists them (PROTOCOL.md §3.1). Other roles of the
// schema (Admin, ProfileExpression, ...) belong to circles and the profile
// service; emesene aborts its sync on any of them (clients/RESPONSES.md §3).
var MembershipRoles = []string{RoleAllow, RoleBlock, RoleReverse, RolePending}

// MemberSpec is one member of an AddMember/DeleteMember request, decoded and
// syntax-checked by the Sharing service. Exactly one way of naming the member is
// used, in this order: MembershipID, Name (with Type), CID.
type MemberSpec struct {
	Role         string // one of MembershipRoles
	Type         string // MemberPassport, MemberEmail or MemberPhone ("" when named by id or CID)
	Name         string // lower-cased address or phone number
	MembershipID int64  // > 0: a MembershipId from FindMembership
	CID          int64  // != 0: a member named only by CID (Digsby)
	Annotations  []Annotation
}

// Label is how fault messages and events name the member.
func (m MemberSpec) Label() string {
	switch {
	case m.MembershipID > 0:
		return "MembershipId " + strconv.FormatInt(m.MembershipID, 10)
	case m.Name != "":
		return m.Name
	default:
		return "CID " + strconv.FormatInt(m.CID, 10)
	}
}
