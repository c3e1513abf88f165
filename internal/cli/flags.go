package cli

import (
	"github.com/spf13/pflag"

	"github.com/abch-im/abch/internal/config"
)

// addConfigFlags gives every configuration variable without a flag of its
// own one on the root command, named after the variable (ABCH_MAX_CONTACTS
// → --max-contacts), so a flag can override any variable for any command.
// The listener flags are serve's (cli.go), the data dir and database flags
// the root's; --nats-url and --nats-listen here are shadowed by `events
// tail`'s own, which set the same fields.
func (a *app) addConfigFlags(pf *pflag.FlagSet) {
	c := &a.cfg
	pf.Var(secretFlag{&c.NSKey}, "ns-key", "bearer key the NS presents; prefer the environment, flags show in ps (ABCH_NS_KEY)")
	pf.Var(secretFlag{&c.TicketSecret}, "ticket-secret", "ticket-signing secret; prefer the environment, flags show in ps (ABCH_TICKET_SECRET)")
	pf.DurationVar(&c.TicketLifetime, "ticket-lifetime", c.TicketLifetime, "ticket validity, at least 24h (ABCH_TICKET_LIFETIME)")
	pf.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "SOAP request body limit (ABCH_MAX_BODY_BYTES)")
	pf.DurationVar(&c.TombstoneHorizon, "tombstone-horizon", c.TombstoneHorizon, "how long deletions serve delta syncs (ABCH_TOMBSTONE_HORIZON)")
	pf.IntVar(&c.MaxContacts, "max-contacts", c.MaxContacts, "contacts per address book (ABCH_MAX_CONTACTS)")
	pf.IntVar(&c.MaxGroups, "max-groups", c.MaxGroups, "groups per address book (ABCH_MAX_GROUPS)")
	pf.IntVar(&c.MaxMembers, "max-members", c.MaxMembers, "members per role (ABCH_MAX_MEMBERS)")
	pf.IntVar(&c.ABCacheBytes, "ab-cache-bytes", c.ABCacheBytes, "memory for rendered full ABFindAll answers, 0 = off (ABCH_AB_CACHE_BYTES)")
	pf.IntVar(&c.SharingCacheBytes, "sharing-cache-bytes", c.SharingCacheBytes, "memory for rendered full FindMembership answers, 0 = off (ABCH_SHARING_CACHE_BYTES)")
	pf.StringVar(&c.StoredAnswers, "stored-answers", c.StoredAnswers, "keep rendered full ABFindAll/FindMembership answers in the database per book revision: on or off (ABCH_STORED_ANSWERS)")
	pf.Uint32Var(&c.Argon2Memory, "argon2-memory-kib", c.Argon2Memory, "argon2id memory (ABCH_ARGON2_MEMORY_KIB)")
	pf.Uint32Var(&c.Argon2Time, "argon2-time", c.Argon2Time, "argon2id passes (ABCH_ARGON2_TIME)")
	pf.Uint8Var(&c.Argon2Par, "argon2-parallelism", c.Argon2Par, "argon2id lanes (ABCH_ARGON2_PARALLELISM)")
	pf.IntVar(&c.LoginFailuresPerAccount, "login-failures", c.LoginFailuresPerAccount, "failed sign-ins per account per window (ABCH_LOGIN_FAILURES)")
	pf.IntVar(&c.LoginFailuresPerAddress, "login-failures-per-address", c.LoginFailuresPerAddress, "failed sign-ins per source address per window, 0 = --login-failures (ABCH_LOGIN_FAILURES_PER_ADDRESS)")
	pf.DurationVar(&c.LoginFailureWindow, "login-failure-window", c.LoginFailureWindow, "login throttle window (ABCH_LOGIN_FAILURE_WINDOW)")
	pf.StringVar(&c.NATSURL, "nats-url", c.NATSURL, "external NATS server; empty = embedded broker (ABCH_NATS_URL)")
	pf.Var(secretFlag{&c.NATSToken}, "nats-token", "token of the embedded broker, required when it listens beyond loopback; prefer the environment (ABCH_NATS_TOKEN)")
	pf.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "where the embedded broker listens (ABCH_NATS_LISTEN)")
	pf.IntVar(&c.OIMMaxPerRecipient, "oim-max-per-recipient", c.OIMMaxPerRecipient, "stored offline messages per recipient (ABCH_OIM_MAX_PER_RECIPIENT)")
	pf.IntVar(&c.OIMMaxBytes, "oim-max-bytes", c.OIMMaxBytes, "size of one offline message (ABCH_OIM_MAX_BYTES)")
	pf.IntVar(&c.OIMSendLimit, "oim-send-limit", c.OIMSendLimit, "offline messages per sender per window, 0 = no limit (ABCH_OIM_SEND_LIMIT)")
	pf.DurationVar(&c.OIMSendWindow, "oim-send-window", c.OIMSendWindow, "offline-message send window (ABCH_OIM_SEND_WINDOW)")
	pf.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (ABCH_LOG_LEVEL)")
	pf.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (ABCH_LOG_FORMAT)")
	pf.StringVar(&c.Hostname, "machine-name", c.Hostname, "machineName in SOAP faults (ABCH_MACHINE_NAME)")
	pf.StringVar(&c.PassportDALogin, "passport-dalogin", c.PassportDALogin, "Passport 1.4 DALogin: host/path MSNP8-12 clients log in at, on 443; the certificate must cover the host (ABCH_PASSPORT_DALOGIN)")
	pf.StringVar(&c.MSNPRedirect, "msnp-redirect", c.MSNPRedirect, "NS addresses USR is redirected to (XFR NS), comma-separated (ABCH_MSNP_REDIRECT)")
	pf.DurationVar(&c.MSNPChallenge, "msnp-challenge", c.MSNPChallenge, "send each NS session a CHL challenge this long after sign-in, 0 = never (ABCH_MSNP_CHALLENGE)")
	pf.StringVar(&c.SBAddr, "sb-addr", c.SBAddr, "switchboard listener beside the NS (ABCH_SB_ADDR)")
	pf.StringVar(&c.SBPublicAddr, "sb-public-addr", c.SBPublicAddr, "address XFR SB and RNG send clients to; empty = the bound --sb-addr (ABCH_SB_PUBLIC_ADDR)")
	pf.StringVar(&c.MSNPURLPassport, "msnp-url-passport", c.MSNPURLPassport, "NS URL answers: the Passport login page; empty = Microsoft's (ABCH_MSNP_URL_PASSPORT)")
	pf.StringVar(&c.MSNPURLHotmail, "msnp-url-hotmail", c.MSNPURLHotmail, "NS URL answers: the mail site (INBOX, FOLDERS, COMPOSE); empty = Microsoft's (ABCH_MSNP_URL_HOTMAIL)")
	pf.StringVar(&c.MSNPURLProfile, "msnp-url-profile", c.MSNPURLProfile, "NS URL answers: the profile site (PROFILE, PERSON); empty = Microsoft's (ABCH_MSNP_URL_PROFILE)")
	pf.StringVar(&c.MSNPURLMobile, "msnp-url-mobile", c.MSNPURLMobile, "NS URL answers: the mobile settings site (CHGMOB, MOBILE); empty = Microsoft's (ABCH_MSNP_URL_MOBILE)")
	pf.StringVar(&c.Signup, "signup", c.Signup, "web sign-up: open, invite (an invitation code from `abch invite create`) or off (ABCH_SIGNUP)")
	pf.Var(secretFlag{&c.AdminToken}, "admin-token", "operator dashboard token, at least 16 characters, empty = no dashboard; prefer the environment (ABCH_ADMIN_TOKEN)")
	pf.DurationVar(&c.WebSessionIdle, "web-session-idle", c.WebSessionIdle, "a web session ends this long after its last request (ABCH_WEB_SESSION_IDLE)")
	pf.IntVar(&c.SignupLimit, "signup-limit", c.SignupLimit, "web sign-up attempts per source address per window (ABCH_SIGNUP_LIMIT)")
	pf.DurationVar(&c.SignupWindow, "signup-window", c.SignupWindow, "web sign-up rate window (ABCH_SIGNUP_WINDOW)")
	pf.StringVar(&c.WebAddressHeader, "web-address-header", c.WebAddressHeader, "header a reverse proxy in front of the web pages puts the client address in, e.g. X-Real-IP; empty = the connection's (ABCH_WEB_ADDRESS_HEADER)")
	pf.StringVar(&c.WebTLS, "web-tls", c.WebTLS, "on: serve the web pages over TLS with --tls-cert/--tls-key; off: plain HTTP (ABCH_WEB_TLS)")
	pf.StringVar(&c.MSNPURLChat, "msnp-url-chat", c.MSNPURLChat, "NS URL answers: the chat rooms site (CHAT); empty = Microsoft's (ABCH_MSNP_URL_CHAT)")
}

// secretFlag is a string flag whose current value (taken from the
// environment) is never printed as the default in --help.
type secretFlag struct{ p *string }

func (f secretFlag) String() string {
	if f.p == nil || *f.p == "" {
		return ""
	}
	return "<from the environment>"
}

func (f secretFlag) Set(v string) error { *f.p = v; return nil }
func (f secretFlag) Type() string       { return "string" }

// urlFlag is a URL flag whose password is redacted in --help.
type urlFlag struct{ p *string }

func (f urlFlag) String() string {
	if f.p == nil {
		return ""
	}
	return config.Config{DatabaseURL: *f.p}.Redacted().DatabaseURL
}

func (f urlFlag) Set(v string) error { *f.p = v; return nil }
func (f urlFlag) Type() string       { return "string" }
