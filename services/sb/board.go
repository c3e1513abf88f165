package sb

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/abch-im/abch/services/ns/msnp"
)

// board is one conversation: its participants and the invitations out.
type board struct {
	id  string
	srv *Server

	mu sync.Mutex
	// members is copy-on-write: replaced under mu, never changed in place,
	// so a snapshot taken under mu may be read after it (MSG relays
	// without allocating).
	members []*conn
	calling map[string]bool // lower-cased addresses CALed and not yet joined
	closed  bool            // everybody left
}

// invite is an outstanding CAL: the RNG cookie the invitee presents in
// ANS, valid once until expires. ready is closed once the caller has its
// "CAL trid RINGING" (so it never sees JOI first) and the NS's answer is
// in who.
type invite struct {
	b       *board
	email   string // lower-cased
	expires time.Time
	ready   chan struct{}
	who     member
	err     error
}

// newBoard opens a conversation with c as its first participant.
func (s *Server) newBoard(c *conn) *board {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := &board{id: s.newSessionID(), srv: s, members: []*conn{c}, calling: map[string]bool{}}
	s.boards[b.id] = b
	return b
}

// snapshot returns the participants (read-only).
func (b *board) snapshot() []*conn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.members
}

// leave removes c, if it is a participant, and sends BYE to the others;
// the last one out closes the conversation.
func (b *board) leave(c *conn, idle bool) {
	b.mu.Lock()
	kept := make([]*conn, 0, len(b.members))
	was := false
	for _, m := range b.members {
		if m != c {
			kept = append(kept, m)
		} else {
			was = true
		}
	}
	if was {
		b.members = kept
	}
	others := kept
	if len(kept) == 0 {
		b.closed = true
	}
	b.mu.Unlock()
	if !was {
		return
	}
	if len(others) == 0 {
		b.srv.mu.Lock()
		delete(b.srv.boards, b.id)
		b.srv.mu.Unlock()
		return
	}
	me := c.me.Load()
	args := []string{me.Email}
	if idle {
		args = append(args, "1")
	}
	bye := msnp.AppendLine(nil, "BYE", args...)
	for _, o := range others {
		o.send(bye)
	}
}

// handle runs one command; false ends the connection.
func (c *conn) handle(cmd msnp.Command) bool {
	trid := cmd.TrID()
	if c.me.Load() == nil {
		switch cmd.Name {
		case "USR":
			return c.cmdUSR(cmd)
		case "ANS":
			return c.cmdANS(cmd)
		case "OUT":
			return false
		case "CAL", "MSG":
			// 302: not logged in (pidgin error.c); the session stays.
			return c.fail(msnp.ErrNotLoggedIn, trid)
		}
		return c.fail(msnp.ErrSyntax, trid)
	}
	switch cmd.Name {
	case "MSG":
		return c.cmdMSG(cmd)
	case "CAL":
		return c.cmdCAL(cmd)
	case "OUT":
		return false
	case "USR", "ANS":
		return c.fail(msnp.ErrAlreadyLoggedIn, trid)
	}
	return c.fail(msnp.ErrSyntax, trid)
}

// authFailed answers 911 (pidgin: MSN_SB_ERROR_AUTHFAILED) and closes.
func (c *conn) authFailed(trid string) bool {
	c.fail(msnp.ErrAuthFailed, trid)
	return false
}

// signedIn makes m this connection's participant.
func (c *conn) signedIn(m member, b *board) {
	c.name = msnp.URLEncodeName(m.Name)
	c.board.Store(b) // before me: onSignOut acts on connections with me set
	c.me.Store(&m)
}

