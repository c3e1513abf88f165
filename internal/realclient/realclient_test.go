package realclient_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/abch-im/abch/internal/cli"
	"github.com/abch-im/abch/internal/testenv"
)

// The opt-in switches: each names a directory holding a prebuilt libmsn.so of
// pidgin's MSN plugin at that tag (README.md of this package).
const (
	envMSN243  = "ABCH_REALCLIENT_MSN_243"
	envMSN2101 = "ABCH_REALCLIENT_MSN_2101"
	envMSN222  = "ABCH_REALCLIENT_MSN_222"
	envBin     = "ABCH_REALCLIENT_ABCH_BIN" // optional: run this abch binary instead of building ./cmd/abch
	envLogs    = "ABCH_REALCLIENT_LOGS"     // optional: keep every client's and the server's log in this directory

	// Set by the test for its own re-run inside a private network namespace.
	envInner  = "ABCH_REALCLIENT_IN_NAMESPACE"
	envDriver = "ABCH_REALCLIENT_DRIVER"
)

// nsHosts are the names the plugins resolve besides the SOAP hosts of the
// server certificate: the NS itself and the hosts of features abch does not
// serve (they must resolve to loopback too, never to the network).
var nsHosts = []string{
	"messenger.hotmail.com", "gateway.messenger.hotmail.com", "muser.messenger.hotmail.com",
	"messengersecure.live.com", "messengerclear.live.com", "livecontacts.live.com", "spaces.live.com",
}

// Signing in costs an argon2id check, the RST call and the contact-list calls;
// 2.4.3 also waits for its ADL answers: a generous bound, the machine is
// shared. A change must reach the other client well within changeTimeout,
// which stays below the 30 s after which the plugins re-send their status on
// their own (that re-send would hide a missing ILN or NLN).
const (
	signInTimeout = 90 * time.Second
	changeTimeout = 15 * time.Second
	// settle is how long a client is left alone after sign-on: its own
	// sign-on SOAP calls (the display name's ABContactUpdate) are then done.
	// pidgin 2.10.1 mismatches answers when a second SOAP call to the same
	// host starts before the first is answered, which no person typing
	// after sign-on would cause.
	settle = 2 * time.Second
)

// libpurple's connection error reasons (PurpleConnectionError) the test
// expects: a refused password, and OUT OTH ("You have signed on from
// another location").
const (
	authFailed = 2 // PURPLE_CONNECTION_ERROR_AUTHENTICATION_FAILED
	nameInUse  = 6 // PURPLE_CONNECTION_ERROR_NAME_IN_USE
)

type flavour struct {
	name      string // subtest name
	tag       string // pidgin tag the plugin was built from
	plugindir string
	suffix    string // keeps the accounts of the flavours apart
	// syn marks the MSNP9 plugin (2.2.2, SYN-era lists, Passport 1.4): no
	// personal message (MSNP11+), no offline messages (MSNP13+), and
	// connection errors without a reason code (purple_connection_error_reason
	// came with libpurple 2.3.0: the driver sees "other error", 16, with the
	// text).
	syn bool
}

// otherError is PURPLE_CONNECTION_ERROR_OTHER_ERROR, what pidgin 2.2.2's
// purple_connection_error reports.
const otherError = 16

// refused reports whether a connection error is the reason want, or for the
// MSNP9 plugin (no reason codes) an "other error" whose text says so.
func refused(f flavour, e event, want int, text string) bool {
	if f.syn {
		return e.Reason == otherError && strings.Contains(e.Text, text)
	}
	return e.Reason == want
}

