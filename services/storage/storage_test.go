package storage_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/abch-im/abch/internal/auth"
	"github.com/abch-im/abch/internal/config"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/internal/testenv"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/nsclient"
)

const (
	aliceProfile    = "00000000000003E8!106"
	aliceExpression = "00000000000003E8!118"
)

// TestCaptureGetProfile replays MSNPSharp's GetProfile of the capture
// (006_GetProfile): every account has a profile, answered with its
// display name, the ResourceIDs clients keep and the AffinityCacheHeader.
func TestCaptureGetProfile(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		resp := e.call("GetProfile", getProfileReq(t, e.alice, e.ticket(e.alice)))
		golden(t, "GetProfile_new.xml", resp)
		for _, want := range []string{"<ResourceID>" + aliceProfile + "</ResourceID>", "<ResourceID>" + aliceExpression + "</ResourceID>",
			"<DisplayName>Alice</DisplayName>", "<AffinityCacheHeader xmlns=\"http://www.msn.com/webservices/storage/w10\"><CacheKey>"} {
			if !strings.Contains(resp, want) {
				t.Errorf("GetProfile lacks %s: %s", want, resp)
			}
		}
		if strings.Contains(resp, "<Photo>") {
			t.Errorf("a profile without a picture shows a Photo: %s", resp)
		}
	})
}

// TestNamespace2008 sends GetProfile in the storage/2008 namespace of later
// MSNPSharp releases: the answer comes back in that namespace.
func TestNamespace2008(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		req := strings.ReplaceAll(getProfileReq(t, e.alice, e.ticket(e.alice)), "storage/w10", "storage/2008")
		resp := e.call("GetProfile", req)
		if !strings.Contains(resp, `<GetProfileResponse xmlns="http://www.msn.com/webservices/storage/2008"><GetProfileResult>`) || strings.Contains(resp, "w10") {
			t.Errorf("answer: %s", resp)
		}
	})
}

// TestRoutes checks the service answers at its path in any case and with
// repeated slashes, and serves its WSDL.
func TestRoutes(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		for _, path := range []string{"/storageservice/SchematizedStore.asmx", "/StorageService/schematizedstore.ASMX", "//storageservice//SchematizedStore.asmx"} {
			code, resp := e.post(path, "GetProfile", getProfileReq(t, e.alice, e.ticket(e.alice)))
			if code != http.StatusOK || !strings.Contains(resp, "<GetProfileResult>") {
				t.Errorf("%s: HTTP %d %s", path, code, resp)
			}
		}
		resp, b := e.get(e.base + "/storageservice/SchematizedStore.asmx?WSDL")
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`soapAction="http://www.msn.com/webservices/storage/w10/UpdateProfile"`)) {
			t.Errorf("wsdl: HTTP %d %.200s", resp.StatusCode, b)
		}
	})
}

