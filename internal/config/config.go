// Package config reads abch's configuration from the environment (and flags
// that override it) in one place, validates it once and prints it with
// secrets redacted. Every subcommand reads the same configuration, so
// `abch user add` writes where `abch serve` reads.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of an abch process.
type Config struct {
	DataDir     string // ABCH_DATA_DIR: embedded database, NATS storage, secrets
	DatabaseURL string // ABCH_DATABASE_URL: empty = embedded SQLite; postgres://… = Postgres

	HTTPAddr  string // ABCH_HTTP_ADDR: client-facing SOAP listener
	HTTPSAddr string // ABCH_HTTPS_ADDR: optional TLS listener with the same routes
	TLSCert   string // ABCH_TLS_CERT
	TLSKey    string // ABCH_TLS_KEY
	NSAddr    string // ABCH_NS_ADDR: NS-facing JSON API
	NSKey     string // ABCH_NS_KEY: bearer key the NS presents

	TicketSecret   string        // ABCH_TICKET_SECRET: generated and stored on first start unless given
	TicketLifetime time.Duration // ABCH_TICKET_LIFETIME (>= 24h, RST_OIM.md §1.3 rule 7)

	MaxBodyBytes     int64         // ABCH_MAX_BODY_BYTES: SOAP request body limit
	TombstoneHorizon time.Duration // ABCH_TOMBSTONE_HORIZON: how long deleted rows serve deltas
	MaxContacts      int           // ABCH_MAX_CONTACTS: contacts per address book
	MaxGroups        int           // ABCH_MAX_GROUPS: groups per address book
	MaxMembers       int           // ABCH_MAX_MEMBERS: members per role

	// Rendered full answers kept in memory, per process (0 turns a cache off).
	ABCacheBytes      int // ABCH_AB_CACHE_BYTES: full ABFindAll answers
	SharingCacheBytes int // ABCH_SHARING_CACHE_BYTES: full FindMembership answers
	// StoredAnswers is ABCH_STORED_ANSWERS: "on" keeps the rendered full
	// answers in the database as well, one row per book and answer kind,
	// valid for one revision (store.StoredAnswer); "off" reads the rows.
	StoredAnswers string

	// Argon2id parameters for new password hashes.
	Argon2Memory uint32 // ABCH_ARGON2_MEMORY_KIB
	Argon2Time   uint32 // ABCH_ARGON2_TIME
	Argon2Par    uint8  // ABCH_ARGON2_PARALLELISM

	LoginFailuresPerAccount int           // ABCH_LOGIN_FAILURES: failures allowed per window per account and per source address
	LoginFailureWindow      time.Duration // ABCH_LOGIN_FAILURE_WINDOW

	// The Notification Server (services/ns, docs/ns.md).
	MSNPAddr     string // ABCH_MSNP_ADDR: MSNP listener of the NS ("off": no NS)
	MSNPRedirect string // ABCH_MSNP_REDIRECT: comma-separated NS addresses USR is redirected to (XFR NS)
	NSAPIURL     string // ABCH_NS_API_URL: the NS API `abch ns` pairs with
	// MSNPChallenge sends each session a CHL challenge that long after
	// sign-in (0: never); a wrong QRY answer ends the session.
	MSNPChallenge time.Duration // ABCH_MSNP_CHALLENGE
	// The switchboard beside each NS (services/sb, docs/sb.md).
	SBAddr       string // ABCH_SB_ADDR: switchboard listener
	SBPublicAddr string // ABCH_SB_PUBLIC_ADDR: address XFR SB and RNG send clients to (default: the bound ABCH_SB_ADDR)
	// Base URLs of the NS URL command's answers (ABCH_MSNP_URL_*).
	MSNPURLPassport, MSNPURLHotmail, MSNPURLProfile, MSNPURLMobile, MSNPURLChat string

	NATSURL    string // ABCH_NATS_URL: external NATS cluster; empty = embedded server
	NATSListen string // ABCH_NATS_LISTEN: where the embedded NATS server listens

	OIMMaxPerRecipient int // ABCH_OIM_MAX_PER_RECIPIENT: stored OIMs per recipient
	OIMMaxBytes        int // ABCH_OIM_MAX_BYTES: size of one OIM
	// OIMSendLimit offline messages per OIMSendWindow per sender (0: no limit).
	OIMSendLimit  int           // ABCH_OIM_SEND_LIMIT
	OIMSendWindow time.Duration // ABCH_OIM_SEND_WINDOW

	LogLevel  string // ABCH_LOG_LEVEL: debug, info, warn, error
	LogFormat string // ABCH_LOG_FORMAT: text or json
	Hostname  string // ABCH_MACHINE_NAME: machineName in faults

	// TLSProfile is ABCH_TLS_PROFILE: legacy (default; TLS 1.0–1.3 with the
	// RSA, 3DES and RC4 suites XP/Vista/7 clients need) or modern (Go's defaults).
	TLSProfile string
	// LoginFailuresPerAddress is ABCH_LOGIN_FAILURES_PER_ADDRESS: failed
	// sign-ins allowed per window per source address (0: ABCH_LOGIN_FAILURES).
	LoginFailuresPerAddress int
	// PassportDALogin is ABCH_PASSPORT_DALOGIN: the DALogin of Passport
	// 1.4's nexus answer, a bare host and path ("login.passport.com/login2.srf"):
	// MSNP8–12 clients connect to that host on 443 (no scheme, no port),
	// so it must be a name the TLS certificate covers (docs/passport.md).
	PassportDALogin string
	// NATSToken is ABCH_NATS_TOKEN: the token the embedded broker requires
	// and abch's own connections present (also to ABCH_NATS_URL). Required
	// when ABCH_NATS_LISTEN is beyond loopback.
	NATSToken string

	// The web pages (services/web, docs/web.md).
	WebAddr string // ABCH_WEB_ADDR: sign-up, self-service and dashboard listener ("off": none)
	// Signup is ABCH_SIGNUP: open (anyone), invite (an unused invitation
	// code from `abch invite create` or the dashboard) or off.
	Signup string
	// AdminToken is ABCH_ADMIN_TOKEN: the operator dashboard's bearer token
	// (empty: no dashboard).
	AdminToken       string
	WebSessionIdle   time.Duration // ABCH_WEB_SESSION_IDLE: a web session ends this long after its last request
	SignupLimit      int           // ABCH_SIGNUP_LIMIT: sign-up attempts per source address per window
	SignupWindow     time.Duration // ABCH_SIGNUP_WINDOW
	WebAddressHeader string        // ABCH_WEB_ADDRESS_HEADER: header a reverse proxy puts the client address in (empty: the connection's)
	// WebTLS is ABCH_WEB_TLS: "on" serves the web pages over TLS with
	// ABCH_TLS_CERT/ABCH_TLS_KEY (and the TLS profile); "off" plain HTTP.
	WebTLS string
}