// TestRealClients signs pidgin's real MSN plugin in to `abch serve` (SOAP,
// Passport RST over TLS and the built-in Notification Server, nothing else)
// and checks what the client itself reports: its own sign-in (and a refused
// password, and OUT OTH), a contact's presence, status, personal message and
// display name, contacts migrated with `abch import lists`, blocking,
// adding and removing a buddy, a chat both ways through the switchboard, and
// an offline message delivered at the next sign-in.
func TestRealClients(t *testing.T) {
	var flavours []flavour
	if dir := os.Getenv(envMSN243); dir != "" {
		flavours = append(flavours, flavour{"pidgin 2.4.3 MSNP13", "2.4.3", dir, "13", false})
	}
	if dir := os.Getenv(envMSN2101); dir != "" {
		flavours = append(flavours, flavour{"pidgin 2.10.1 MSNP15", "2.10.1", dir, "15", false})
	}
	if dir := os.Getenv(envMSN222); dir != "" {
		flavours = append(flavours, flavour{"pidgin 2.2.2 MSNP9", "2.2.2", dir, "9", true})
	}
	if len(flavours) == 0 {
		t.Skipf("opt-in: set %s, %s and/or %s to directories holding a prebuilt libmsn.so (internal/realclient/README.md)", envMSN243, envMSN2101, envMSN222)
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the clients run in a private mount namespace with their own /etc/hosts and CA store, and abch listens on 443")
	}
	for _, f := range flavours {
		if _, err := os.Stat(filepath.Join(f.plugindir, "libmsn.so")); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
	}
	for _, tool := range []string{"cc", "pkg-config", "unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: the test needs cc, pkg-config, libpurple-dev (Debian) and util-linux", tool)
		}
	}

	if os.Getenv(envInner) == "" {
		runInNamespace(t)
		return
	}
	if err := loopbackUp(); err != nil {
		t.Fatalf("bringing up lo in the test's network namespace: %v", err)
	}
	h := newHarness(t)
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			t.Run("signs in with its own password and reports the account's display name", func(t *testing.T) {
				alice := h.account(t, "signin"+f.suffix, "Alice "+f.suffix)
				c := h.client(t, f, alice)
				ev := c.waitSignedOn()
				if ev.DisplayName != alice.name {
					t.Errorf("signed on with display name %q, want %q", ev.DisplayName, alice.name)
				}
			})

			t.Run("wrong password is refused", func(t *testing.T) {
				bad := h.account(t, "badpw"+f.suffix, "Bad "+f.suffix)
				bad.password = "Wrong-" + bad.password
				c := h.client(t, f, bad)
				ev := c.wait("a connection error", signInTimeout, func(e event) bool {
					return e.Ev == "connection_error" || e.Ev == "signed_on"
				})
				if ev.Ev == "signed_on" {
					t.Fatalf("signed on with a wrong password")
				}
				if !refused(f, ev, authFailed, "password") {
					t.Errorf("wrong password: %s, want reason %d (authentication failed)", ev.raw, authFailed)
				}
			})

			t.Run("signing in elsewhere signs the first client out (OUT OTH)", func(t *testing.T) {
				alice := h.account(t, "oth"+f.suffix, "Alice "+f.suffix)
				first := h.signedOn(t, f, alice)
				second := h.signedOn(t, f, alice)
				ev := first.wait("the first client told it signed in elsewhere", changeTimeout, func(e event) bool {
					return e.Ev == "connection_error" || e.Ev == "signed_off"
				})
				if ev.Ev != "connection_error" || !refused(f, ev, nameInUse, "another location") {
					t.Errorf("first client: %s, want a connection error with reason %d (signed on from another location)", ev.raw, nameInUse)
				}
				second.send("list") // the second session is still alive
				second.wait("the second client's list", changeTimeout, func(e event) bool { return e.Ev == "list_end" })
			})

			t.Run("two online contacts see each other's presence, status and display name", func(t *testing.T) {
				alice, bob := h.friends(t, "pa"+f.suffix, "Alice "+f.suffix, "pb"+f.suffix, "Bob "+f.suffix)
				a := h.signedOn(t, f, alice)
				a.waitBuddy(bob.email, "Bob offline before he signs in", func(b event) bool { return !b.Online })
				b := h.signedOn(t, f, bob)

				t.Run("a contact signing in is seen online with their display name (NLN)", func(t *testing.T) {
					a.in(t).waitBuddy(bob.email, "Bob online and available with his display name", func(e event) bool {
						return e.Online && e.Status == "available" && e.ServerAlias == bob.name
					})
				})
				t.Run("a contact already online is seen at sign-in (ILN)", func(t *testing.T) {
					b.in(t).waitBuddy(alice.email, "Alice online and available with her display name", func(e event) bool {
						return e.Online && e.Status == "available" && e.ServerAlias == alice.name
					})
				})
				t.Run("status changes are seen (CHG AWY, BSY)", func(t *testing.T) {
					b.in(t).send("status away")
					a.in(t).waitBuddy(bob.email, "Bob away", func(e event) bool { return e.Online && e.Status == "away" })
					b.in(t).send("status busy")
					a.in(t).waitBuddy(bob.email, "Bob busy", func(e event) bool { return e.Online && e.Status == "busy" })
				})
				if !f.syn { // MSNP9 has no personal message (UUX came with MSNP11)
					t.Run("a personal message is seen (UUX, UBX)", func(t *testing.T) {
						psm := "out to lunch " + f.suffix
						b.in(t).send("status available " + psm)
						a.in(t).waitBuddy(bob.email, "Bob's personal message", func(e event) bool { return e.Online && e.Message == psm })
					})
				}
				t.Run("a new display name is seen (PRP MFN)", func(t *testing.T) {
					renamed := "Robert " + f.suffix
					b.in(t).send("friendly " + renamed)
					a.in(t).waitBuddy(bob.email, "Bob's new display name", func(e event) bool { return e.ServerAlias == renamed })
				})
				t.Run("appearing offline hides the contact, available shows them again (HDN)", func(t *testing.T) {
					b.in(t).send("status invisible")
					a.in(t).waitBuddy(bob.email, "Bob offline when he appears offline", func(e event) bool { return !e.Online })
					b.in(t).send("status available")
					a.in(t).waitBuddy(bob.email, "Bob back online", func(e event) bool { return e.Online && e.Status == "available" })
				})
				t.Run("signing out is seen (FLN)", func(t *testing.T) {
					b.quit()
					a.in(t).waitBuddy(bob.email, "Bob offline after signing out", func(e event) bool { return !e.Online })
				})
			})

			t.Run("contacts migrated with abch import lists see each other (ILN, NLN)", func(t *testing.T) {
				alice := h.account(t, "ma"+f.suffix, "Alice "+f.suffix)
				bob := h.account(t, "mb"+f.suffix, "Bob "+f.suffix)
				h.migrate(t, alice, bob)
				a := h.signedOn(t, f, alice)
				b := h.signedOn(t, f, bob)
				got := b.waitBuddy(alice.email, "Alice online at Bob's sign-in", func(e event) bool { return e.Online })
				if got.Group != "Friends" {
					t.Errorf("Alice is in group %q on Bob's list, want Friends (the imported group)", got.Group)
				}
				a.waitBuddy(bob.email, "Bob online once he signs in", func(e event) bool { return e.Online })
			})

			t.Run("blocking a contact makes you offline to them, unblocking shows you again", func(t *testing.T) {
				alice, bob := h.friends(t, "ba"+f.suffix, "Alice "+f.suffix, "bb"+f.suffix, "Bob "+f.suffix)

				b := h.signedOn(t, f, bob)
				a := h.signedOn(t, f, alice)
				b.waitBuddy(alice.email, "Alice online", func(e event) bool { return e.Online })

				a.send("block " + bob.email)
				b.waitBuddy(alice.email, "Alice offline once she blocks Bob", func(e event) bool { return !e.Online })
				a.send("allow " + bob.email)
				b.waitBuddy(alice.email, "Alice online once she unblocks Bob", func(e event) bool { return e.Online })
			})

			t.Run("adding a buddy asks them, shows their presence and survives a new sign-in; removing it too", func(t *testing.T) {
				alice := h.account(t, "aa"+f.suffix, "Alice "+f.suffix)
				carol := h.account(t, "ac"+f.suffix, "Carol "+f.suffix)

				c := h.signedOn(t, f, carol)
				a := h.signedOn(t, f, alice)

				a.send("add " + carol.email + " Friends")
				c.wait("Carol is asked about Alice", changeTimeout, func(e event) bool {
					return e.Ev == "auth_request" && strings.EqualFold(e.From, alice.email)
				})
				a.waitBuddy(carol.email, "Carol online on Alice's new list", func(e event) bool {
					return e.Online && e.Status == "available"
				})
				a.quit()

				a2 := h.signedOn(t, f, alice) // a fresh client: nothing cached
				got := a2.waitBuddy(carol.email, "Carol still on the list after a new sign-in", func(e event) bool { return e.Online })
				if got.Group != "Friends" {
					t.Errorf("Carol is in group %q after a new sign-in, want Friends", got.Group)
				}

				a2.send("remove " + carol.email)
				a2.wait("Carol removed", changeTimeout, func(e event) bool {
					return e.Ev == "buddy_removed" && strings.EqualFold(e.Name, carol.email)
				})
				time.Sleep(2 * time.Second) // let the client finish its SOAP call before it signs out
				a2.quit()

				a3 := h.signedOn(t, f, alice)
				time.Sleep(3 * time.Second) // the list is complete at sign-on; give late presence a moment
				if b, ok := a3.list()[strings.ToLower(carol.email)]; ok {
					t.Errorf("Carol is back on Alice's list after removal: %+v", b)
				}
			})

			t.Run("two online contacts chat both ways through the switchboard", func(t *testing.T) {
				alice, bob := h.friends(t, "ca"+f.suffix, "Alice "+f.suffix, "cb"+f.suffix, "Bob "+f.suffix)
				a := h.signedOn(t, f, alice)
				b := h.signedOn(t, f, bob)
				a.waitBuddy(bob.email, "Bob online", func(e event) bool { return e.Online })
				b.waitBuddy(alice.email, "Alice online", func(e event) bool { return e.Online })
				for i, m := range []struct {
					from, to       *client
					sender, target account
				}{{a, b, alice, bob}, {b, a, bob, alice}, {a, b, alice, bob}} {
					text := fmt.Sprintf("chat %d %s", i, f.suffix)
					m.from.send("im " + m.target.email + " " + text)
					m.to.wait("the IM "+text, changeTimeout, func(e event) bool {
						return e.Ev == "im" && strings.EqualFold(e.From, m.sender.email) && strings.Contains(e.Text, text)
					})
				}
			})

			if !f.syn { // MSNP9 has no offline messages (OIM came with MSNP13)
				t.Run("an offline message is delivered at the next sign-in", func(t *testing.T) {
					alice, dave := h.friends(t, "oa"+f.suffix, "Alice "+f.suffix, "od"+f.suffix, "Dave "+f.suffix)

					a := h.signedOn(t, f, alice)
					a.waitBuddy(dave.email, "Dave offline", func(e event) bool { return !e.Online })
					text := "while you were out " + f.suffix
					a.send("im " + dave.email + " " + text)
					a.wait("the message handed to the plugin", changeTimeout, func(e event) bool { return e.Ev == "sent_im" })
					time.Sleep(3 * time.Second) // the OIM Store call runs after sent-im-msg
					a.quit()

					d := h.signedOn(t, f, dave)
					d.rewind() // the message may come before or after the signed-on signal
					ev := d.wait("the offline message", changeTimeout, func(e event) bool {
						return e.Ev == "im" && strings.EqualFold(e.From, alice.email)
					})
					if !strings.Contains(ev.Text, text) {
						t.Errorf("offline message text %q, want it to contain %q", ev.Text, text)
					}
				})
			}
		})
	}
	syn, soap := flavourOf(flavours, "2.2.2"), flavourOf(flavours, "2.4.3")
	if syn != nil && soap != nil {
		t.Run("an MSNP9 and an MSNP13 client share lists and change each other's", func(t *testing.T) {
			acrossEras(t, h, *syn, *soap)
		})
	}
}