// TestProfile covers CreateProfile, ShareItem and UpdateProfile in both of
// its forms: the display name becomes the account's (with the
// profile.changed event the NS relays), the personal status is kept.
func TestProfile(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		tk := e.ticket(e.alice)
		t.Run("CreateProfile answers the profile id and can be repeated", func(t *testing.T) {
			resp := e.call("CreateProfile", createProfileReq(tk))
			golden(t, "CreateProfile.xml", resp)
			if got := match(t, reResult, resp); got != aliceProfile {
				t.Errorf("CreateProfileResult %s", got)
			}
			e.call("CreateProfile", createProfileReq(tk))
		})
		t.Run("ShareItem of the profile succeeds", func(t *testing.T) {
			e.call("ShareItem", shareItemReq(tk, aliceProfile))
		})
		t.Run("UpdateProfile by the expression profile id (MSNPSharp) sets name and status", func(t *testing.T) {
			golden(t, "UpdateProfile.xml", e.call("UpdateProfile", updateProfileMSNP(tk, aliceExpression, "Alice &amp; co", "at work")))
			a, err := e.s.Deps.Store.AccountByID(context.Background(), e.alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			if a.DisplayName != "Alice & co" {
				t.Errorf("account display name %q", a.DisplayName)
			}
			if n := e.count(&models.OutboxEvent{}, "recipient_id = ? AND payload LIKE ?", e.alice.ID, "%profile.changed%"); n != 1 {
				t.Errorf("%d profile.changed events, want 1", n)
			}
			resp := e.call("GetProfile", getProfileReq(t, e.alice, tk))
			golden(t, "GetProfile_updated.xml", resp)
			if !strings.Contains(resp, "<DisplayName>Alice &amp; co</DisplayName>") || !strings.Contains(resp, "<PersonalStatus>at work</PersonalStatus>") {
				t.Errorf("GetProfile after update: %s", resp)
			}
		})
		t.Run("UpdateProfile by the profile id (papyon) works too", func(t *testing.T) {
			e.call("UpdateProfile", updateProfilePapyon(tk, aliceProfile, "Alice P", "home"))
			resp := e.call("GetProfile", getProfileReq(t, e.alice, tk))
			if !strings.Contains(resp, "<DisplayName>Alice P</DisplayName>") || !strings.Contains(resp, "<PersonalStatus>home</PersonalStatus>") {
				t.Errorf("GetProfile after papyon update: %s", resp)
			}
		})
		t.Run("the NS API's profile carries the name and personal message", func(t *testing.T) {
			p, err := nsclient.New("http://"+e.s.NSAddr, cfg.NSKey).Profile(context.Background(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if p.DisplayName != "Alice P" || p.PersonalMessage != "home" {
				t.Errorf("NS profile %q %q", p.DisplayName, p.PersonalMessage)
			}
		})
		t.Run("papyon's contacts.msn.com ticket is accepted", func(t *testing.T) {
			resp := e.call("GetProfile", getProfileReq(t, e.alice, e.ticketFor(e.alice, auth.AudContacts)))
			if !strings.Contains(resp, "<DisplayName>Alice P</DisplayName>") {
				t.Errorf("GetProfile: %s", resp)
			}
		})
		t.Run("a contact's profile is readable once it allows the reader (KMess)", func(t *testing.T) {
			btk := e.ticket(e.bob)
			e.fault("GetProfile", getProfileReq(t, e.alice, btk), "ItemDoesNotExist")
			err := e.s.Deps.Store.Write(context.Background(), func(tx *store.Txn) error {
				if err := tx.Bump(e.alice.ID); err != nil {
					return err
				}
				_, _, err := tx.PutMember(e.alice.ID, models.RoleAllow, store.PassportRef(e.bob), "", "", nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			resp := e.call("GetProfile", getProfileReq(t, e.alice, btk))
			if !strings.Contains(resp, "<DisplayName>Alice P</DisplayName>") || !strings.Contains(resp, "<PersonalStatus>home</PersonalStatus>") {
				t.Errorf("Bob reading Alice's profile: %s", resp)
			}
			// Bob may read, not write.
			e.fault("UpdateProfile", updateProfileMSNP(btk, aliceExpression, "Mallory", "x"), "ItemDoesNotExist")
		})
		t.Run("a name set through ABContactUpdate of Me is the profile's name", func(t *testing.T) {
			ab := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header><ABApplicationHeader xmlns="http://www.msn.com/webservices/AddressBook"><ApplicationId>996CDE1E-AA53-4477-B943-2BE802EA6166</ApplicationId><IsMigration>false</IsMigration><PartnerScenario>Timer</PartnerScenario></ABApplicationHeader><ABAuthHeader xmlns="http://www.msn.com/webservices/AddressBook"><ManagedGroupRequest>false</ManagedGroupRequest><TicketToken>` + e.ticketFor(e.alice, auth.AudContacts) + `</TicketToken></ABAuthHeader></soap:Header><soap:Body><ABContactUpdate xmlns="http://www.msn.com/webservices/AddressBook"><abId>00000000-0000-0000-0000-000000000000</abId><contacts><Contact><contactInfo><contactType>Me</contactType><displayName>Via AB</displayName></contactInfo><propertiesChanged>DisplayName</propertiesChanged></Contact></contacts></ABContactUpdate></soap:Body></soap:Envelope>`
			if code, resp := e.post("/abservice/abservice.asmx", "ABContactUpdate", ab); code != http.StatusOK {
				t.Fatalf("ABContactUpdate: HTTP %d %s", code, resp)
			}
			resp := e.call("GetProfile", getProfileReq(t, e.alice, tk))
			if !strings.Contains(resp, "<DisplayName>Via AB</DisplayName>") {
				t.Errorf("GetProfile after ABContactUpdate: %s", resp)
			}
		})
		t.Run("a name set through PRP MFN is the profile's name", func(t *testing.T) {
			if _, err := e.s.Deps.Store.SetDisplayName(context.Background(), e.alice.ID, "From NS"); err != nil {
				t.Fatal(err)
			}
			resp := e.call("GetProfile", getProfileReq(t, e.alice, tk))
			if !strings.Contains(resp, "<DisplayName>From NS</DisplayName>") {
				t.Errorf("GetProfile after MFN: %s", resp)
			}
		})
	})
}

// TestPhotoRoundTrip uploads a display picture as MSNPSharp does
// (CreateDocument with MimeType png, CreateRelationships), fetches it at
// the profile's URLs, replaces it (UpdateDocument) and unlinks it
// (DeleteRelationships).
func TestPhotoRoundTrip(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		tk := e.ticket(e.alice)
		pic := pngImage(t, 96, 96, 7)
		resp := e.call("CreateDocument", createDocumentReq(tk, e.alice.CID, "png", b64(pic)))
		golden(t, "CreateDocument.xml", resp)
		doc := match(t, reResult, resp)
		if doc != "00000000000003E8!201" {
			t.Errorf("document id %s", doc)
		}
		if strings.Contains(e.call("GetProfile", getProfileReq(t, e.alice, tk)), "<Photo>") {
			t.Error("photo shown before CreateRelationships")
		}
		golden(t, "FindDocuments.xml", e.call("FindDocuments", findDocumentsReq(tk, e.alice.CID)))
		e.call("CreateRelationships", createRelationshipsReq(tk, aliceExpression, doc))
		prof := e.call("GetProfile", getProfileReq(t, e.alice, tk))
		golden(t, "GetProfile_photo.xml", prof)
		pre, pub := match(t, rePreAuth, prof), match(t, rePublic, prof)
		if !strings.HasPrefix(pre, "http://"+storageHost+"/") {
			t.Errorf("PreAuthURL %s", pre)
		}

		// The URLs are on the name the client used; fetch them from the
		// test server.
		local := func(u string) string { return strings.Replace(u, "http://"+storageHost, e.base, 1) }
		t.Run("PreAuthURL with the ticket serves the same bytes with caching headers", func(t *testing.T) {
			r, b := e.get(local(pre) + "?t=" + strings.TrimPrefix(strings.ReplaceAll(tk, "&amp;", "%26"), "t="))
			if r.StatusCode != http.StatusOK || !bytes.Equal(b, pic) {
				t.Fatalf("HTTP %d, %d bytes (want %d)", r.StatusCode, len(b), len(pic))
			}
			if r.Header.Get("Content-Type") != "image/png" || !strings.Contains(r.Header.Get("Cache-Control"), "max-age") || r.Header.Get("ETag") == "" {
				t.Errorf("headers %v", r.Header)
			}
			r2, b2 := e.get(local(pre), "If-None-Match", r.Header.Get("ETag"))
			if r2.StatusCode != http.StatusNotModified || len(b2) != 0 {
				t.Errorf("revalidation: HTTP %d with %d bytes", r2.StatusCode, len(b2))
			}
		})
		t.Run("StaticUserTilePublicURL serves the same bytes", func(t *testing.T) {
			r, b := e.get(local(pub))
			if r.StatusCode != http.StatusOK || !bytes.Equal(b, pic) {
				t.Fatalf("HTTP %d, %d bytes", r.StatusCode, len(b))
			}
		})
		t.Run("a URL with another account's CID is not found", func(t *testing.T) {
			r, _ := e.get(local(strings.Replace(pre, "00000000000003E8", "00000000000003E9", 1)))
			if r.StatusCode != http.StatusNotFound {
				t.Errorf("HTTP %d", r.StatusCode)
			}
		})
		t.Run("UpdateDocument replaces the bytes under a new URL", func(t *testing.T) {
			pic2 := pngImage(t, 64, 64, 99)
			e.s.Deps.Store.Now = func() time.Time { return fixedNow.Add(3 * 60e9) }
			e.call("UpdateDocument", updateDocumentReq(tk, doc, b64(pic2)))
			prof := e.call("GetProfile", getProfileReq(t, e.alice, tk))
			pre2 := match(t, rePreAuth, prof)
			if pre2 == pre {
				t.Errorf("URL unchanged after UpdateDocument: %s", pre2)
			}
			if _, b := e.get(local(pre2)); !bytes.Equal(b, pic2) {
				t.Errorf("new picture: %d bytes, want %d", len(b), len(pic2))
			}
		})
		t.Run("old pictures beyond the newest eight are deleted, never the one shown", func(t *testing.T) {
			for i := 0; i < store.MaxPhotos+2; i++ {
				e.call("CreateDocument", createDocumentReq(tk, e.alice.CID, "png", b64(pngImage(t, 8, 8, byte(i)))))
			}
			if n := e.count(&store.StoragePhoto{}, "account_id = ?", e.alice.ID); n != store.MaxPhotos+1 {
				t.Errorf("%d pictures kept, want %d", n, store.MaxPhotos+1)
			}
			if r, _ := e.get(local(match(t, rePreAuth, e.call("GetProfile", getProfileReq(t, e.alice, tk))))); r.StatusCode != http.StatusOK {
				t.Errorf("the shown picture: HTTP %d", r.StatusCode)
			}
		})
		t.Run("DeleteRelationships unlinks the picture (both MSNPSharp forms)", func(t *testing.T) {
			e.call("DeleteRelationships", deleteRelationshipsByAlias(tk, e.alice.CID, doc))
			e.call("DeleteRelationships", deleteRelationshipsByID(tk, aliceExpression, doc))
			if prof := e.call("GetProfile", getProfileReq(t, e.alice, tk)); strings.Contains(prof, "<Photo>") {
				t.Errorf("photo still shown: %s", prof)
			}
		})
	})
}

// TestBadInput sends what a broken or hostile client might: each gets the
// storage fault and changes nothing.
func TestBadInput(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		tk, btk := e.ticket(e.alice), e.ticket(e.bob)
		pic := pngImage(t, 32, 32, 1)
		bobDoc := match(t, reResult, e.call("CreateDocument", createDocumentReq(btk, e.bob.CID, "png", b64(pic))))
		aliceDoc := match(t, reResult, e.call("CreateDocument", createDocumentReq(tk, e.alice.CID, "png", b64(pic))))
		e.call("CreateRelationships", createRelationshipsReq(tk, aliceExpression, aliceDoc))
		before := e.call("GetProfile", getProfileReq(t, e.alice, tk))
		bobBefore := e.call("GetProfile", getProfileReq(t, e.bob, btk))
		events := e.count(&models.OutboxEvent{}, "1 = 1")
		unchanged := func(t *testing.T) {
			t.Helper()
			if got := e.call("GetProfile", getProfileReq(t, e.alice, tk)); got != before {
				t.Errorf("Alice's profile changed:\n%s\n%s", before, got)
			}
			if got := e.call("GetProfile", getProfileReq(t, e.bob, btk)); got != bobBefore {
				t.Errorf("Bob's profile changed")
			}
			if n := e.count(&store.StoragePhoto{}, "1 = 1"); n != 2 {
				t.Errorf("%d photos stored, want 2", n)
			}
			if n := e.count(&models.OutboxEvent{}, "1 = 1"); n != events {
				t.Errorf("%d events written, want %d", n, events)
			}
		}
		big := make([]byte, 200<<10+1)
		copy(big, pic)
		cases := []struct {
			name, op, body, code string
		}{
			{"malformed XML", "GetProfile", envOpen + "<soap:Body><GetProfile>", "InvalidArgument"},
			{"no ticket", "GetProfile", getProfileReq(t, e.alice, ""), "PassportAuthFail"},
			{"forged ticket", "GetProfile", getProfileReq(t, e.alice, "t=AAAA&amp;p=BBBB"), "PassportAuthFail"},
			{"a messengerclear ticket", "GetProfile", getProfileReq(t, e.alice, e.ticketFor(e.alice, auth.AudMessengerClear)), "PassportAuthFail"},
			{"another account's profile alias", "GetProfile", getProfileReq(t, e.bob, tk), "ItemDoesNotExist"},
			{"another account's profile id", "UpdateProfile", updateProfileMSNP(tk, strings.Replace(bobDoc, "!201", "!118", 1), "Mallory", "x"), "ItemDoesNotExist"},
			{"an unknown resource id", "UpdateProfile", updateProfileMSNP(tk, "00000000000003E8!999999", "Mallory", "x"), "ItemDoesNotExist"},
			{"another account's document", "UpdateDocument", updateDocumentReq(tk, bobDoc, b64(pngImage(t, 8, 8, 3))), "ItemDoesNotExist"},
			{"linking another account's document", "CreateRelationships", createRelationshipsReq(tk, aliceExpression, bobDoc), "ItemDoesNotExist"},
			{"an over-long personal status", "UpdateProfile", updateProfileMSNP(tk, aliceExpression, "Alice", strings.Repeat("x", 300)), "BadArgumentLength"},
			{"an over-long display name", "UpdateProfile", updateProfileMSNP(tk, aliceExpression, strings.Repeat("n", 400), "ok"), "BadArgumentLength"},
			{"a non-number Flags", "UpdateProfile", strings.Replace(updateProfileMSNP(tk, aliceExpression, "Al", "s"), "<Flags>0</Flags>", "<Flags>x</Flags>", 1), "InvalidArgument"},
			{"an oversized picture", "CreateDocument", createDocumentReq(tk, e.alice.CID, "png", b64(big)), "BadArgumentLength"},
			{"non-image bytes", "CreateDocument", createDocumentReq(tk, e.alice.CID, "png", b64([]byte("hello, this is not a picture at all"))), "InvalidArgument"},
			{"a non-image MimeType", "CreateDocument", createDocumentReq(tk, e.alice.CID, "text/html", b64(pic)), "InvalidArgument"},
			{"Data that is not base64", "CreateDocument", createDocumentReq(tk, e.alice.CID, "png", "!!!not base64!!!"), "InvalidArgument"},
			{"non-image bytes in an update", "UpdateDocument", updateDocumentReq(tk, aliceDoc, b64([]byte("GIF? no"))), "InvalidArgument"},
			{"an unknown operation", "DeleteDocument", envOpen + msnpHeader(tk, "x") + body("DeleteDocument", ""), "NotImplemented"},
		}
		for _, c := range cases {
			t.Run(c.name+" faults and changes nothing", func(t *testing.T) {
				resp := e.fault(c.op, c.body, c.code)
				if c.name == "no ticket" {
					golden(t, "fault_auth.xml", resp)
				}
				if c.name == "another account's document" {
					golden(t, "fault_not_exist.xml", resp)
					if !strings.Contains(resp, "does not exist") {
						t.Errorf("faultstring lacks \"does not exist\": %s", resp)
					}
				}
				unchanged(t)
			})
		}
		t.Run("an oversized body is refused before parsing", func(t *testing.T) {
			huge := createDocumentReq(tk, e.alice.CID, "png", strings.Repeat("A", int(cfg.MaxBodyBytes)+10))
			status, resp := e.post("/storageservice/SchematizedStore.asmx", "CreateDocument", huge)
			if status != http.StatusInternalServerError || !strings.Contains(resp, "BadArgumentLength") {
				t.Errorf("HTTP %d %.300s", status, resp)
			}
			unchanged(t)
		})
		t.Run("a tile URL that names nothing is not found", func(t *testing.T) {
			for _, p := range []string{"/storage/usertile/00000000000003E8/999/x", "/storage/usertile/zz", "/storage/usertile/00000000000003E8/abc/1"} {
				r, err := http.Get(e.base + p)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, r.Body)
				r.Body.Close()
				if r.StatusCode != http.StatusNotFound {
					t.Errorf("%s: HTTP %d", p, r.StatusCode)
				}
			}
		})
	})
}

// TestConcurrentCreateProfile sends a client's first CreateProfile several
// times at once: every call answers the profile id, one row is written.
func TestConcurrentCreateProfile(t *testing.T) {
	testenv.ForEachDB(t, func(t *testing.T, cfg config.Config) {
		e := newEnv(t, testenv.StartServer(t, cfg))
		tk := e.ticket(e.alice)
		const n = 8
		errs := make(chan string, n)
		for i := 0; i < n; i++ {
			go func() {
				code, resp := e.post("/storageservice/SchematizedStore.asmx", "CreateProfile", createProfileReq(tk))
				if code != http.StatusOK || !strings.Contains(resp, "<CreateProfileResult>"+aliceProfile+"<") {
					errs <- resp
					return
				}
				errs <- ""
			}()
		}
		for i := 0; i < n; i++ {
			if msg := <-errs; msg != "" {
				t.Errorf("CreateProfile: %s", msg)
			}
		}
		if c := e.count(&store.StorageProfile{}, "account_id = ?", e.alice.ID); c != 1 {
			t.Errorf("%d profile rows", c)
		}
	})
}
