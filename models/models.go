package models

import (
	"time"
)

// ZeroGUID is the abId of every individual address book (PROTOCOL.md §1.1).
const ZeroGUID = "00000000-0000-0000-0000-000000000000"

// MessengerGroupType is the fixed groupType GUID of Messenger groups (§1.3).
const MessengerGroupType = "C8529CE2-6EAD-434d-881F-341E17DB3FF8"

// Privacy settings (old BLP and GTC). Stored as these letters; the Me contact
// shows them as MSN.IM.BLP / MSN.IM.GTC annotations (1/0, PROTOCOL.md §11).
const (
	BLPAllow = "AL" // everyone not blocked may see me (MSN.IM.BLP=1)
	BLPBlock = "BL" // only allowed contacts may see me (MSN.IM.BLP=0)
	GTCAsk   = "A"  // prompt when someone adds me (MSN.IM.GTC=1)
	GTCNone  = "N"  // do not prompt (MSN.IM.GTC=0)
)

// Account is a Passport identity with its address book header. Revision is
// the cursor shared by the address book and the memberships: every change to
// either bumps it (strictly increasing, in 100 ns ticks since the Unix epoch,
// so it doubles as the lastChange timestamp clients echo back).
type Account struct {
	ID             int64  `gorm:"primaryKey"`
	Email          string `gorm:"not null"`
	EmailLower     string `gorm:"not null;uniqueIndex"`
	PasswordHash   string `gorm:"not null;default:''"`
	PUID           int64  `gorm:"column:puid;not null;uniqueIndex"` // uint64 bit pattern
	CID            int64  `gorm:"column:cid;not null;uniqueIndex"`
	DisplayName    string `gorm:"not null"`
	BLP            string `gorm:"column:blp;not null;default:AL"`
	GTC            string `gorm:"column:gtc;not null;default:A"`
	MBEA           int    `gorm:"column:mbea;not null;default:0"`
	RoamLiveProps  int    `gorm:"column:roam_live_properties;not null;default:1"`
	TokenVersion   int    `gorm:"not null;default:1"`
	Disabled       bool   `gorm:"not null;default:false"`
	Revision       int64  `gorm:"not null"`
	PrunedRevision int64  `gorm:"not null;default:0"`
	MeContactGUID  string `gorm:"column:me_contact_guid;not null"`
	// ListVersion is the SYN list version of MSNP8–12 (docs/events.md
	// §7.1): ≥ 1, incremented with Revision by every change (Bump).
	ListVersion int64 `gorm:"column:list_version;not null;default:1"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName pins the table name.
func (Account) TableName() string { return "accounts" }

// PUIDUnsigned returns the 64-bit PUID (the NS splits it into MemberIdHigh/Low).
func (a *Account) PUIDUnsigned() uint64 { return uint64(a.PUID) }

// Annotation is a name/value pair on a contact, group or member. Unknown
// names are stored verbatim and echoed back (PROTOCOL.md §1.3).
type Annotation struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Contact types (PROTOCOL.md §1.3).
const (
	ContactTypeMe      = "Me"
	ContactTypeRegular = "Regular"
)

// MeKey is the contact_key of the owner's own contact (the Me contact): one
// row per book, contact_type Me, never on the Forward List.
const MeKey = "me"

// Network ids as used in ADL's t= attribute (PROTOCOL.md §4.2).
const (
	NetworkPassport = 1
	NetworkPhone    = 4
	NetworkEmail    = 16 // e-mail-only address book entry
	NetworkYahoo    = 32
)

// Contact is one entry of an owner's address book (the Forward List when
// IsMessengerUser is true). Key identifies it within the book ("me",
// "passport:<email>", "email:<email>"); re-adding a deleted contact revives
// the same row and GUID.
type Contact struct {
	ID                int64  `gorm:"primaryKey"`
	OwnerID           int64  `gorm:"not null"`
	GUID              string `gorm:"column:guid;not null"`
	Key               string `gorm:"column:contact_key;not null"`
	ContactAccountID  *int64 `gorm:"column:contact_account_id"`
	ContactType       string `gorm:"not null"`
	PassportName      string `gorm:"not null;default:''"`
	Email             string `gorm:"not null;default:''"`
	Network           int    `gorm:"not null;default:1"`
	CID               int64  `gorm:"column:cid;not null;default:0"`
	DisplayName       string `gorm:"not null;default:''"`
	QuickName         string `gorm:"not null;default:''"`
	FirstName         string `gorm:"not null;default:''"`
	MiddleName        string `gorm:"not null;default:''"`
	LastName          string `gorm:"not null;default:''"`
	Comment           string `gorm:"not null;default:''"`
	Birthdate         string `gorm:"not null;default:''"`
	IsMessengerUser   bool   `gorm:"not null;default:false"`
	IsMobileIMEnabled bool   `gorm:"column:is_mobile_im_enabled;not null;default:false"`
	HasSpace          bool   `gorm:"not null;default:false"`
	IsFavorite        bool   `gorm:"not null;default:false"`
	IsSMTP            bool   `gorm:"column:is_smtp;not null;default:false"`
	// Annotations is a JSON array of Annotation, in insertion order.
	Annotations string `gorm:"not null;default:'[]'"`
	Deleted     bool   `gorm:"not null;default:false"`
	Rev         int64  `gorm:"not null"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TableName pins the table name.
func (Contact) TableName() string { return "contacts" }

// Group is a Messenger group in an owner's address book.
type Group struct {
	ID          int64  `gorm:"primaryKey"`
	OwnerID     int64  `gorm:"not null"`
	GUID        string `gorm:"column:guid;not null"`
	Name        string `gorm:"not null"`
	NameLower   string `gorm:"not null"`
	Annotations string `gorm:"not null;default:'[]'"`
	IsFavorite  bool   `gorm:"not null;default:false"`
	Deleted     bool   `gorm:"not null;default:false"`
	Rev         int64  `gorm:"not null"`
	// SynID is the group's id for MSNP8–9 (LSG, ADD FL … gid): a small
	// positive integer per owner, one more than the highest the owner had
	// when the group was created, never renumbered (0: "no group").
	SynID     int `gorm:"column:syn_id;not null;default:0"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName pins the table name ("groups" is a keyword in SQLite).
func (Group) TableName() string { return "ab_groups" }

// ContactGroup links a contact to a group.
type ContactGroup struct {
	ContactID int64 `gorm:"primaryKey;autoIncrement:false"`
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
}

// TableName pins the table name.
func (ContactGroup) TableName() string { return "contact_groups" }

// Membership roles (PROTOCOL.md §3.1). FL is not a role: it lives in the AB.
const (
	RoleAllow   = "Allow"
	RoleBlock   = "Block"
	RoleReverse = "Reverse"
	RolePending = "Pending"
)

// Member types (FindMembership Type / xsi:type without the "Member" suffix).
const (
	MemberPassport = "Passport"
	MemberEmail    = "Email"
	MemberPhone    = "Phone"
)

// Membership puts a member on one of the owner's Allow/Block/Reverse/Pending
// lists. ID is the integer MembershipId clients see and may address members
// by. Rows are never reused across members: one row per (owner, role, type,
// name), revived on re-add, tombstoned (Deleted) on removal.
type Membership struct {
	ID              int64  `gorm:"primaryKey"`
	OwnerID         int64  `gorm:"not null"`
	Role            string `gorm:"not null"`
	MemberType      string `gorm:"not null"`
	MemberName      string `gorm:"not null"`
	MemberAccountID *int64 `gorm:"column:member_account_id"`
	CID             int64  `gorm:"column:cid;not null;default:0"`
	DisplayName     string `gorm:"not null;default:''"`
	InviteMessage   string `gorm:"not null;default:''"`
	Annotations     string `gorm:"not null;default:'[]'"`
	State           string `gorm:"not null;default:Accepted"`
	Deleted         bool   `gorm:"not null;default:false"`
	JoinedAt        time.Time
	Rev             int64 `gorm:"not null"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName pins the table name.
func (Membership) TableName() string { return "memberships" }

// OutboxEvent is a change event waiting to be published to the NS queue. It
// is written in the same transaction as the change it describes; the relay
// publishes committed rows in ID order and marks them published.
type OutboxEvent struct {
	ID          int64  `gorm:"primaryKey"`
	EventID     string `gorm:"not null;uniqueIndex"`
	RecipientID int64  `gorm:"not null"`
	Subject     string `gorm:"not null"`
	Payload     string `gorm:"not null"` // the JSON document of the event
	CreatedAt   time.Time
	PublishedAt *time.Time
}

// TableName pins the table name.
func (OutboxEvent) TableName() string { return "outbox" }

// OfflineMessage is a stored OIM (PROTOCOL.md §7, §9).
type OfflineMessage struct {
	ID             int64  `gorm:"primaryKey"`
	GUID           string `gorm:"column:guid;not null;uniqueIndex"`
	RecipientID    int64  `gorm:"not null"`
	SenderID       *int64
	SenderEmail    string `gorm:"not null"`
	SenderFriendly string `gorm:"not null;default:''"` // RFC 2047 form as sent
	RunID          string `gorm:"not null;default:''"`
	SequenceNum    int    `gorm:"not null;default:1"`
	ContentType    string `gorm:"not null;default:''"`
	Body           string `gorm:"not null"` // decoded UTF-8 text
	SenderIP       string `gorm:"column:sender_ip;not null;default:''"`
	Proxy          string `gorm:"not null;default:''"`
	Size           int    `gorm:"not null;default:0"`
	Read           bool   `gorm:"not null;default:false"`
	ReceivedAt     time.Time
	CreatedAt      time.Time
}

// TableName pins the table name.
func (OfflineMessage) TableName() string { return "offline_messages" }

// Setting is a server-wide key/value (for example the ticket-signing secret).
type Setting struct {
	Key   string `gorm:"primaryKey"`
	Value string `gorm:"not null"`
}

// TableName pins the table name.
func (Setting) TableName() string { return "settings" }
