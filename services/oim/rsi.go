package oim

import (
	"github.com/abch-im/abch/internal/events"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// rsiService is the RSI service.
type rsiService struct{ deps Deps }

// authenticate checks PassportCookie/t (the messenger.msn.com ticket,
// RST_OIM.md §3.1; <p> is derived from t and not needed). MSNP13 clients
// also send the same t= part as the MSPAuth cookie, used when <t> is empty.
func (s *rsiService) authenticate(r *soap.Request) (*models.Account, error) {
	t := soap.PathText(r.Header, "PassportCookie", "t")
	if t == "" {
		if c, err := r.HTTP.Cookie("MSPAuth"); err == nil {
			t = c.Value
		}
	}
	p, err := s.deps.Auth.Verify(r.Ctx, t, RSIAudiences...)
	if err != nil {
		return nil, err
	}
	r.Account = p.Email
	return s.deps.Store.AccountByID(r.Ctx, p.AccountID)
}

// getMetadata answers GetMetadata with the MD document as child elements of
// GetMetadataResponse (RST_OIM.md §3.2): the very document the NS Mail-Data
// carries, without the 25-message limit.
func (s *rsiService) getMetadata(r *soap.Request) (*soap.Response, error) {
	acct, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	list, err := s.deps.Store.OfflineMessages(r.Ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	msgs := make([]events.MailMessage, len(list))
	for i := range list {
		msgs[i] = store.MailMessageOf(&list[i])
	}
	w := soap.BeginPlain(1024 + 300*len(msgs))
	w.OpenAttr("GetMetadataResponse", "xmlns", soap.NSRSI)
	events.WriteMailData(w, msgs)
	w.Close("GetMetadataResponse")
	return soap.OK(soap.End(w)), nil
}

// getMessage answers GetMessage with the stored message as escaped RFC 822
// text (RST_OIM.md §3.3). An id that does not exist and an id of someone
// else's message get the same fault.
func (s *rsiService) getMessage(r *soap.Request) (*soap.Response, error) {
	acct, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	id := soap.Text(soap.Child(r.Op, "messageId"))
	if id == "" || len(id) > 64 {
		return nil, models.Errorf(models.CodeBadRequest, "messageId missing or malformed")
	}
	markRead, _, err := soap.Bool(soap.Child(r.Op, "alsoMarkAsRead"))
	if err != nil {
		return nil, err
	}
	m, err := s.deps.Store.OfflineMessage(r.Ctx, acct.ID, id, markRead)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, models.Errorf(models.CodeBadRequest, "message %s does not exist", id)
		}
		return nil, err
	}
	text := messageText(m, acct.EmailLower)
	w := soap.BeginPlain(1024 + len(text) + len(text)/8)
	w.OpenAttr("GetMessageResponse", "xmlns", soap.NSRSI)
	// The text has \n line ends only, so the writer's &amp; &lt; &gt;
	// escaping is all that happens to it (no &#xD;).
	w.Leaf("GetMessageResult", text)
	w.Close("GetMessageResponse")
	return soap.OK(soap.End(w)), nil
}

// deleteMessages deletes the caller's listed messages. Ids that do not
// exist (already deleted by another session) or that are not the caller's
// are skipped and the call still succeeds: purple deletes each message
// right after showing it and only checks for the absence of a fault, and
// nobody else's message is ever touched (docs/oim.md).
func (s *rsiService) deleteMessages(r *soap.Request) (*soap.Response, error) {
	acct, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range soap.Children(soap.Child(r.Op, "messageIds"), "messageId") {
		if id := soap.Text(e); id != "" && len(id) <= 64 {
			ids = append(ids, id)
		}
	}
	if _, err := s.deps.Store.DeleteOfflineMessages(r.Ctx, acct, ids); err != nil {
		return nil, err
	}
	return soap.OK(soap.EmptyResponse(soap.BeginPlain(512), "DeleteMessagesResponse", soap.NSRSI)), nil
}