// cmdUSR: "USR trid email cookie" with an XFR SB cookie opens a new
// conversation: "USR trid OK email friendlyname". The cookie must be
// this switchboard's, for this address, unexpired and unused, and the
// account must still be signed in to an NS (who answers with its name,
// client id and protocol version).
func (c *conn) cmdUSR(cmd msnp.Command) bool {
	trid, email, cookie := cmd.TrID(), cmd.Arg(1), cmd.Arg(2)
	s := c.srv
	ck, ok := checkXFRCookie(s.key, s.PublicAddr(), email, cookie, time.Now())
	if !ok || len(cmd.Args) != 3 {
		return c.authFailed(trid)
	}
	s.mu.Lock()
	_, reused := s.used[ck.nonce]
	if !reused {
		s.used[ck.nonce] = ck.expiry
	}
	s.mu.Unlock()
	if reused {
		return c.authFailed(trid)
	}
	m, err := s.who(ck.cid)
	if err != nil || !strings.EqualFold(m.Email, email) {
		if err != nil && !errors.Is(err, errOffline) {
			s.cfg.Log.Warn("sb: who", "email", email, "error", err)
		}
		return c.authFailed(trid)
	}
	c.signedIn(m, s.newBoard(c))
	return c.line("USR", trid, "OK", m.Email, c.name)
}

// cmdANS: "ANS trid email cookie sessid" joins the conversation an RNG
// named: "IRO trid i n email name clientid" for each participant already
// there, then "ANS trid OK"; they get "JOI email name clientid" (papyon and
// MSNPSharp read the client id of both).
func (c *conn) cmdANS(cmd msnp.Command) bool {
	trid, email, cookie, sessid := cmd.TrID(), cmd.Arg(1), cmd.Arg(2), cmd.Arg(3)
	s := c.srv
	s.mu.Lock()
	inv := s.invites[cookie]
	if inv == nil || len(cmd.Args) != 4 || inv.email != strings.ToLower(email) || inv.b.id != sessid || time.Now().After(inv.expires) {
		s.mu.Unlock()
		return c.authFailed(trid)
	}
	delete(s.invites, cookie)
	s.mu.Unlock()
	select {
	case <-inv.ready:
	case <-time.After(s.cfg.RequestTimeout):
		return c.authFailed(trid)
	}
	if inv.err != nil {
		return c.authFailed(trid)
	}
	b := inv.b
	c.signedIn(inv.who, b)
	b.mu.Lock()
	delete(b.calling, inv.email)
	if b.closed {
		b.mu.Unlock()
		c.board.Store(nil)
		return c.authFailed(trid)
	}
	there := b.members
	b.members = append(there[:len(there):len(there)], c) // a new array: copy-on-write
	b.mu.Unlock()
	n := strconv.Itoa(len(there))
	for i, o := range there {
		om := o.me.Load()
		c.line("IRO", trid, strconv.Itoa(i+1), n, om.Email, o.name, caps(om.Caps))
	}
	c.line("ANS", trid, "OK")
	me := c.me.Load()
	joi := msnp.AppendLine(nil, "JOI", me.Email, c.name, caps(me.Caps))
	for _, o := range there {
		o.send(joi)
	}
	return true
}

// caps is the client id as JOI/IRO carry it ("0" when the user sent none).
func caps(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// validAddress is a sign-in name CAL may name.
func validAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at < len(s)-1 && len(s) <= 320 && strings.IndexByte(s[at+1:], '@') < 0
}

