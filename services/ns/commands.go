package ns

import (
	"errors"
	"strings"

	"github.com/abch-im/abch/nsclient"
	"github.com/abch-im/abch/services/ns/msnp"
)

// apiCommands call the NS API (HTTP and JSON: deep stacks).
var apiCommands = map[string]bool{"USR": true, "BLP": true, "PRP": true}

// handle runs one client command; false ends the session (after what is
// queued has been written). Commands that call the NS API run on a
// short-lived goroutine (offStack), so the reader, which lives as long as
// the session, keeps a small stack.
func (ss *session) handle(c msnp.Command) bool {
	// A signed-in MSNP8–12 session's table says itself which commands
	// call the API (registerLegacy).
	if apiCommands[c.Name] && !(ss.u != nil && msnp.SYNEra(ss.ver)) {
		var ok bool
		offStack(func() { ok = ss.dispatch(c) })
		return ok
	}
	return ss.dispatch(c)
}

// offStack runs f on a new goroutine and waits for it; a panic in f is
// raised again in the caller (the session's recover ends the session).
func offStack(f func()) {
	done := make(chan struct{})
	var p any
	go func() {
		defer func() {
			p = recover()
			close(done)
		}()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}

// dispatch runs one client command.
func (ss *session) dispatch(c msnp.Command) bool {
	if !msnp.SYNEra(ss.ver) && msnp.Removed(c.Name, max(ss.ver, 13)) {
		// MSNP13 removed ADC ADG REG REM RMG GTC SYN SBP "with automatic
		// disconnection" (seeds/msnp13-changes.txt); before VER they
		// disconnect too. MSNP8–12 sessions have them (legacy.go).
		return false
	}
	switch c.Name {
	case "VER":
		if ss.ver != 0 {
			return ss.fail(msnp.ErrNotExpectedCVR, c.TrID())
		}
		return ss.cmdVER(c)
	case "CVR":
		return ss.cmdCVR(c)
	case "USR":
		return ss.cmdUSR(c)
	case "OUT":
		return false
	case "PNG":
		// QNG tells the client when to ping next (captures: "QNG 60");
		// the interval came with MSNP9, MSNP8 gets a bare QNG
		// (yellows111's msnp-wiki, QNG).
		if ss.ver == msnp.MSNP8 {
			return ss.out("QNG\r\n")
		}
		return ss.out("QNG 60\r\n")
	}
	if ss.u == nil {
		if _, legacy := legacyCommands[c.Name]; commands[c.Name] == nil && !legacy {
			return ss.fail(msnp.ErrSyntax, c.TrID())
		}
		return ss.fail(msnp.ErrNotLoggedIn, c.TrID())
	}
	if msnp.SYNEra(ss.ver) {
		return ss.dispatchLegacy(c) // legacy.go
	}
	h := commands[c.Name]
	if h == nil {
		return ss.fail(msnp.ErrSyntax, c.TrID())
	}
	return h(ss, c)
}

// commands are the commands of a signed-in session.
var commands = map[string]func(*session, msnp.Command) bool{
	"ADL": (*session).cmdADL,
	"RML": (*session).cmdRML,
	"FQY": (*session).cmdFQY,
	"BLP": (*session).cmdBLP,
	"PRP": (*session).cmdPRP,
	"CHG": (*session).cmdCHG,
	"UUX": (*session).cmdUUX,
	"URL": (*session).cmdURL,
	"QRY": (*session).cmdQRY,
	"XFR": (*session).cmdXFR, // sb.go
	"IMS": (*session).cmdIMS, // sb.go
}

// cmdADL answers "ADL trid OK" (PROTOCOL.md §4.2: pidgin only finishes
// sign-in on it). The lists live in abch and SOAP is authoritative: the
// initial ADL changes nothing here (the NS read the lists at sign-in); a
// later ADL FL (the client added a buddy) re-reads the lists and asks the
// named contacts for their presence.
func (ss *session) cmdADL(c msnp.Command) bool {
	ml, err := msnp.ParseMLKind(c.Payload, msnp.MLAdd)
	if err != nil {
		return ss.mlError(err, c.TrID())
	}
	u := ss.u
	ask := map[string]bool{}
	var fl []string
	eachContact(ml, func(email string, cc msnp.MLContact) {
		if cc.L&nsclient.FL != 0 {
			ask[strings.ToLower(email)] = true
			fl = append(fl, email)
		}
	})
	u.hideFL(false, fl...)
	ss.line("ADL", c.TrID(), "OK")
	if ml.L != 1 && len(ask) > 0 {
		u.enqueue(func() { ss.srv.refresh(u, ask) })
	}
	return true
}

// eachContact calls f for every domain contact of ml with its address.
func eachContact(ml msnp.ML, f func(email string, c msnp.MLContact)) {
	for _, d := range ml.Domains {
		for _, c := range d.Contacts {
			f(c.Name+"@"+d.Name, c)
		}
	}
}

// mlError answers a bad ADL/RML/FQY payload with its error number.
func (ss *session) mlError(err error, trid string) bool {
	code := msnp.ErrADLInvalid
	var pe *msnp.Error
	if errors.As(err, &pe) {
		code = pe.Code
	}
	return ss.fail(code, trid)
}

// cmdRML drops FL contacts from the session's presence set; the SOAP call
// that goes with it changed the lists ("RML trid OK", captures).
func (ss *session) cmdRML(c msnp.Command) bool {
	ml, err := msnp.ParseMLKind(c.Payload, msnp.MLRemove)
	if err != nil {
		return ss.mlError(err, c.TrID())
	}
	var fl []string
	eachContact(ml, func(email string, cc msnp.MLContact) {
		if cc.L&nsclient.FL != 0 {
			fl = append(fl, email)
		}
	})
	ss.u.hideFL(true, fl...)
	return ss.line("RML", c.TrID(), "OK")
}

// cmdFQY answers which network each queried address is on: every address
// is a Windows Live one here (t="1", captures pidgin 2.10.1 / 2.4.3).
func (ss *session) cmdFQY(c msnp.Command) bool {
	ml, err := msnp.ParseMLKind(c.Payload, msnp.MLQuery)
	if err != nil {
		return ss.mlError(err, c.TrID())
	}
	return ss.payload("FQY", []string{c.TrID()}, msnp.FQYAnswer(ml, nil))
}

// cmdBLP stores the privacy mode through the NS API ("BLP trid AL|BL");
// the privacy.changed event that follows re-evaluates watchers.
func (ss *session) cmdBLP(c msnp.Command) bool {
	v := c.Arg(1)
	if v != "AL" && v != "BL" {
		return ss.fail(msnp.ErrInvalidParameter, c.TrID())
	}
	u := ss.u
	u.mu.Lock()
	same := u.blp == v
	u.mu.Unlock()
	if same {
		// Clients re-send their stored BLP at every sign-in (PROTOCOL.md §8
		// step B6, every captured ns.log); the value is known from the
		// profile, so nothing needs writing.
		return ss.line("BLP", c.TrID(), v)
	}
	ctx, cancel := ss.srv.apiCtx()
	_, err := ss.srv.cfg.API.SetPrivacy(ctx, ss.u.email, nsclient.Privacy{BLP: v})
	cancel()
	if err != nil {
		ss.srv.cfg.Log.Warn("ns: BLP", "email", ss.u.email, "error", err)
		return ss.fail(msnp.ErrInternal, c.TrID())
	}
	u.mu.Lock()
	u.blp = v
	u.mu.Unlock()
	return ss.line("BLP", c.TrID(), v)
}

// cmdPRP stores the friendly name ("PRP trid MFN name", name URL-encoded)
// through the NS API, answers with the name as sent and shows it to
// watchers with NLN. Other PRP properties (phone numbers) are echoed.
func (ss *session) cmdPRP(c msnp.Command) bool {
	trid, prop, value := c.TrID(), c.Arg(1), c.Arg(2)
	if prop != "MFN" {
		if prop == "" {
			return ss.fail(msnp.ErrSyntax, trid)
		}
		return ss.line("PRP", append([]string{trid}, c.Args[1:]...)...)
	}
	name, err := msnp.DecodeName(value)
	if err != nil {
		return ss.fail(msnp.ErrInvalidFriendly, trid)
	}
	if p := ss.u.snapshot(); p.Name == name {
		// pidgin re-sends its name at every sign-in
		// (clients/captures/pidgin-2.10.1-actions/ns.log): nothing to write.
		return ss.line("PRP", trid, "MFN", value)
	}
	ctx, cancel := ss.srv.apiCtx()
	_, err = ss.srv.cfg.API.SetDisplayName(ctx, ss.u.email, name)
	cancel()
	if err != nil {
		var ae *nsclient.APIError
		if errors.As(err, &ae) && ae.Status == 400 {
			return ss.fail(msnp.ErrInvalidFriendly, trid)
		}
		ss.srv.cfg.Log.Warn("ns: PRP", "email", ss.u.email, "error", err)
		return ss.fail(msnp.ErrInternal, trid)
	}
	ss.line("PRP", trid, "MFN", value)
	ss.srv.setPresence(ss.u, func(p *presence) { p.Name = name })
	return true
}
