package ns

import (
	"github.com/abch-im/abch/services/ns/msnp"
)

// cmdCHG sets the user's status ("CHG trid status [clientid [msnobj]]",
// echoed back). The first CHG of a session puts the user online: watchers
// that may see them get NLN, and the user gets ILN (with this trid) and UBX
// for every online contact that lets them see it (PROTOCOL.md §8 B9). HDN
// looks offline to watchers (FLN).
func (ss *session) cmdCHG(c msnp.Command) bool {
	trid, status, caps, obj := c.TrID(), c.Arg(1), c.Arg(2), c.Arg(3)
	if !msnp.ValidStatus(status) || len(c.Args) > 4 {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	if caps == "" {
		caps = "0"
	}
	if _, err := msnp.ParseClientID(caps, ss.ver); err != nil {
		return ss.fail(msnp.ErrInvalidParameter, trid)
	}
	var raw string
	if obj != "" && obj != "0" {
		o, err := msnp.ParseMSNObject(obj)
		if err != nil {
			return ss.fail(msnp.ErrInvalidParameter, trid)
		}
		raw = o.Raw
	}
	ss.line("CHG", c.Args...)
	u := ss.u
	u.mu.Lock()
	first := u.ilnTrID == ""
	if first {
		u.ilnTrID = trid
	}
	u.mu.Unlock()
	ss.srv.setPresence(u, func(p *presence) { p.Status, p.Caps, p.MSNObj = status, caps, raw })
	if first {
		ss.srv.probe(u, u.contacts(), true)
	}
	return true
}

// cmdUUX stores the personal message / current media / MachineGuid
// document ("UUX trid 0") and relays it to watchers as UBX. Elements the
// client left out keep their value.
func (ss *session) cmdUUX(c msnp.Command) bool {
	x, err := msnp.ParseUUX(c.Payload)
	if err != nil {
		return ss.fail(msnp.ErrInvalidParameter, c.TrID())
	}
	ss.line("UUX", c.TrID(), "0")
	u := ss.u
	u.mu.Lock()
	if x.HasPSM {
		u.pres.PSM = x.PSM
	}
	if x.HasCurrentMedia {
		u.pres.Media = x.CurrentMedia
	}
	if x.HasMachineGuid {
		u.pres.GUID = x.MachineGuid
	}
	p := u.pres
	u.mu.Unlock()
	if p.visible() {
		m := presenceMsg(u, p, false, true)
		m.UBXOnly = true
		ss.srv.fanOut(u, m)
	}
	return true
}

// cmdURL answers "URL trid TYPE [param]" with the service's address
// ("URL trid rru url id", msnp8-miscellaneous seed).
func (ss *session) cmdURL(c msnp.Command) bool {
	args, ok := ss.srv.cfg.URLs.Args(c.Arg(1), c.Arg(2))
	if !ok {
		return ss.fail(msnp.ErrInvalidParameter, c.TrID())
	}
	return ss.line("URL", append([]string{c.TrID()}, args...)...)
}

// challenge sends "CHL 0 <challenge>"; the client must answer with QRY.
func (s *Server) challenge(ss *session) {
	chl := msnp.NewChallenge()
	ss.chlMu.Lock()
	ss.chl = chl
	ss.chlMu.Unlock()
	ss.line("CHL", "0", chl)
}

// cmdQRY checks the answer to the pending CHL ("QRY trid productid 32" +
// hash) with the product key of the client's product id (MSNP8–10: MD5 of
// challenge and key; MSNP11+: the MSNP11 hash, msnp.CheckQRYVersion); a wrong answer
// or an unknown product is 540 and the session ends.
func (ss *session) cmdQRY(c msnp.Command) bool {
	ss.chlMu.Lock()
	chl := ss.chl
	ss.chl = ""
	ss.chlMu.Unlock()
	if chl == "" {
		return ss.fail(msnp.ErrNotExpectedCVR, c.TrID())
	}
	if ok, _ := msnp.CheckQRYVersion(chl, c.Arg(1), string(c.Payload), ss.ver); !ok {
		ss.fail(msnp.ErrChallenge, c.TrID())
		return false
	}
	return ss.line("QRY", c.TrID())
}