// Defaults returns the configuration with every default filled in.
func Defaults() Config {
	return Config{
		DataDir:                 "./abch-data",
		HTTPAddr:                "127.0.0.1:8080",
		NSAddr:                  "127.0.0.1:8090",
		MSNPAddr:                "127.0.0.1:1863",
		SBAddr:                  "127.0.0.1:1864",
		TicketLifetime:          24 * time.Hour,
		MaxBodyBytes:            1 << 20,
		TombstoneHorizon:        30 * 24 * time.Hour,
		MaxContacts:             1000,
		MaxGroups:               100,
		MaxMembers:              1500,
		ABCacheBytes:            64 << 20,
		SharingCacheBytes:       32 << 20,
		StoredAnswers:           "on",
		Argon2Memory:            19 * 1024,
		Argon2Time:              2,
		Argon2Par:               1,
		LoginFailuresPerAccount: 10,
		LoginFailureWindow:      5 * time.Minute,
		NATSListen:              "127.0.0.1:4222",
		OIMMaxPerRecipient:      200,
		OIMMaxBytes:             16 << 10,
		OIMSendLimit:            60,
		OIMSendWindow:           time.Minute,
		LogLevel:                "info",
		LogFormat:               "text",
		Hostname:                "ABCH01",
		TLSProfile:              "legacy",
		PassportDALogin:         "login.passport.com/login2.srf",
		WebAddr:                 "127.0.0.1:8081",
		Signup:                  "open",
		WebSessionIdle:          30 * time.Minute,
		SignupLimit:             10,
		SignupWindow:            time.Hour,
		WebTLS:                  "off",
	}
}

// FromEnv returns Defaults overridden by the ABCH_* environment variables.
func FromEnv() (Config, error) { return fromLookup(os.LookupEnv) }

// envReader reads typed variables from lookup, collecting the errors of
// values that do not parse.
type envReader struct {
	lookup func(string) (string, bool)
	errs   []string
}

// str sets *dst to the variable's value when it is set (even empty).
func (r *envReader) str(name string, dst *string) {
	if v, ok := r.lookup(name); ok {
		*dst = v
	}
}