// cmdCAL: "CAL trid email" → the invitee's NS sends RNG and the caller
// gets "CAL trid RINGING sessid". 208 for a bad address, 215 when the
// user is here or already called, 713 when the conversation is full, 217
// when the user is offline, hidden, has IMs off or does not let the
// caller see them (the NS decides), 500 when the NS API or NATS fails.
func (c *conn) cmdCAL(cmd msnp.Command) bool {
	trid, email := cmd.TrID(), cmd.Arg(1)
	s := c.srv
	if len(cmd.Args) != 2 || !validAddress(email) {
		return c.fail(msnp.ErrInvalidUsername, trid)
	}
	key := strings.ToLower(email)
	me := c.me.Load()
	b := c.board.Load()
	b.mu.Lock()
	here := b.calling[key] || strings.EqualFold(me.Email, email)
	for _, m := range b.members {
		if om := m.me.Load(); om != nil && strings.EqualFold(om.Email, email) {
			here = true
		}
	}
	full := len(b.members)+len(b.calling) >= s.cfg.MaxParticipants
	if !here && !full {
		b.calling[key] = true
	}
	b.mu.Unlock()
	if here {
		return c.fail(msnp.ErrAlreadyOnList, trid)
	}
	if full {
		return c.fail(msnp.ErrTooRapid, trid)
	}
	inv := &invite{b: b, email: key, expires: time.Now().Add(s.cfg.InviteTimeout), ready: make(chan struct{})}
	cookie := newInviteCookie()
	s.mu.Lock()
	s.invites[cookie] = inv
	s.mu.Unlock()
	code := 0
	cid, err := s.lookup(email)
	if err == nil {
		inv.who, err = s.ring(cid, b, *me, cookie)
	}
	if err != nil {
		inv.err = err
		code = msnp.ErrNotOnline
		if !errors.Is(err, errOffline) {
			s.cfg.Log.Warn("sb: CAL", "email", email, "error", err)
			code = msnp.ErrInternal
		}
		s.mu.Lock()
		delete(s.invites, cookie)
		s.mu.Unlock()
		b.mu.Lock()
		delete(b.calling, key)
		b.mu.Unlock()
		close(inv.ready)
		return c.fail(code, trid)
	}
	c.line("CAL", trid, "RINGING", b.id)
	close(inv.ready)
	return true
}

// cmdMSG relays "MSG trid U|N|A|D len" byte for byte to every other
// participant as "MSG email friendlyname len". Acknowledgement: A and D get
// ACK when every other participant got it and NAK otherwise (nobody there,
// or a participant cut off), N gets only the NAK, U nothing. D ("data",
// MSNP9+, application/x-msnmsgrp2p) with no MIME header block gets 282. Any
// other acknowledgement letter closes the connection (hypothetic.org: the
// switchboard closes the connection without sending the message).
func (c *conn) cmdMSG(cmd msnp.Command) bool {
	trid, ack := cmd.TrID(), cmd.Arg(1)
	switch ack {
	case "U", "N", "A", "D":
	default:
		return false
	}
	if len(cmd.Args) != 2 {
		return false
	}
	if ack == "D" && !bytes.Contains(cmd.Payload, []byte("\r\n\r\n")) {
		return c.fail(ErrBadData, trid)
	}
	me := c.me.Load()
	// "MSG email name len\r\n" + payload, built in the reader's scratch
	// buffer: sendCopy copies only what a socket does not take at once.
	out := msnp.AppendPayload(c.scratch[:0], "MSG", []string{me.Email, c.name}, cmd.Payload)
	c.scratch = out
	got, others := 0, 0
	for _, o := range c.board.Load().snapshot() {
		if o == c {
			continue
		}
		others++
		if o.sendCopy(out) {
			got++
		}
	}
	failed := got == 0 || got < others
	switch {
	case failed && ack != "U":
		return c.ackLine("NAK", trid)
	case !failed && (ack == "A" || ack == "D"):
		return c.ackLine("ACK", trid)
	}
	return true
}

// ackLine sends "ACK trid" or "NAK trid" from the reader's scratch buffer
// (only the reader goroutine calls it, after the relay is done with it).
func (c *conn) ackLine(name, trid string) bool {
	c.scratch = msnp.AppendLine(c.scratch[:0], name, trid)
	return c.sendCopy(c.scratch)
}

// ErrBadData is the switchboard's answer to a badly formed "MSG trid D"
// (msnp-wiki MSG: "a version of Acknowledged that also has a response of
// error 282 if the message was poorly formatted").
const ErrBadData = 282