// flavourOf returns the flavour of pidgin tag, or nil when it is not run.
func flavourOf(fs []flavour, tag string) *flavour {
	for i := range fs {
		if fs[i].tag == tag {
			return &fs[i]
		}
	}
	return nil
}

// acrossEras runs pidgin 2.2.2 (MSNP9: SYN, ADD/REM, Passport 1.4) and
// pidgin 2.4.3 (MSNP13: ABContactAdd, ADL) against the same accounts: a
// buddy added with the MSNP13 client is on the MSNP9 client's list; an
// MSNP13 user's add reaches the MSNP9 client (ADD 0 RL), which accepts it;
// the MSNP9 client's own add and removal change the MSNP13 user's lists
// (NS API) and survive a new MSNP9 sign-in; an add to the MSNP9 user's own
// list made elsewhere reaches the signed-in MSNP9 client.
func acrossEras(t *testing.T, h *harness, syn, soap flavour) {
	alice := h.account(t, "xa", "Alice X")
	bob := h.account(t, "xb", "Bob X")
	carol := h.account(t, "xc", "Carol X")
	online := func(e event) bool { return e.Online }

	t.Run("a buddy added with the MSNP13 client is on the MSNP9 client's list, in its group", func(t *testing.T) {
		h.signedOn(t, soap, bob) // online, so Alice sees him online once added
		a13 := h.signedOn(t, soap, alice)
		time.Sleep(settle)
		a13.send("add " + bob.email + " Friends")
		a13.waitBuddy(bob.email, "Bob online on Alice's MSNP13 list", online)
		time.Sleep(settle) // the client's last SOAP calls
		a13.quit()
		a9 := h.signedOn(t, syn, alice)
		got := a9.waitBuddy(bob.email, "Bob online on Alice's MSNP9 list", online)
		if got.Group != "Friends" {
			t.Errorf("Bob is in group %q on the MSNP9 list, want Friends", got.Group)
		}
		a9.quit()
	})

	a := h.signedOn(t, syn, alice)
	c := h.signedOn(t, soap, carol)
	time.Sleep(settle)

	t.Run("an MSNP13 user's add asks the MSNP9 client, which accepts and is then seen online", func(t *testing.T) {
		c.in(t).send("add " + alice.email + " Buddies")
		a.in(t).wait("Alice (MSNP9) asked about Carol", changeTimeout, func(e event) bool {
			return e.Ev == "auth_request" && strings.EqualFold(e.From, carol.email)
		})
		c.in(t).waitBuddy(alice.email, "Alice online on Carol's list", online)
		// The driver accepts 1.5 s after the prompt: pidgin 2.2.2 sends ADD AL,
		// which answers the invitation (Pending gone, Allow set).
		waitBits(t, h, alice, carol, "AL and RL without PL", func(b int) bool { return b&(listAL|listRL|listPL) == listAL|listRL })
	})
	t.Run("the MSNP9 client's add is on both sides' lists", func(t *testing.T) {
		a.in(t).send("add " + carol.email + " Pals")
		a.in(t).waitBuddy(carol.email, "Carol online on Alice's list", online)
		waitBits(t, h, alice, carol, "FL", func(b int) bool { return b&listFL != 0 })
		waitBits(t, h, carol, alice, "RL", func(b int) bool { return b&listRL != 0 })
	})
	time.Sleep(settle)
	a.quit()
	a = h.signedOn(t, syn, alice) // a fresh client: nothing cached
	t.Run("a new MSNP9 sign-in lists the added buddy in its group", func(t *testing.T) {
		got := a.in(t).waitBuddy(carol.email, "Carol on Alice's list after a new sign-in", online)
		if got.Group != "Pals" {
			t.Errorf("Carol is in group %q after a new sign-in, want Pals", got.Group)
		}
	})
	t.Run("the MSNP9 client's removal takes it off the MSNP13 user's Reverse list", func(t *testing.T) {
		a.in(t).send("remove " + carol.email)
		a.in(t).wait("Carol removed", changeTimeout, func(e event) bool {
			return e.Ev == "buddy_removed" && strings.EqualFold(e.Name, carol.email)
		})
		waitBits(t, h, alice, carol, "no FL", func(b int) bool { return b&listFL == 0 })
		waitBits(t, h, carol, alice, "no RL", func(b int) bool { return b&listRL == 0 })
	})
	dave := h.account(t, "xd", "Dave X")
	var daveID string
	t.Run("an add to the MSNP9 user's own list made elsewhere reaches the signed-in MSNP9 client (ADD 0 FL)", func(t *testing.T) {
		// Alice's own address book changed by another client of hers (an
		// MSNP13 client or the web: ABContactAdd) while her MSNP9 client
		// stays signed in: the NS pushes it as ADD with transaction id 0.
		daveID = h.addContact(t, alice, dave)
		a.in(t).waitBuddy(dave.email, "Dave on Alice's MSNP9 list without a new sign-in", func(event) bool { return true })
	})
	t.Run("a removal made elsewhere is off the MSNP9 list at the next sign-in", func(t *testing.T) {
		// The NS pushes REM 0 FL to the signed-in client too, but pidgin
		// 2.2.2 only clears its own list bits on a REM it did not ask for
		// (userlist.c msn_got_rem_user: "TODO: When is the user totally
		// removed?"): the buddy stays on its screen until the next sign-in,
		// whose SYN no longer lists it.
		if daveID == "" {
			t.Skip("Dave was not added")
		}
		h.deleteContact(t, alice, daveID)
		time.Sleep(settle)
		a.quit()
		a = h.signedOn(t, syn, alice)
		a.in(t).waitBuddy(bob.email, "Bob on Alice's list after a new sign-in", func(event) bool { return true })
		if e, ok := a.in(t).list()[dave.email]; ok {
			t.Errorf("Dave is still on Alice's MSNP9 list after a new sign-in: %s", e.raw)
		}
	})
}

