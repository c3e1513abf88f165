package events

import "testing"

func TestMembershipChanged(t *testing.T) {
	owner := Party{Email: "bob@example.com", CID: 7, PUID: 9}
	ev := MembershipChanged(owner, "alice@example.com", "Block", MembershipOpAdded)
	if ev.Type != TypeMembershipChanged || ev.Recipient != owner || ev.Actor == nil || *ev.Actor != owner {
		t.Errorf("event: %+v", ev)
	}
	if ev.Data["member"] != "alice@example.com" || ev.Data["role"] != "Block" || ev.Data["op"] != "added" {
		t.Errorf("data: %v", ev.Data)
	}
	if ev.ToActorSessions {
		t.Error("a self-change goes to the owner's other sessions only")
	}
}