// integer sets *dst to the variable's decimal value when it is set and not
// empty.
func (r *envReader) integer(name string, dst *int) {
	if v, ok := r.lookup(name); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s: %v", name, err))
			return
		}
		*dst = n
	}
}

// dur sets *dst to the variable's duration (time.ParseDuration) when it is
// set and not empty.
func (r *envReader) dur(name string, dst *time.Duration) {
	if v, ok := r.lookup(name); ok && v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			r.errs = append(r.errs, fmt.Sprintf("%s: %v", name, err))
			return
		}
		*dst = d
	}
}

// fromLookup is Defaults overridden by the variables lookup finds: the one
// list of ABCH_* variables.
func fromLookup(lookup func(string) (string, bool)) (Config, error) {
	c := Defaults()
	r := &envReader{lookup: lookup}
	str, integer, dur := r.str, r.integer, r.dur
	str("ABCH_DATA_DIR", &c.DataDir)
	str("ABCH_DATABASE_URL", &c.DatabaseURL)
	str("ABCH_HTTP_ADDR", &c.HTTPAddr)
	str("ABCH_HTTPS_ADDR", &c.HTTPSAddr)
	str("ABCH_TLS_CERT", &c.TLSCert)
	str("ABCH_TLS_KEY", &c.TLSKey)
	str("ABCH_NS_ADDR", &c.NSAddr)
	str("ABCH_NS_KEY", &c.NSKey)
	str("ABCH_TICKET_SECRET", &c.TicketSecret)
	dur("ABCH_TICKET_LIFETIME", &c.TicketLifetime)
	var maxBody = int(c.MaxBodyBytes)
	integer("ABCH_MAX_BODY_BYTES", &maxBody)
	c.MaxBodyBytes = int64(maxBody)
	dur("ABCH_TOMBSTONE_HORIZON", &c.TombstoneHorizon)
	integer("ABCH_MAX_CONTACTS", &c.MaxContacts)
	integer("ABCH_MAX_GROUPS", &c.MaxGroups)
	integer("ABCH_MAX_MEMBERS", &c.MaxMembers)
	integer("ABCH_AB_CACHE_BYTES", &c.ABCacheBytes)
	integer("ABCH_SHARING_CACHE_BYTES", &c.SharingCacheBytes)
	str("ABCH_STORED_ANSWERS", &c.StoredAnswers)
	mem, tm, par := int(c.Argon2Memory), int(c.Argon2Time), int(c.Argon2Par)
	integer("ABCH_ARGON2_MEMORY_KIB", &mem)
	integer("ABCH_ARGON2_TIME", &tm)
	integer("ABCH_ARGON2_PARALLELISM", &par)
	c.Argon2Memory, c.Argon2Time, c.Argon2Par = uint32(mem), uint32(tm), uint8(par)
	integer("ABCH_LOGIN_FAILURES", &c.LoginFailuresPerAccount)
	dur("ABCH_LOGIN_FAILURE_WINDOW", &c.LoginFailureWindow)
	str("ABCH_MSNP_ADDR", &c.MSNPAddr)
	str("ABCH_MSNP_REDIRECT", &c.MSNPRedirect)
	str("ABCH_NS_API_URL", &c.NSAPIURL)
	dur("ABCH_MSNP_CHALLENGE", &c.MSNPChallenge)
	str("ABCH_SB_ADDR", &c.SBAddr)
	str("ABCH_SB_PUBLIC_ADDR", &c.SBPublicAddr)
	str("ABCH_MSNP_URL_PASSPORT", &c.MSNPURLPassport)
	str("ABCH_MSNP_URL_HOTMAIL", &c.MSNPURLHotmail)
	str("ABCH_MSNP_URL_PROFILE", &c.MSNPURLProfile)
	str("ABCH_MSNP_URL_MOBILE", &c.MSNPURLMobile)
	str("ABCH_MSNP_URL_CHAT", &c.MSNPURLChat)
	str("ABCH_NATS_URL", &c.NATSURL)
	str("ABCH_NATS_LISTEN", &c.NATSListen)
	integer("ABCH_OIM_MAX_PER_RECIPIENT", &c.OIMMaxPerRecipient)
	integer("ABCH_OIM_MAX_BYTES", &c.OIMMaxBytes)
	integer("ABCH_OIM_SEND_LIMIT", &c.OIMSendLimit)
	dur("ABCH_OIM_SEND_WINDOW", &c.OIMSendWindow)
	str("ABCH_LOG_LEVEL", &c.LogLevel)
	str("ABCH_LOG_FORMAT", &c.LogFormat)
	str("ABCH_MACHINE_NAME", &c.Hostname)
	str("ABCH_TLS_PROFILE", &c.TLSProfile)
	integer("ABCH_LOGIN_FAILURES_PER_ADDRESS", &c.LoginFailuresPerAddress)
	str("ABCH_NATS_TOKEN", &c.NATSToken)
	str("ABCH_PASSPORT_DALOGIN", &c.PassportDALogin)
	str("ABCH_WEB_ADDR", &c.WebAddr)
	str("ABCH_SIGNUP", &c.Signup)
	str("ABCH_ADMIN_TOKEN", &c.AdminToken)
	dur("ABCH_WEB_SESSION_IDLE", &c.WebSessionIdle)
	integer("ABCH_SIGNUP_LIMIT", &c.SignupLimit)
	dur("ABCH_SIGNUP_WINDOW", &c.SignupWindow)
	str("ABCH_WEB_ADDRESS_HEADER", &c.WebAddressHeader)
	str("ABCH_WEB_TLS", &c.WebTLS)
	if len(r.errs) > 0 {
		return c, fmt.Errorf("config: %s", strings.Join(r.errs, "; "))
	}
	return c, nil
}