// waitBits waits until owner's list bits for who satisfy ok (the NS API's
// view), failing after changeTimeout.
func waitBits(t *testing.T, h *harness, owner, who account, what string, ok func(int) bool) {
	t.Helper()
	deadline := time.Now().Add(changeTimeout)
	for {
		b := h.listBits(t, owner, who)
		if ok(b) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %s with list bits %d, want %s", owner.email, who.email, b, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ---- the namespace ----

// runInNamespace builds abch (unless ABCH_REALCLIENT_ABCH_BIN names one) and
// the driver, then runs this test again in a private network and mount
// namespace: abch needs 127.0.0.1:443 and other listeners, and nothing on
// the machine (another test, a real server) may answer there instead, nor
// see them. The inner run's output is this test's output.
func runInNamespace(t *testing.T) {
	dir := t.TempDir()
	bin := os.Getenv(envBin)
	if bin == "" {
		bin = filepath.Join(dir, "abch")
		run(t, "go", "build", "-o", bin, "github.com/abch-im/abch/cmd/abch")
	}
	driver := filepath.Join(dir, "driver")
	cflags := strings.Fields(run(t, "pkg-config", "--cflags", "--libs", "purple"))
	run(t, "cc", append([]string{"-O1", "-g", "-Wall", "-o", driver, "testdata/driver.c"}, cflags...)...)

	args := []string{"--net", "--mount", "--propagation", "private", "--", os.Args[0], "-test.v", "-test.count=1"}
	pattern := "^TestRealClients$"
	if f := flag.Lookup("test.run"); f != nil && strings.HasPrefix(f.Value.String(), "TestRealClients/") {
		pattern = f.Value.String()
	}
	args = append(args, "-test.run", pattern)
	if f := flag.Lookup("test.timeout"); f != nil {
		args = append(args, "-test.timeout", f.Value.String())
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), envInner+"=1", envBin+"="+bin, envDriver+"="+driver)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the real-client run in its own network namespace failed (%v); its output is above", err)
	}
}

