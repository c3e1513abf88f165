package events

// Operator actions on an account (abch user disable / delete).
const (
	// TypeAccountDisabled: the recipient's account was disabled; its
	// tickets are refused from now on. No NS command: the NS closes the
	// recipient's sessions (they could not sign in again).
	TypeAccountDisabled = "account.disabled"
	// TypeAccountDeleted: the recipient's account was deleted. No NS
	// command: the NS closes the recipient's sessions. The accounts that
	// had it on their lists get addressbook.changed with op
	// account.deleted (RML + NOT) in the same transaction.
	TypeAccountDeleted = "account.deleted"
)

// AccountClosed is the event telling the NS to close the sessions of an
// account an operator disabled or deleted (typ is TypeAccountDisabled or
// TypeAccountDeleted).
func AccountClosed(typ string, account Party) Event {
	return Event{Type: typ, Recipient: account, ToActorSessions: true, Data: map[string]string{"op": typ}}
}
