package msnp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Command is one command line, with its payload for payload commands.
type Command struct {
	// Name is the command as sent: three upper-case letters.
	Name string
	// Args are the space-separated parameters after the name. For client
	// commands the transaction id is Args[0] (PNG and OUT carry none). For
	// payload commands the trailing length parameter has been consumed.
	Args []string
	// Payload holds the payload bytes of a payload command (possibly empty
	// but non-nil), nil for other commands.
	Payload []byte
}

// TrID returns the transaction id: Args[0], or "" when the command carries
// none (PNG, OUT) or has no arguments.
func (c Command) TrID() string {
	if !hasTrID(c.Name) || len(c.Args) == 0 {
		return ""
	}
	return c.Args[0]
}

// Arg returns Args[i], or "" when there are fewer arguments.
func (c Command) Arg(i int) string {
	if i < 0 || i >= len(c.Args) {
		return ""
	}
	return c.Args[i]
}

// Limits bound what a Reader accepts from one client.
type Limits struct {
	// MaxLine is the longest command line accepted, without its CR LF.
	MaxLine int
	// MaxPayload is the largest payload length accepted.
	MaxPayload int
}

// DefaultLimits fit every real client: the longest lines are USR SSO S with
// a compact ticket and its answer (about 1.5 KB); pidgin splits ADL at 150
// contacts and papyon at about 7,500 bytes (PROTOCOL.md §4.2); a UUX with a
// long PSM and media stays under 4 KB.
var DefaultLimits = Limits{MaxLine: 8192, MaxPayload: 65536}

// payloadCommands are the client commands whose last parameter is a payload
// length, in any protocol version: framing them in every version keeps the
// stream in sync, and the server decides whether the command is valid in the
// session's version (see Removed and PayloadCommand).
var payloadCommands = map[string]int{
	"QRY": 8,  // MSNP8+: the challenge answer (32 bytes)
	"UUX": 10, // MSNP10+: personal status message, media, MachineGuid
	"ADL": 13, // MSNP13+: add to lists (XML)
	"RML": 13, // MSNP13+: remove from lists (XML)
	"FQY": 14, // MSNP14+: federation query (XML)
	"UUN": 13, // MSNP13+: notification to another user's endpoint
	"UUM": 14, // MSNP14+: message to a Yahoo contact
	"PUT": 18, // MSNP18+: circles / endpoint data
	"DEL": 18, // MSNP18+
	"SDG": 18, // MSNP18+: send datagram
	"MSG": 0,  // switchboard (and MSNP2-era NS) messages
	"SDC": 0,  // MSNP8-era: e-mail invitation (seeds/msnp8-miscellaneous.txt)
	"PAG": 0,  // MSNP8-era: page a mobile device
}

// PayloadCommand reports whether name is a client command that carries a
// payload, and the first protocol version that has it (0: every version).
func PayloadCommand(name string) (since int, ok bool) {
	since, ok = payloadCommands[name]
	return since, ok
}

// hasTrID reports whether a client command starts with a transaction id.
// PNG and OUT carry none (captures: "C: PNG", "C: OUT").
func hasTrID(name string) bool {
	return name != "PNG" && name != "OUT"
}

// removed13 are the commands MSNP13 removed with automatic disconnection
// (seeds/msnp13-changes.txt; PROTOCOL.md §4.1).
var removed13 = map[string]bool{"ADC": true, "ADG": true, "REG": true, "REM": true, "RMG": true, "GTC": true, "SYN": true, "SBP": true}

// Removed reports whether name was removed in protocol version and must
// disconnect the session (ADC, ADG, REG, REM, RMG, GTC, SYN, SBP in MSNP13+).
func Removed(name string, version int) bool {
	return version >= 13 && removed13[name]
}

// Reader reads client commands from a stream, with limits. It is not safe
// for concurrent use.
type Reader struct {
	r    *bufio.Reader
	lim  Limits
	long []byte // a line longer than the read buffer, assembled here

	// ReusePayload makes Command.Payload a buffer the Reader owns and
	// overwrites at the next Read, instead of a new allocation per payload
	// command: for a caller that is done with a command (or has copied
	// what it keeps) before it reads the next one, as the switchboard's
	// relay is. Off by default.
	ReusePayload bool
	pay          []byte
}

// readBufSize is the Reader's buffer: most client lines are under 200
// bytes, so a small buffer keeps idle sessions cheap (10,000 sessions hold
// 10 MB of read buffers); longer lines (USR SSO S with its ticket) are
// assembled up to MaxLine.
const readBufSize = 1024

// NewReader returns a Reader on r. Zero fields of l take DefaultLimits.
func NewReader(r io.Reader, l Limits) *Reader {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultLimits.MaxLine
	}
	if l.MaxPayload <= 0 {
		l.MaxPayload = DefaultLimits.MaxPayload
	}
	return &Reader{r: bufio.NewReaderSize(r, readBufSize), lim: l}
}