// loopbackUp brings up lo, which starts down in a new network namespace
// (SIOCGIFFLAGS / SIOCSIFFLAGS on struct ifreq: the name, then the flags at
// offset 16).
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	var ifr [40]byte
	copy(ifr[:], "lo")
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCGIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return e
	}
	flags := (*uint16)(unsafe.Pointer(&ifr[16]))
	*flags |= syscall.IFF_UP | syscall.IFF_RUNNING
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.SIOCSIFFLAGS, uintptr(unsafe.Pointer(&ifr[0]))); e != 0 {
		return e
	}
	return nil
}

// ---- the server ----

type harness struct {
	bin, driver string
	env         []string // abch's environment
	hosts       string   // the hosts file the clients see
	certs       string   // the CA directory the clients see (only abch's CA)
	nsPort      string
	httpAddr    string // the plain SOAP listener, for setting up contacts
	nsAPI       string // the NS API, to check the set-up as the NS sees it
	nsKey       string
	logs        string
}

type account struct {
	email, password, name string
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	logs := os.Getenv(envLogs)
	if logs == "" {
		logs = filepath.Join(dir, "logs")
	}
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &harness{bin: os.Getenv(envBin), driver: os.Getenv(envDriver), logs: logs}

	// 443 is fixed: the plugins call https://login.live.com/… with no port.
	// The namespace's loopback is ours alone, so it should be free.
	if ln, err := net.Listen("tcp", "127.0.0.1:443"); err != nil {
		t.Fatalf("127.0.0.1:443 is taken (%v): the clients' HTTPS calls must reach abch there", err)
	} else {
		ln.Close()
	}
	httpAddr, nsAPI, nats, ns, sb := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
	h.httpAddr, h.nsAPI, h.nsKey = httpAddr, nsAPI, randomHex(16)
	_, h.nsPort, _ = net.SplitHostPort(ns)
	certs := filepath.Join(dir, "certs")
	h.env = append(os.Environ(),
		"ABCH_DATA_DIR="+filepath.Join(dir, "data"),
		"ABCH_DATABASE_URL=",
		"ABCH_HTTP_ADDR="+httpAddr,
		"ABCH_HTTPS_ADDR=127.0.0.1:443",
		"ABCH_TLS_CERT="+filepath.Join(certs, "server.pem"),
		"ABCH_TLS_KEY="+filepath.Join(certs, "server-key.pem"),
		"ABCH_NS_ADDR="+nsAPI,
		"ABCH_NS_KEY="+h.nsKey,
		"ABCH_NATS_URL=",
		"ABCH_NATS_LISTEN="+nats,
		"ABCH_MSNP_ADDR="+ns,
		"ABCH_SB_ADDR="+sb,
		"ABCH_SB_PUBLIC_ADDR="+sb,
		"ABCH_WEB_ADDR=off",
		"ABCH_LOG_LEVEL=debug",
	)
	h.abch(t, "certs", "--out", certs)

	// What the clients see in their mount namespace: every MSN name on
	// loopback, and abch's CA as the only trusted root (libpurple reads the
	// CA directory /etc/ssl/certs; pidgin checks the chain and the host name).
	h.hosts = filepath.Join(dir, "hosts")
	names := append(append([]string{}, cli.ClientHosts...), nsHosts...)
	hosts := "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 " + strings.Join(names, " ") + "\n"
	if err := os.WriteFile(h.hosts, []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	h.certs = filepath.Join(dir, "ca")
	ca, err := os.ReadFile(filepath.Join(certs, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(h.certs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.certs, "abch-ca.pem"), ca, 0o644); err != nil {
		t.Fatal(err)
	}

	logf, err := os.Create(filepath.Join(logs, "abch-serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(h.bin, "serve")
	serve.Env = h.env
	serve.Stdout, serve.Stderr = logf, logf
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			serve.Process.Kill()
			<-done
		}
		logf.Close()
		if t.Failed() {
			t.Logf("abch serve log (last lines):\n%s", tail(filepath.Join(logs, "abch-serve.log"), 40, nil))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("abch serve not ready: %v\n%s", err, tail(filepath.Join(logs, "abch-serve.log"), 40, nil))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, addr := range []string{"127.0.0.1:443", ns} {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("abch serve does not listen on %s (%v): the real clients need the TLS listener and the built-in NS (ABCH_MSNP_ADDR)", addr, err)
		}
		conn.Close()
	}
	return h
}

// abch runs an abch subcommand against the server's database.
func (h *harness) abch(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("abch %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// account creates an account with `abch user add`.
func (h *harness) account(t *testing.T, local, name string) account {
	t.Helper()
	a := account{email: local + "@example.com", password: "Pw-" + randomHex(4), name: name}
	h.abch(t, "user", "add", a.email, "--password", a.password, "--name", a.name)
	return a
}

// befriend makes a and b contacts of each other the way clients do: each
// signs in through RST and adds the other with ABContactAdd (allow-list
// management on), so both have the other on Forward, Allow and Reverse.
func (h *harness) befriend(t *testing.T, a, b account) {
	t.Helper()
	h.addContact(t, a, b)
	h.addContact(t, b, a)
	// b's invitation from a is answered (b allows a), as a client would
	// answer it at its next sign-in.
	h.answerInvitation(t, b, a)
	for _, p := range [][2]account{{a, b}, {b, a}} {
		if got := h.listBits(t, p[0], p[1]); got != listFL|listAL|listRL {
			t.Fatalf("after both added each other, %s has %s with list bits %d, want FL|AL|RL (11)", p[0].email, p[1].email, got)
		}
	}
}

// List bits of the NS API (nsclient.ListEntry.Lists).
const (
	listFL = 1
	listAL = 2
	listRL = 8
	listPL = 16
)

// listBits reads owner's entry for who through the NS API, as the NS sees it.
func (h *harness) listBits(t *testing.T, owner, who account) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+h.nsAPI+"/ns/v1/users/"+owner.email+"/lists", nil)
	req.Header.Set("Authorization", "Bearer "+h.nsKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lists struct {
		Contacts []struct {
			Email string `json:"email"`
			Lists int    `json:"lists"`
		} `json:"contacts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&lists); err != nil {
		t.Fatalf("NS API lists of %s: %s: %v", owner.email, resp.Status, err)
	}
	for _, c := range lists.Contacts {
		if strings.EqualFold(c.Email, who.email) {
			return c.Lists
		}
	}
	return 0
}

var compactToken = regexp.MustCompile(`<wsse:BinarySecurityToken Id="Compact1">([^<]+)</wsse:BinarySecurityToken>`)

// contactsTicket signs owner in through RST and returns the
// contacts.msn.com ticket, XML-escaped as it is sent back.
func (h *harness) contactsTicket(t *testing.T, owner account) string {
	t.Helper()
	rst := `<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Header><wsse:Security xmlns:wsse="http://schemas.xmlsoap.org/ws/2003/06/secext"><wsse:UsernameToken Id="user"><wsse:Username>` + owner.email + `</wsse:Username><wsse:Password>` + owner.password + `</wsse:Password></wsse:UsernameToken></wsse:Security></Header><Body><ps:RequestMultipleSecurityTokens xmlns:ps="http://schemas.microsoft.com/Passport/SoapServices/PPCRL" Id="RSTS">` +
		rstItem(0, "http://Passport.NET/tb") + rstItem(1, "contacts.msn.com") + `</ps:RequestMultipleSecurityTokens></Body></Envelope>`
	m := compactToken.FindStringSubmatch(h.post(t, "/RST.srf", "", rst))
	if m == nil {
		t.Fatalf("RST for %s: no contacts ticket", owner.email)
	}
	return m[1]
}

// soapHeader is the ABApplicationHeader and ABAuthHeader of pidgin 2.5+.
func soapHeader(scenario, ticket string) string {
	return `<soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>CFE80F9D-180F-4399-82AB-413F33A1FA11</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>` + scenario + `</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` + ticket + `</TicketToken></ABAuthHeader></soap:Header>`
}

// addContact adds who to owner's address book as a Messenger contact and
// returns the new contact's id.
func (h *harness) addContact(t *testing.T, owner, who account) string {
	t.Helper()
	ab := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` + soapHeader("ContactSave", h.contactsTicket(t, owner)) + `<soap:Body><ABContactAdd xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><passportName>` + who.email + `</passportName><isSmtp>false</isSmtp><isMessengerUser>true</isMessengerUser></contactInfo></Contact></contacts><options><EnableAllowListManagement>true</EnableAllowListManagement></options></ABContactAdd></soap:Body></soap:Envelope>`
	out := h.post(t, "/abservice/abservice.asmx", "http://www.msn.com/webservices/AddressBook/ABContactAdd", ab)
	m := guidElem.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ABContactAdd %s → %s: %s", owner.email, who.email, out)
	}
	return m[1]
}

var guidElem = regexp.MustCompile(`<guid>([^<]+)</guid>`)

// deleteContact deletes the contact id from owner's address book
// (ABContactDelete).
func (h *harness) deleteContact(t *testing.T, owner account, id string) {
	t.Helper()
	ab := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` + soapHeader("Timer", h.contactsTicket(t, owner)) + `<soap:Body><ABContactDelete xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactId>` + id + `</contactId></Contact></contacts></ABContactDelete></soap:Body></soap:Envelope>`
	if out := h.post(t, "/abservice/abservice.asmx", "http://www.msn.com/webservices/AddressBook/ABContactDelete", ab); !strings.Contains(out, "ABContactDeleteResponse") {
		t.Fatalf("ABContactDelete %s %s: %s", owner.email, id, out)
	}
}

// answerInvitation resolves owner's Pending entry for who (DeleteMember
// Pending, as clients send after allowing an inviter; a no-op when there is
// none).
func (h *harness) answerInvitation(t *testing.T, owner, who account) {
	t.Helper()
	body := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` + soapHeader("ContactMsgrAPI", h.contactsTicket(t, owner)) + `<soap:Body><DeleteMember xmlns="http://www.msn.com/webservices/AddressBook"><serviceHandle><Id>0</Id><Type>Messenger</Type><ForeignId/></serviceHandle><memberships><Membership><MemberRole>Pending</MemberRole><Members><Member xsi:type="PassportMember"><Type>Passport</Type><State>Accepted</State><PassportName>` + who.email + `</PassportName></Member></Members></Membership></memberships></DeleteMember></soap:Body></soap:Envelope>`
	h.post(t, "/abservice/SharingService.asmx", "http://www.msn.com/webservices/AddressBook/DeleteMember", body)
}

func rstItem(n int, address string) string {
	return fmt.Sprintf(`<wst:RequestSecurityToken xmlns:wst="http://schemas.xmlsoap.org/ws/2004/04/trust" Id="RST%d"><wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2002/12/policy"><wsa:EndpointReference xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/03/addressing"><wsa:Address>%s</wsa:Address></wsa:EndpointReference></wsp:AppliesTo></wst:RequestSecurityToken>`, n, address)
}

// post sends a SOAP request to the plain listener and returns the answer
// (a fault fails the test).
func (h *harness) post(t *testing.T, path, action, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.httpAddr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", action)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s %s: %s\n%s", path, action, resp.Status, out)
	}
	return string(out)
}

// migrate puts each of a and b on the other's Forward, Allow and Reverse
// lists (in a group "Friends") with `abch import lists --merge=union`, as an
// operator moving users from another server does.
func (h *harness) migrate(t *testing.T, a, b account) {
	t.Helper()
	entry := func(me, other account) map[string]any {
		return map[string]any{
			"v": 1, "email": me.email,
			"groups": []map[string]any{{"name": "Friends"}},
			"contacts": []map[string]any{{
				"email": other.email, "list_names": []string{"FL", "AL", "RL"},
				"display_name": other.name, "groups": []string{"Friends"},
			}},
		}
	}
	var in bytes.Buffer
	for _, e := range []map[string]any{entry(a, b), entry(b, a)} {
		line, _ := json.Marshal(e)
		in.Write(append(line, '\n'))
	}
	cmd := exec.Command(h.bin, "import", "lists", "--merge=union", "-")
	cmd.Env = h.env
	cmd.Stdin = &in
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("abch import lists: %v\n%s", err, out)
	}
}

// ---- the clients ----

// event is one line of the driver's stdout (testdata/driver.c lists them).
type event struct {
	Ev          string `json:"ev"`
	Why         string `json:"why"`
	Name        string `json:"name"`
	Alias       string `json:"alias"`
	ServerAlias string `json:"server_alias"`
	Group       string `json:"group"`
	Status      string `json:"status"`
	Online      bool   `json:"online"`
	Message     string `json:"message"`
	From        string `json:"from"`
	To          string `json:"to"`
	Text        string `json:"text"`
	Reason      int    `json:"reason"`
	DisplayName string `json:"display_name"`
	Path        string `json:"path"`
	Version     string `json:"version"`
	Title       string `json:"title"`
	Primary     string `json:"primary"`
	Secondary   string `json:"secondary"`
	raw         string
}

// client is one running driver as seen from one (sub)test: t is the test
// its waits fail; the process and its events are shared by every view.
type client struct {
	t *testing.T
	*process
}

type process struct {
	label   string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	logPath string

	mu     sync.Mutex
	events []event
	cursor int // wait looks at events from here on
	exited error
	done   chan struct{}
	notify chan struct{}
}

// in returns a view of c whose waits fail t, for subtests sharing a client.
func (c *client) in(t *testing.T) *client {
	return &client{t: t, process: c.process}
}

var clientSeq struct {
	sync.Mutex
	n int
}

// client starts the driver for acct with the flavour's plugin, in a private
// mount namespace whose /etc/hosts and /etc/ssl/certs are the harness's.
// signedOn starts a client of flavour f as acct and waits until it has
// signed on.
func (h *harness) signedOn(t *testing.T, f flavour, acct account) *client {
	t.Helper()
	c := h.client(t, f, acct)
	c.waitSignedOn()
	return c
}

// friends creates two accounts (local part, display name each) that are
// each other's contacts.
func (h *harness) friends(t *testing.T, localA, nameA, localB, nameB string) (account, account) {
	t.Helper()
	a, b := h.account(t, localA, nameA), h.account(t, localB, nameB)
	h.befriend(t, a, b)
	return a, b
}

func (h *harness) client(t *testing.T, f flavour, acct account) *client {
	t.Helper()
	clientSeq.Lock()
	clientSeq.n++
	n := clientSeq.n
	clientSeq.Unlock()
	label := fmt.Sprintf("%02d-%s-%s", n, f.tag, strings.SplitN(acct.email, "@", 2)[0])
	userdir := filepath.Join(t.TempDir(), "purple")
	logPath := filepath.Join(h.logs, label+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	const script = `set -e
mount --bind "$RC_HOSTS" /etc/hosts
mount --bind "$RC_CERTS" /etc/ssl/certs
exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--",
		"sh", "-c", script, "sh",
		h.driver, f.plugindir, userdir, acct.email, acct.password, "127.0.0.1", h.nsPort)
	cmd.Env = append(os.Environ(), "RC_HOSTS="+h.hosts, "RC_CERTS="+h.certs, "HOME="+userdir,
		"DBUS_SESSION_BUS_ADDRESS=disabled:", "GST_REGISTRY_UPDATE=no")
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, process: &process{label: label, cmd: cmd, stdin: stdin, logPath: logPath,
		done: make(chan struct{}), notify: make(chan struct{}, 1)}}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				e = event{Ev: "unparsed", Text: sc.Text()}
			}
			e.raw = sc.Text()
			c.mu.Lock()
			c.events = append(c.events, e)
			c.mu.Unlock()
			c.poke()
		}
		err := cmd.Wait()
		logf.Close()
		c.mu.Lock()
		c.exited = err
		if err == nil {
			c.exited = fmt.Errorf("exited")
		}
		c.mu.Unlock()
		close(c.done)
		c.poke()
	}()
	t.Cleanup(func() {
		c.quit()
		if t.Failed() {
			c.mu.Lock()
			var evs []string
			for _, e := range c.events {
				if e.Why != "list" && e.Ev != "list_end" { // the polls of waitBuddy
					evs = append(evs, e.raw)
				}
			}
			c.mu.Unlock()
			t.Logf("%s: events:\n%s\n%s: plugin log (last lines, full log %s):\n%s", label,
				strings.Join(evs, "\n"), label, logPath, tail(logPath, 60, isNoise))
		}
	})
	ev := c.wait("the plugin to load", 60*time.Second, func(e event) bool { return e.Ev == "plugin" })
	if ev.Version != f.tag {
		t.Fatalf("%s: loaded plugin %s version %s, want %s", label, ev.Path, ev.Version, f.tag)
	}
	return c
}

func (c *process) poke() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("%s: writing %q: %v", c.label, line, err)
	}
}

// quit signs the client out and waits for the driver to exit.
func (c *process) quit() {
	select {
	case <-c.done:
		return
	default:
	}
	io.WriteString(c.stdin, "quit\n")
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

// wait returns the first event from the cursor on that match is, moving the
// cursor past it. A connection error or the client's death fails the test at
// once, with the plugin's log.
func (c *client) wait(what string, timeout time.Duration, match func(event) bool) event {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for i := c.cursor; i < len(c.events); i++ {
			e := c.events[i]
			if match(e) {
				c.cursor = i + 1
				c.mu.Unlock()
				return e
			}
			if e.Ev == "connection_error" || e.Ev == "fatal" {
				c.mu.Unlock()
				c.t.Fatalf("%s: waiting for %s: %s: %s", c.label, what, e.Ev, e.Text)
			}
		}
		c.cursor = len(c.events)
		exited := c.exited
		c.mu.Unlock()
		if exited != nil {
			c.t.Fatalf("%s: waiting for %s: the client %v", c.label, what, exited)
		}
		select {
		case <-c.notify:
		case <-deadline:
			c.t.Fatalf("%s: no %s within %v", c.label, what, timeout)
		}
	}
}

// rewind makes the next wait look at every event since the start.
func (c *client) rewind() {
	c.mu.Lock()
	c.cursor = 0
	c.mu.Unlock()
}

// waitSignedOn waits for the sign-on, then lets the client settle.
func (c *client) waitSignedOn() event {
	c.t.Helper()
	ev := c.wait("sign-in", signInTimeout, func(e event) bool { return e.Ev == "signed_on" })
	time.Sleep(settle)
	return ev
}

// list asks the driver for the buddy list as the client holds it now.
func (c *client) list() map[string]event {
	c.t.Helper()
	c.send("list")
	got := map[string]event{}
	for {
		e := c.wait("the buddy list", changeTimeout, func(e event) bool {
			return e.Ev == "list_end" || (e.Ev == "buddy" && e.Why == "list")
		})
		if e.Ev == "list_end" {
			return got
		}
		got[strings.ToLower(e.Name)] = e
	}
}

// waitBuddy polls the client's buddy list until who is on it in the state
// ok wants, and returns that state.
func (c *client) waitBuddy(who, what string, ok func(event) bool) event {
	c.t.Helper()
	deadline := time.Now().Add(changeTimeout)
	var last event
	var seen bool
	for {
		last, seen = c.list()[strings.ToLower(who)]
		if seen && ok(last) {
			return last
		}
		if time.Now().After(deadline) {
			if !seen {
				c.t.Fatalf("%s: %s: %s is not on the buddy list", c.label, what, who)
			}
			c.t.Fatalf("%s: %s: %s is %s", c.label, what, who, last.raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ---- helpers ----

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// isNoise drops libpurple's start-up chatter from a plugin log excerpt.
func isNoise(line string) bool {
	for _, s := range []string{" prefs: ", " nss: Cipher", " plugins: probing", " certificate", " mediamanager", " util: ", " jabber: ", " gg: ", " dbus: "} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// tail returns the last n lines of a file that skip does not drop.
func tail(path string, n int, skip func(string) bool) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if skip == nil || !skip(l) {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
