package events

// notifies lists the event types that carry the NOT ABCHInternal hint: the
// ones after which a client should re-sync its address book or memberships
// (PROTOCOL.md §5.3).
var notifies = map[string]bool{
	TypeReverseAdded: true, TypeReverseRemoved: true, TypeMembershipChanged: true,
	TypeAddressBookChanged: true, TypeProfileChanged: true, TypePrivacyChanged: true,
}

// Seal finishes an event the store is about to write: it appends the NOT
// hint for the types that carry one, and makes NS an empty list rather than
// null. ID, Time and Revision must be set.
func (e *Event) Seal() {
	if notifies[e.Type] {
		e.NS = append(e.NS, NSCommand{Command: "NOT", Payload: NotifyPayload(e.Recipient, e.Revision)})
	}
	if e.NS == nil {
		e.NS = []NSCommand{}
	}
}