// Read returns the next command. Errors:
//   - io.EOF at a clean end of stream (between commands), io.ErrUnexpectedEOF
//     inside a line or payload, other I/O errors as returned by the stream;
//   - *Error with Fatal set when the stream cannot be resynchronised: a line
//     longer than MaxLine (ErrSyntax), a payload length that is not a
//     decimal number or exceeds MaxPayload (ErrSyntax / ErrInvalidParameter);
//   - *Error without Fatal for a bad line that was read whole (the next
//     Read continues after it): an empty line, a name that is not three
//     upper-case letters, a bad transaction id (ErrSyntax), control
//     characters or invalid UTF-8 in the line or in a text payload
//     (ErrInvalidParameter).
//
// A line ends with CR LF; a bare LF is accepted too (telnet), a CR anywhere
// else is a syntax error.
func (r *Reader) Read() (Command, error) {
	line, err := r.readLine()
	if err != nil {
		return Command{}, err
	}
	cmd, err := r.parse(line)
	r.long = nil // parse copied what it keeps; long lines are rare
	return cmd, err
}

func (r *Reader) readLine() ([]byte, error) {
	tooLong := func() error {
		r.long = nil
		return errorf(ErrSyntax, "", true, "line longer than "+strconv.Itoa(r.lim.MaxLine)+" bytes")
	}
	line, err := r.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// Assemble a long line; the limit counts the line without CR LF.
		r.long = append(r.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(r.long) > r.lim.MaxLine+1 {
				return nil, tooLong()
			}
			line, err = r.r.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		if len(line) == 0 {
			return nil, io.EOF
		}
		return nil, io.ErrUnexpectedEOF
	default:
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > r.lim.MaxLine {
		return nil, tooLong()
	}
	return line, nil
}

func (r *Reader) parse(line []byte) (Command, error) {
	fields := splitArgs(line)
	if len(fields) == 0 {
		return Command{}, errorf(ErrSyntax, "", false, "empty line")
	}
	name := fields[0]
	cmd := Command{Name: name, Args: fields[1:]}
	trid := ""
	if hasTrID(name) && len(cmd.Args) > 0 && ValidTrID(cmd.Args[0]) {
		trid = cmd.Args[0]
	}
	// Frame the payload first, so a bad line of a payload command still
	// leaves the stream in sync.
	var lineErr *Error
	if !validName(name) {
		lineErr = errorf(ErrSyntax, trid, false, "bad command name")
	} else if hasTrID(name) && len(cmd.Args) > 0 && trid == "" {
		lineErr = errorf(ErrSyntax, "", false, "bad transaction id")
	} else if bad := badText(line); bad != "" {
		lineErr = errorf(ErrInvalidParameter, trid, false, bad+" in command line")
	}
	// A mis-cased payload command ("adl") is still framed, so the error
	// does not desynchronise the stream.
	if _, ok := payloadCommands[strings.ToUpper(name)]; ok {
		min := 1
		if hasTrID(name) {
			min = 2
		}
		if len(cmd.Args) < min {
			if lineErr != nil {
				return Command{}, lineErr
			}
			return Command{}, errorf(ErrSyntax, trid, false, "payload command without length")
		}
		n, ok := parseLength(cmd.Args[len(cmd.Args)-1])
		if !ok {
			return Command{}, errorf(ErrSyntax, trid, true, "bad payload length")
		}
		if n > r.lim.MaxPayload {
			return Command{}, errorf(ErrInvalidParameter, trid, true, "payload longer than "+strconv.Itoa(r.lim.MaxPayload)+" bytes")
		}
		cmd.Args = cmd.Args[:len(cmd.Args)-1]
		cmd.Payload = r.payloadBuf(n)
		if _, err := io.ReadFull(r.r, cmd.Payload); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return Command{}, err
		}
		if lineErr == nil && name != "MSG" && !utf8.Valid(cmd.Payload) {
			lineErr = errorf(ErrInvalidParameter, trid, false, "invalid UTF-8 in payload")
		}
	}
	if lineErr != nil {
		return Command{}, lineErr
	}
	return cmd, nil
}

// payloadBuf returns a non-nil slice of n bytes for a payload: a new one,
// or with ReusePayload the Reader's own buffer, grown as needed.
func (r *Reader) payloadBuf(n int) []byte {
	if !r.ReusePayload {
		return make([]byte, n)
	}
	if cap(r.pay) < n || r.pay == nil {
		r.pay = make([]byte, max(n, 256))
	}
	return r.pay[:n]
}

