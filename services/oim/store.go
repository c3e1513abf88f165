package oim

import (
	"strconv"
	"strings"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/ns/msnp"
	"github.com/abch-im/abch/services/soap"
)

// storeService is the OIM Store service.
type storeService struct{ deps Deps }

// storeRequest is a decoded Store/Store2 call.
type storeRequest struct {
	From, FriendlyName, Proxy string
	To                        string
	Passport, AppID, LockKey  string
	MessageNumber             int
	Content                   *content
}

// store serves Store and Store2 (PROTOCOL.md §7.1). Checks run in the order
// clients expect: the ticket, the sender, the appid, the lock key (so the
// first send with lockkey="" always gets the challenge), then the message,
// then the sender's send rate (ABCH_OIM_SEND_LIMIT per ABCH_OIM_SEND_WINDOW:
// q0:SenderThrottleLimitExceeded), then the recipient and limits inside the
// storing transaction. A 200 is
// written only after the message and its event are committed.
func (s *storeService) store(r *soap.Request) (*soap.Response, error) {
	hdr := r.Header
	ticket := soap.Child(hdr, "Ticket")
	if ticket == nil {
		return nil, models.Errorf(models.CodeAuthenticationFailed, "Ticket header missing")
	}
	req := storeRequest{}
	req.Passport, _ = soap.Attr(ticket, "passport")
	p, err := s.deps.Auth.Verify(r.Ctx, req.Passport, StoreAudiences...)
	if err != nil {
		return nil, err
	}
	r.Account = p.Email
	from := soap.Child(hdr, "From")
	req.From = attr(from, "memberName")
	if !strings.EqualFold(req.From, p.Email) {
		return nil, models.Errorf(models.CodeAuthenticationFailed, "From memberName is not the ticket's account")
	}
	req.FriendlyName = attr(from, "friendlyName")
	req.Proxy = attr(from, "proxy")
	req.AppID = attr(ticket, "appid")
	req.LockKey = attr(ticket, "lockkey")
	if _, known := msnp.ProductKeys[req.AppID]; !known {
		return nil, models.Errorf(models.CodeAuthenticationFailed, "unknown appid")
	}
	// The challenge is derived from the ticket, so it needs no server state
	// and stays valid for the ticket's life (RST_OIM.md §2.2: purple keeps
	// its key for the session).
	challenge := s.deps.Tickets.LockKeyChallenge(auth.TPart(req.Passport))
	if ok, _ := msnp.CheckQRY(challenge, req.AppID, req.LockKey); !ok {
		return nil, &models.Error{Code: models.CodeAuthenticationFailed, Message: "lock key required",
			Detail: map[string]string{detailLockKeyChallenge: challenge}}
	}

	if err := decodeStore(r, &req); err != nil {
		return nil, err
	}
	if limit := s.deps.Config.OIMMaxBytes; len(req.Content.Text) > limit {
		return nil, models.Errorf(models.CodeSystemUnavailable, "message larger than %d bytes", limit)
	}
	if err := s.deps.Store.CountOIMSend(r.Ctx, p.AccountID, s.deps.Config.OIMSendLimit, s.deps.Config.OIMSendWindow); err != nil {
		return nil, err
	}
	sender, err := s.deps.Store.AccountByID(r.Ctx, p.AccountID)
	if err != nil {
		return nil, err
	}
	recipient, err := s.deps.Store.AccountByEmail(r.Ctx, req.To)
	if err != nil {
		if c := models.ErrorCode(err); c == models.CodeNotFound || c == models.CodeInvalidEmail {
			return nil, models.Errorf(models.CodeSystemUnavailable, "recipient does not exist")
		}
		return nil, err
	}
	name, err := senderName(req.FriendlyName, sender.Email)
	if err != nil {
		return nil, err
	}
	now := s.deps.Now().UTC()
	m := &models.OfflineMessage{
		GUID: strings.ToUpper(s.deps.NewGUID()), SenderID: &sender.ID, SenderEmail: sender.EmailLower,
		SenderFriendly: name, RunID: req.Content.RunID, SequenceNum: req.Content.SequenceNum,
		ContentType: "text/plain; charset=UTF-8", Body: req.Content.Text, SenderIP: r.RemoteIP,
		Proxy: sanitizeToken(req.Proxy), ReceivedAt: now, CreatedAt: now,
	}
	// SZ in Mail-Data is the size of the GetMessage text (PROTOCOL.md §7.2).
	m.Size = len(messageText(m, recipient.EmailLower))
	if err := s.deps.Store.StoreOfflineMessage(r.Ctx, sender, recipient, m, s.deps.Config.OIMMaxPerRecipient); err != nil {
		return nil, err
	}
	return soap.OK(storeResponse(req.MessageNumber)), nil
}

// decodeStore reads To, Sequence and the body of a Store request. Missing or
// malformed parts are q0:InvalidContent.
func decodeStore(r *soap.Request, req *storeRequest) error {
	req.To = attr(soap.Child(r.Header, "To"), "memberName")
	if req.To == "" {
		return invalid("To memberName missing")
	}
	seq := soap.Child(r.Header, "Sequence")
	n, err := strconv.Atoi(soap.PathText(seq, "MessageNumber"))
	if err != nil || n < 1 {
		return invalid("Sequence/MessageNumber must be a positive integer")
	}
	req.MessageNumber = n
	if mt := soap.Text(soap.Child(r.Body, "MessageType")); mt != "text" {
		return invalid("MessageType must be text")
	}
	ce := soap.Child(r.Body, "Content")
	if ce == nil {
		return invalid("Content missing")
	}
	c, err := parseContent(ce.Text())
	if err != nil {
		return err
	}
	if c.SequenceNum != req.MessageNumber {
		return invalid("X-OIM-Sequence-Num %d does not match MessageNumber %d", c.SequenceNum, req.MessageNumber)
	}
	req.Content = c
	return nil
}

// storeResponse is the success answer (PROTOCOL.md §7.1): the WS-RM
// SequenceAcknowledgment with Upper = Lower = MessageNumber, and
// StoreResponse in the 2004 OIM namespace for both SOAPActions: the
// community WSDL binds Store2 to oim:StoreResponse, and msnp-sharp, the
// only client that deserialises this body, is generated from it (purple,
// aMSN, emesene and BitlBee only look for the absence of a fault).
func storeResponse(messageNumber int) []byte {
	w := soap.Begin(1024)
	w.Raw("<soap:Header>")
	w.OpenAttr("SequenceAcknowledgment", "xmlns", soap.NSRM)
	w.LeafAttr("Identifier", "xmlns", soap.NSUtility, rmIdentifier)
	n := strconv.Itoa(messageNumber)
	w.Start("AcknowledgmentRange")
	w.Attr("Upper", n)
	w.Attr("Lower", n)
	w.EndEmpty()
	w.Close("SequenceAcknowledgment")
	w.Raw("</soap:Header>")
	soap.BeginBody(w)
	w.OpenAttr("StoreResponse", "xmlns", soap.NSOIM)
	w.Leaf("PointsConsumed", "0")
	w.Close("StoreResponse")
	return soap.End(w)
}

// attr is the trimmed value of e's attribute key ("" when e is nil).
func attr(e *etree.Element, key string) string {
	v, _ := soap.Attr(e, key)
	return strings.TrimSpace(v)
}

// sanitizeToken keeps a header-safe token (the From/@proxy value goes into
// the stored message's X-OIMProxy header).
func sanitizeToken(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return s
}
