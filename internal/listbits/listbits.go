// Package listbits is the Notification Server protocol's vocabulary that abch
// shares between the NS API, the NS payloads it queues (ADL/RML) and the
// lists format of the importer: the SYN-era list bits. The storage speaks
// roles (models.RoleAllow, …); these bits are how MSNP names them.
package listbits

import "github.com/abch-im/abch/models"

// List bits in MSNP terms (ADL l= attribute, SYN-era lists).
const (
	FL = 1  // Forward List: the address book's Messenger contacts
	AL = 2  // Allow List
	BL = 4  // Block List
	RL = 8  // Reverse List: who has me on their FL
	PL = 16 // Pending List: who added me and awaits my answer
)

// RoleBit maps a membership role to its list bit (0 for unknown roles).
func RoleBit(role string) int {
	switch role {
	case models.RoleAllow:
		return AL
	case models.RoleBlock:
		return BL
	case models.RoleReverse:
		return RL
	case models.RolePending:
		return PL
	}
	return 0
}
