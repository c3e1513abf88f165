package events

import "github.com/abch-im/abch/internal/listbits"

// Constructors for the events the contact model emits. ID, Time and Revision
// are filled in by the store when the event is written.

// ReverseAdded: actor added recipient to their Forward List, so actor is now
// on recipient's Reverse list (and Pending when pending is true).
func ReverseAdded(recipient, actor Party, network int, pending bool, inviteMessage string) Event {
	data := map[string]string{"member": actor.Email}
	if pending {
		data["pending"] = "true"
	}
	if inviteMessage != "" {
		data["invite_message"] = inviteMessage
	}
	return Event{
		Type: TypeReverseAdded, Recipient: recipient, Actor: &actor, ToActorSessions: true,
		NS:   []NSCommand{{Command: "ADL", Args: "0", Payload: ListPayload(actor.Email, network, listbits.RL, actor.DisplayName)}},
		Data: data,
	}
}

// ReverseRemoved: actor removed recipient from their Forward List.
func ReverseRemoved(recipient, actor Party, network int) Event {
	return Event{
		Type: TypeReverseRemoved, Recipient: recipient, Actor: &actor, ToActorSessions: true,
		NS:   []NSCommand{{Command: "RML", Args: "0", Payload: ListPayload(actor.Email, network, listbits.RL, "")}},
		Data: map[string]string{"member": actor.Email},
	}
}

// SelfChanged: the owner's own book or lists changed through one of the
// owner's sessions; the owner's other sessions get the NOT hint.
func SelfChanged(typ string, owner Party, data map[string]string) Event {
	return Event{Type: typ, Recipient: owner, Actor: &owner, Data: data}
}

// VisibilityChanged: actor changed the recipient's view of the actor's
// presence (allow, block, unblock). The NS re-evaluates and sends FLN/NLN.
func VisibilityChanged(recipient, actor Party, role string, added bool) Event {
	op := "removed"
	if added {
		op = "added"
	}
	return Event{
		Type: TypeVisibilityChanged, Recipient: recipient, Actor: &actor, ToActorSessions: true,
		Data: map[string]string{"role": role, "op": op},
	}
}
