package sharing

import (
	"time"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// Stored answers (store.StoredAnswer, issue 19): the rendered full
// FindMembership answer kept in the database for the revision it was
// rendered at, under the in-memory cache's key (account, Messenger asked
// for or not) and the renderer's format.

// storedKind names the stored answer of a full FindMembership with or
// without the Messenger service.
func storedKind(messenger bool) string {
	if messenger {
		return "FindMembership"
	}
	return "FindMembership/NoMessenger"
}

// renderFormat identifies this build's renderer: a digest of the answers
// for a sample set that has a member of every role and type with every
// field renderFindMembership writes, so an answer stored by a renderer that
// wrote anything differently is never served. A change that shows only in
// a set unlike the sample must bump renderFormatVersion.
var renderFormat = func() string {
	const renderFormatVersion = "1"
	at := time.Date(2009, 6, 1, 12, 30, 45, 123456700, time.UTC)
	rev := models.RevisionAt(at)
	acct := int64(9)
	set := &store.MembershipSet{
		Account:  models.Account{ID: 3, Email: "Owner@Example.com", EmailLower: "owner@example.com", CID: -42, DisplayName: "Owner", Revision: rev, CreatedAt: at},
		Revision: rev,
	}
	id := int64(0)
	for _, role := range models.MembershipRoles {
		for _, typ := range []string{models.MemberPassport, models.MemberEmail, models.MemberPhone} {
			id++
			set.Members = append(set.Members, models.Membership{ID: id, OwnerID: 3, Role: role, MemberType: typ, MemberName: "m<&>@example.com",
				MemberAccountID: &acct, CID: 77, DisplayName: "Name \"n\"\r", InviteMessage: "hi & bye", Annotations: `[{"Name":"MSN.IM.Display","Value":"1"}]`,
				State: "Accepted", JoinedAt: at, Rev: rev})
		}
	}
	return soap.FormatDigest(renderFormatVersion, renderFindMembership(set, true), renderFindMembership(set, false))
}()