// splitArgs splits a line on spaces, ignoring empty fields (a trailing
// space, or two spaces in a row). The fields share one string: one
// allocation for the line, not one per field.
func splitArgs(line []byte) []string {
	s := string(line)
	out := make([]string, 0, 1+strings.Count(s, " "))
	for len(s) > 0 {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			out = append(out, s)
			break
		}
		if i > 0 {
			out = append(out, s[:i])
		}
		s = s[i+1:]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func validName(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// ValidTrID reports whether s is a transaction id: a decimal number of at
// most ten digits that fits in 32 bits (pidgin keeps it in an unsigned int,
// cmdproc.c).
func ValidTrID(s string) bool {
	if len(s) == 0 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return err == nil && n <= 1<<32-1
}

func parseLength(s string) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// badText describes why a command line is not acceptable text ("" when it
// is): invalid UTF-8, or a control character (a stray CR, NUL, TAB …).
func badText(b []byte) string {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return "control character"
		}
	}
	if !utf8.Valid(b) {
		return "invalid UTF-8"
	}
	return ""
}

// AppendLine appends "NAME a b\r\n" to dst.
func AppendLine(dst []byte, name string, args ...string) []byte {
	dst = append(dst, name...)
	for _, a := range args {
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	return append(dst, '\r', '\n')
}

// AppendPayload appends "NAME a b <len>\r\n<payload>" to dst (with no args:
// "NAME <len>\r\n<payload>", as NOT is written).
func AppendPayload(dst []byte, name string, args []string, payload []byte) []byte {
	dst = append(dst, name...)
	for _, a := range args {
		dst = append(dst, ' ')
		dst = append(dst, a...)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(len(payload)), 10)
	dst = append(dst, '\r', '\n')
	return append(dst, payload...)
}

// AppendError appends the error line "<code> <trid>\r\n" to dst.
func AppendError(dst []byte, code int, trid string) []byte {
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, trid...)
	return append(dst, '\r', '\n')
}

// AppendErrorFor appends the error line for a session of protocol
// version, in the form each client can frame:
//
//   - MSNP13 and MSNP14: "<code> <trid> 0\r\n" for every code. pidgin 2.4.3
//     (its MSNP13/14 code) takes the last number of any numeric command as
//     a payload length (command.c msn_set_payload_len: is_num(command)), so
//     a plain "<code> <trid>" would make it swallow the next <trid> bytes.
//   - MSNP15 and later: "<code> <trid> 0\r\n" for the errors that carry a
//     payload (PayloadError: 204, 241, 509), which MSNPSharp frames by the
//     line's last number (NSMessagePool.cs) and papyon likewise
//     (transport.py, command.py INCOMING_PAYLOAD); "<code> <trid>\r\n"
//     otherwise.
//   - MSNP8–12: "<code> <trid>\r\n".
//
// pidgin 2.10.1 and papyon read a trailing 0 as an empty payload
// (notification.c adl_error; transport.py).
func AppendErrorFor(dst []byte, code int, trid string, version int) []byte {
	if version == 13 || version == 14 || version >= 15 && PayloadError(code) {
		dst = strconv.AppendInt(dst, int64(code), 10)
		dst = append(dst, ' ')
		dst = append(dst, trid...)
		return append(dst, " 0\r\n"...)
	}
	return AppendError(dst, code, trid)
}

// PayloadError reports whether clients frame error code with a payload
// length (204 and 241 for ADL/RML, 509 for mobile messages; MSNPSharp
// NSMessagePool.cs, papyon command.py).
func PayloadError(code int) bool {
	return code == ErrInvalidNetwork || code == ErrADLInvalid || code == ErrMobileFailure
}

// AppendErrorPayload appends "<code> <trid> <len>\r\n<payload>": an ADL or
// RML error carrying the offending payload, which pidgin 2.10.1 shows to
// the user (241: "The following users are missing from your addressbook";
// notification.c adl_error_parse).
func AppendErrorPayload(dst []byte, code int, trid string, payload []byte) []byte {
	return AppendPayload(dst, strconv.Itoa(code), []string{trid}, payload)
}

// AppendNOT appends "NOT <len>\r\n<payload>" for a session of protocol
// version. For MSNP13 and MSNP14 the payload is made to end in CR LF
// (counted in the length): pidgin 2.4.3 does not list NOT among its payload
// commands (command.c msn_check_payload_cmd), so the payload length its
// not_cmd sets is overwritten with 0 (servconn.c) and the payload is read
// as a command line. Ending it in CR LF keeps that line to itself: an
// unknown "<NOTIFICATION" command the client ignores, instead of a line
// that swallows the next real command. Clients that frame NOT correctly
// see trailing whitespace after the XML document, which XML allows.
func AppendNOT(dst, payload []byte, version int) []byte {
	if (version == 13 || version == 14) && !bytes.HasSuffix(payload, []byte("\r\n")) {
		p := make([]byte, 0, len(payload)+2)
		p = append(append(p, payload...), '\r', '\n')
		payload = p
	}
	return AppendPayload(dst, "NOT", nil, payload)
}

// Append appends c in wire form: a payload command (non-nil Payload) with
// its length, any other as a line.
func (c Command) Append(dst []byte) []byte {
	if c.Payload != nil {
		return AppendPayload(dst, c.Name, c.Args, c.Payload)
	}
	return AppendLine(dst, c.Name, c.Args...)
}
