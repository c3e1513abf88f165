package events

// Membership operations named in the Data of membership.changed events.
const (
	MembershipOpAdded   = "added"
	MembershipOpRemoved = "removed"
)

// MembershipChanged: the owner changed one of their own Allow, Block or
// Pending lists through the Sharing service (AddMember/DeleteMember). Data
// names the member (its sign-in name, e-mail or phone number), the role and
// the operation (MembershipOpAdded/MembershipOpRemoved). The store appends
// the NOT ABCHInternal hint so the owner's other sessions re-sync
// (PROTOCOL.md §5.3); the NS re-evaluates the member's view of the owner's
// presence (§5.4).
func MembershipChanged(owner Party, member, role, op string) Event {
	return SelfChanged(TypeMembershipChanged, owner, map[string]string{"member": member, "role": role, "op": op})
}
