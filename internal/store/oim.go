package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm/clause"

	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/models"
)

// MailMessageOf is the Mail-Data view of a stored offline message.
func MailMessageOf(m *models.OfflineMessage) events.MailMessage {
	return events.MailMessage{
		ID: m.GUID, SenderEmail: m.SenderEmail, SenderName: m.SenderFriendly,
		Received: m.ReceivedAt, Read: m.Read, Size: m.Size,
	}
}

// CanSendOIM reports whether sender may leave recipient an offline message:
// the presence visibility rule of PROTOCOL.md §5.4 (sender not on the
// recipient's Block list, and on the Allow list or the recipient's BLP is
// AL), which §7.1 applies to OIM acceptance.
func (t *Txn) CanSendOIM(recipient, sender *models.Account) (bool, error) {
	ref := PassportRef(sender)
	blocked, err := t.HasMember(recipient.ID, models.RoleBlock, ref)
	if err != nil || blocked {
		return false, err
	}
	if recipient.BLP != models.BLPBlock {
		return true, nil
	}
	return t.HasMember(recipient.ID, models.RoleAllow, ref)
}

// StoreOfflineMessage stores m (GUID, times, size and sender fields already
// set) for recipient in one transaction with its oim.stored event. It fails
// with CodeSystemUnavailable when the recipient blocks the sender or
// already holds maxPerRecipient messages; the recipient's account row is
// locked first so concurrent senders cannot overshoot the limit.
func (s *Store) StoreOfflineMessage(ctx context.Context, sender, recipient *models.Account, m *models.OfflineMessage, maxPerRecipient int) error {
	return s.Write(ctx, func(t *Txn) error {
		var rcpt models.Account
		q := t.DB.Where("id = ?", recipient.ID)
		if s.Dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		res := q.Limit(1).Find(&rcpt)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 || rcpt.Disabled {
			return models.Errorf(models.CodeSystemUnavailable, "recipient does not exist")
		}
		ok, err := t.CanSendOIM(&rcpt, sender)
		if err != nil {
			return err
		}
		if !ok {
			// Same text as an unknown recipient: a sender must not learn
			// that they are blocked.
			return models.Errorf(models.CodeSystemUnavailable, "recipient does not exist")
		}
		var n int64
		if err := t.DB.Model(&models.OfflineMessage{}).Where("recipient_id = ?", rcpt.ID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(maxPerRecipient) {
			return models.Errorf(models.CodeSystemUnavailable, "recipient's offline message box is full (%d messages)", maxPerRecipient)
		}
		row := *m
		row.ID = 0
		row.RecipientID = rcpt.ID
		if err := t.DB.Create(&row).Error; err != nil {
			return err
		}
		m.ID, m.RecipientID = row.ID, row.RecipientID
		return t.Emit(rcpt.ID, events.OIMStored(Party(&rcpt), Party(sender), MailMessageOf(&row)))
	})
}

// OfflineMessages lists recipientID's stored messages, oldest first.
func (s *Store) OfflineMessages(ctx context.Context, recipientID int64) ([]models.OfflineMessage, error) {
	var list []models.OfflineMessage
	err := s.DB.WithContext(ctx).Where("recipient_id = ?", recipientID).Order("received_at, id").Find(&list).Error
	if err != nil {
		return nil, translate(err)
	}
	return list, nil
}

// OfflineMessage returns recipientID's message with id guid (any letter
// case), marking it read when markRead is set. A message that does not
// exist and one that belongs to someone else are the same CodeNotFound.
func (s *Store) OfflineMessage(ctx context.Context, recipientID int64, guid string, markRead bool) (*models.OfflineMessage, error) {
	guid = strings.ToUpper(strings.TrimSpace(guid))
	var m models.OfflineMessage
	find := func() error {
		res := s.DB.WithContext(ctx).Where("recipient_id = ? AND guid = ?", recipientID, guid).Limit(1).Find(&m)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected == 0 {
			return models.Errorf(models.CodeNotFound, "no offline message %s", guid)
		}
		return nil
	}
	if err := find(); err != nil {
		return nil, err
	}
	if markRead && !m.Read {
		err := s.Write(ctx, func(t *Txn) error {
			return t.DB.Model(&models.OfflineMessage{}).Where("id = ? AND recipient_id = ?", m.ID, recipientID).Update("read", true).Error
		})
		if err != nil {
			return nil, err
		}
		m.Read = true
	}
	return &m, nil
}

// MaxDeleteIDs bounds one DeleteMessages call.
const MaxDeleteIDs = 1000

// DeleteOfflineMessages deletes the listed messages of owner (ids in any
// letter case) and returns the ids actually deleted. Ids that do not exist
// or belong to someone else are skipped: nothing of another account is ever
// touched. When something was deleted, owner gets an oim.deleted event in
// the same transaction.
func (s *Store) DeleteOfflineMessages(ctx context.Context, owner *models.Account, ids []string) ([]string, error) {
	if len(ids) > MaxDeleteIDs {
		return nil, models.Errorf(models.CodeBadRequest, "more than %d message ids", MaxDeleteIDs)
	}
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		want = append(want, strings.ToUpper(strings.TrimSpace(id)))
	}
	var deleted []string
	err := s.Write(ctx, func(t *Txn) error {
		deleted = nil
		if len(want) == 0 {
			return nil
		}
		var rows []models.OfflineMessage
		if err := t.DB.Select("id, guid").Where("recipient_id = ? AND guid IN ?", owner.ID, want).Order("id").Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		rowIDs := make([]int64, len(rows))
		for i, r := range rows {
			rowIDs[i] = r.ID
			deleted = append(deleted, r.GUID)
		}
		res := t.DB.Where("recipient_id = ? AND id IN ?", owner.ID, rowIDs).Delete(&models.OfflineMessage{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != int64(len(rows)) {
			return fmt.Errorf("store: deleted %d offline messages, expected %d", res.RowsAffected, len(rows))
		}
		return t.Emit(owner.ID, events.OIMDeleted(Party(owner), deleted))
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