// Validate checks the configuration once, before anything starts.
func (c *Config) Validate() error {
	var errs []string
	if c.DataDir == "" {
		errs = append(errs, "ABCH_DATA_DIR must not be empty")
	}
	if c.DatabaseURL != "" && !c.IsPostgres() {
		errs = append(errs, "ABCH_DATABASE_URL must be empty (embedded) or a postgres:// URL")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, "ABCH_TLS_CERT and ABCH_TLS_KEY go together")
	}
	if c.HTTPSAddr != "" && c.TLSCert == "" {
		errs = append(errs, "ABCH_HTTPS_ADDR needs ABCH_TLS_CERT and ABCH_TLS_KEY")
	}
	if c.TLSProfile != "legacy" && c.TLSProfile != "modern" {
		errs = append(errs, fmt.Sprintf("ABCH_TLS_PROFILE must be legacy or modern, not %q", c.TLSProfile))
	}
	if !validDALogin(c.PassportDALogin) {
		errs = append(errs, fmt.Sprintf("ABCH_PASSPORT_DALOGIN must be a bare host name and a path, like login.passport.com/login2.srf (no scheme, no port), not %q", c.PassportDALogin))
	}
	if c.TicketLifetime < 24*time.Hour {
		errs = append(errs, "ABCH_TICKET_LIFETIME must be at least 24h (clients keep tickets for the session)")
	}
	if c.MaxBodyBytes < 4096 {
		errs = append(errs, "ABCH_MAX_BODY_BYTES must be at least 4096")
	}
	if c.TombstoneHorizon <= 0 {
		errs = append(errs, "ABCH_TOMBSTONE_HORIZON must be positive")
	}
	if c.MaxContacts <= 0 || c.MaxGroups <= 0 || c.MaxMembers <= 0 {
		errs = append(errs, "ABCH_MAX_CONTACTS, ABCH_MAX_GROUPS and ABCH_MAX_MEMBERS must be positive")
	}
	if c.ABCacheBytes < 0 || c.SharingCacheBytes < 0 {
		errs = append(errs, "ABCH_AB_CACHE_BYTES and ABCH_SHARING_CACHE_BYTES must not be negative")
	}
	if c.StoredAnswers != "on" && c.StoredAnswers != "off" {
		errs = append(errs, fmt.Sprintf("ABCH_STORED_ANSWERS must be on or off, not %q", c.StoredAnswers))
	}
	if c.Argon2Memory < 1024 || c.Argon2Time < 1 || c.Argon2Par < 1 {
		errs = append(errs, "argon2 parameters too small (memory >= 1024 KiB, time >= 1, parallelism >= 1)")
	}
	if c.LoginFailuresPerAccount <= 0 || c.LoginFailureWindow <= 0 {
		errs = append(errs, "ABCH_LOGIN_FAILURES and ABCH_LOGIN_FAILURE_WINDOW must be positive")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil || c.LogLevel == "" {
		errs = append(errs, fmt.Sprintf("ABCH_LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if f := strings.ToLower(c.LogFormat); f != "text" && f != "json" {
		errs = append(errs, fmt.Sprintf("ABCH_LOG_FORMAT must be text or json, not %q", c.LogFormat))
	}
	if c.NATSURL == "" && c.NATSToken == "" && !loopbackListen(c.NATSListen) {
		errs = append(errs, fmt.Sprintf("ABCH_NATS_LISTEN %s is reachable beyond loopback: set ABCH_NATS_TOKEN (NS processes connect with it) or listen on 127.0.0.1", c.NATSListen))
	}
	if c.MSNPAddr != "off" && c.SBPublicAddr == "" && unspecifiedListen(c.SBAddr) {
		errs = append(errs, fmt.Sprintf("ABCH_SB_ADDR %s listens on every interface, an address clients cannot be sent to: set ABCH_SB_PUBLIC_ADDR to the host:port they reach (XFR SB and RNG carry it)", c.SBAddr))
	}
	if c.LoginFailuresPerAddress < 0 {
		errs = append(errs, "ABCH_LOGIN_FAILURES_PER_ADDRESS must not be negative (0: same as ABCH_LOGIN_FAILURES)")
	}
	if c.OIMSendLimit < 0 || c.OIMSendWindow <= 0 {
		errs = append(errs, "ABCH_OIM_SEND_LIMIT must not be negative and ABCH_OIM_SEND_WINDOW must be positive")
	}
	if c.OIMMaxPerRecipient <= 0 || c.OIMMaxBytes <= 0 {
		errs = append(errs, "OIM limits must be positive")
	}
	errs = append(errs, c.validateWeb()...)
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// MinAdminToken is the shortest ABCH_ADMIN_TOKEN accepted: the dashboard
// can delete accounts, so its token must not be guessable.
const MinAdminToken = 16

func (c *Config) validateWeb() []string {
	var errs []string
	switch c.Signup {
	case "open", "invite", "off":
	default:
		errs = append(errs, fmt.Sprintf("ABCH_SIGNUP must be open, invite or off, not %q", c.Signup))
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminToken {
		errs = append(errs, fmt.Sprintf("ABCH_ADMIN_TOKEN must be at least %d characters (empty: no dashboard)", MinAdminToken))
	}
	switch {
	case c.WebTLS != "on" && c.WebTLS != "off":
		errs = append(errs, fmt.Sprintf("ABCH_WEB_TLS must be on or off, not %q", c.WebTLS))
	case c.WebTLS == "on" && c.TLSCert == "":
		errs = append(errs, "ABCH_WEB_TLS=on needs ABCH_TLS_CERT and ABCH_TLS_KEY")
	}
	if c.WebSessionIdle <= 0 || c.SignupWindow <= 0 || c.SignupLimit <= 0 {
		errs = append(errs, "ABCH_WEB_SESSION_IDLE, ABCH_SIGNUP_LIMIT and ABCH_SIGNUP_WINDOW must be positive")
	}
	return errs
}

// WebEnabled reports whether this process serves the web pages.
func (c *Config) WebEnabled() bool { return c.WebAddr != "" && !strings.EqualFold(c.WebAddr, "off") }

// MSNPEnabled reports whether this process runs the Notification Server.
func (c *Config) MSNPEnabled() bool { return c.MSNPAddr != "" && !strings.EqualFold(c.MSNPAddr, "off") }

// IsPostgres reports whether the configured database is Postgres.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// SQLitePath is the embedded database file in the data dir.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "abch.db") }

// Redacted returns a printable copy with secrets replaced.
func (c Config) Redacted() Config {
	if c.NSKey != "" {
		c.NSKey = "<redacted>"
	}
	if c.TicketSecret != "" {
		c.TicketSecret = "<redacted>"
	}
	if c.NATSToken != "" {
		c.NATSToken = "<redacted>"
	}
	if c.AdminToken != "" {
		c.AdminToken = "<redacted>"
	}
	if c.DatabaseURL != "" {
		c.DatabaseURL = redactURL(c.DatabaseURL)
	}
	return c
}

func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return u[:scheme+3] + userinfo[:i] + ":<redacted>" + u[at:]
	}
	return u
}

// loopbackListen reports whether a listen address (host:port) accepts
// connections from this machine only. An empty or wildcard host does not.
// unspecifiedListen reports whether addr binds every interface ("0.0.0.0",
// "::" or no host), which says nothing about where clients find it.
func unspecifiedListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false // reported by the listener with the address
	}
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true // reported by the broker with the address
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validDALogin checks an ABCH_PASSPORT_DALOGIN value: a host name of
// letters, digits, dots and hyphens, then '/' and a path without commas or
// spaces (clients read it up to the next ',' of the PassportURLs header).
func validDALogin(v string) bool {
	host, path, found := strings.Cut(v, "/")
	if !found || host == "" || path == "" || strings.ContainsAny(path, ", \t\r\n?#") {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return !strings.HasPrefix(host, ".") && !strings.HasSuffix(host, ".")
}
