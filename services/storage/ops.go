package storage

import (
	"encoding/base64"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"

	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
	"github.com/abch-im/abch/services/soap"
)

// getProfile answers GetProfile for the caller's own profile, named by
// Alias (MyCidStuff + CID, RelationshipName MyProfile) or by its
// ResourceID. Every account has a profile: one never written shows the
// account's display name and no status or photo, so clients never need
// the "does not exist" path.
func (s *service) getProfile(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	owner, err := s.profileOwner(r, a, soap.Child(r.Op, "profileHandle"))
	if err != nil {
		return nil, err
	}
	v, err := s.deps.Store.LoadProfile(r.Ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderProfile(r, v)), nil
}

// profileOwner is the account whose profile GetProfile's handle names:
// the caller's own, or (KMess reads its contacts' profiles by CID) another
// account's that has the caller on its Allow list and does not block it.
// Any other CID gets the same fault as one that does not exist.
func (s *service) profileOwner(r *soap.Request, a *models.Account, h *etree.Element) (*models.Account, error) {
	if cid, ok := aliasCID(h); ok && cid != a.CID {
		other, err := s.deps.Store.AccountByCID(r.Ctx, cid)
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, notExist("profile")
		} else if err != nil {
			return nil, err
		}
		ok, err := s.deps.Store.ProfileReadable(r.Ctx, other, a)
		if err != nil {
			return nil, err
		}
		if !ok || other.Disabled {
			return nil, notExist("profile")
		}
		return other, nil
	}
	if _, k, _, err := checkHandle(a, h, "profileHandle"); err != nil {
		return nil, err
	} else if k == kindPhoto {
		return nil, notExist("profile")
	}
	return a, nil
}

// createProfile answers CreateProfile (MSNPSharp and WLM call it when
// GetProfile said the profile does not exist): it writes the profile row
// and answers its ResourceID; calling it again is harmless.
func (s *service) createProfile(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Store.EnsureProfile(r.Ctx, a.ID); err != nil {
		return nil, err
	}
	return soap.OK(renderResult(r, "CreateProfile", profileID(a))), nil
}

// updateProfile answers UpdateProfile. The profile is named by the
// profile's ResourceID (papyon) or the ExpressionProfile's (MSNPSharp,
// NS_CLIENT_FACTS.md); DisplayName, PersonalStatus and Flags change what
// they name. Every value is checked before anything is written.
func (s *service) updateProfile(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	prof := soap.Child(r.Op, "profile")
	if prof == nil {
		return nil, models.Errorf(models.CodeBadRequest, "profile missing")
	}
	ep := soap.Child(prof, "ExpressionProfile")
	rid := soap.Text(soap.Child(prof, "ResourceID"))
	if rid == "" {
		rid = soap.Text(soap.Child(ep, "ResourceID"))
	}
	if k, _, err := resolve(a, rid); err != nil {
		return nil, err
	} else if k == kindPhoto {
		return nil, notExist("profile")
	}
	u, err := decodeExpression(ep)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Store.UpdateProfile(r.Ctx, a.ID, u); err != nil {
		return nil, err
	}
	return soap.OK(renderEmpty(r, "UpdateProfile")), nil
}

// decodeExpression reads the ExpressionProfile of UpdateProfile. An empty
// DisplayName leaves the name as it is (XmlSerializer writes an unset
// string as an empty element); an empty PersonalStatus clears it.
func decodeExpression(ep *etree.Element) (store.ProfileUpdate, error) {
	var u store.ProfileUpdate
	if ep == nil {
		return u, nil
	}
	if e := soap.Child(ep, "DisplayName"); e != nil {
		if name := soap.Text(e); name != "" {
			if len(name) > store.MaxDisplayNameBytes || !utf8.ValidString(name) || strings.ContainsAny(name, "\r\n\x00") {
				return u, models.Errorf(models.CodeBadArgumentLength, "DisplayName must be at most %d bytes of UTF-8 without line breaks", store.MaxDisplayNameBytes)
			}
			u.DisplayName = &name
		}
	}
	if e := soap.Child(ep, "PersonalStatus"); e != nil {
		st := soap.Text(e)
		if !utf8.ValidString(st) || utf8.RuneCountInString(st) > MaxPersonalStatus || strings.ContainsRune(st, 0) {
			return u, models.Errorf(models.CodeBadArgumentLength, "PersonalStatus must be at most %d characters of UTF-8", MaxPersonalStatus)
		}
		u.PersonalStatus = &st
	}
	for _, name := range []string{"Flags", "Flag"} {
		n, present, err := soap.Int64(soap.Child(ep, name))
		if err != nil {
			return u, models.Errorf(models.CodeBadRequest, "%s is not a number", name)
		}
		if present {
			if n < 0 || n > 1<<30 {
				return u, models.Errorf(models.CodeBadRequest, "%s out of range", name)
			}
			f := int(n)
			u.Flags = &f
			break
		}
	}
	return u, nil
}

// findDocuments answers FindDocuments on the caller's /UserTiles folder:
// the display pictures stored, each with its ResourceID and Name.
func (s *service) findDocuments(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := checkHandle(a, soap.Child(r.Op, "objectHandle"), "objectHandle"); err != nil {
		return nil, err
	}
	list, err := s.deps.Store.Photos(r.Ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderDocuments(r, a, list)), nil
}

// createDocument answers CreateDocument: a display picture stored in the
// caller's /UserTiles folder. It answers the new document's ResourceID;
// the client links it to its profile with CreateRelationships.
func (s *service) createDocument(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if _, k, _, err := checkHandle(a, soap.Child(r.Op, "parentHandle"), "parentHandle"); err != nil {
		return nil, err
	} else if k == kindPhoto {
		return nil, models.Errorf(models.CodeBadRequest, "parentHandle names a document")
	}
	doc := soap.Child(r.Op, "document")
	ph, err := decodePhoto(doc)
	if err != nil {
		return nil, err
	}
	id, err := s.deps.Store.CreatePhoto(r.Ctx, a.ID, ph.name, ph.mime, ph.data, ph.size)
	if err != nil {
		return nil, err
	}
	return soap.OK(renderResult(r, "CreateDocument", photoID(a, id))), nil
}

// updateDocument answers UpdateDocument: new bytes for one of the
// caller's display pictures, named by ResourceID.
func (s *service) updateDocument(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	doc := soap.Child(r.Op, "document")
	if doc == nil {
		return nil, models.Errorf(models.CodeBadRequest, "document missing")
	}
	k, id, err := resolve(a, soap.Text(soap.Child(doc, "ResourceID")))
	if err != nil {
		return nil, err
	}
	if k != kindPhoto {
		return nil, notExist("document")
	}
	ph, err := decodePhoto(doc)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Store.UpdatePhoto(r.Ctx, a.ID, id, ph.name, ph.mime, ph.data, ph.size); err != nil {
		return nil, err
	}
	return soap.OK(renderEmpty(r, "UpdateDocument")), nil
}

// createRelationships answers CreateRelationships: ProfilePhoto links the
// caller's (expression) profile to one of its pictures, which GetProfile
// then shows. Every relationship is checked before any is made.
func (s *service) createRelationships(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	rels := soap.Child(r.Op, "relationships")
	var photos []int64
	if rels != nil {
		for _, rel := range rels.ChildElements() {
			sk, _, err := resolve(a, soap.Text(soap.Child(rel, "SourceID")))
			if err != nil {
				return nil, err
			}
			tk, tid, err := resolve(a, soap.Text(soap.Child(rel, "TargetID")))
			if err != nil {
				return nil, err
			}
			if sk == kindPhoto || tk != kindPhoto {
				return nil, models.Errorf(models.CodeBadRequest, "only ProfilePhoto relationships (profile to photo) are supported")
			}
			photos = append(photos, tid)
		}
	}
	if len(photos) == 0 {
		return nil, models.Errorf(models.CodeBadRequest, "relationships missing")
	}
	for _, id := range photos {
		if err := s.deps.Store.SetProfilePhoto(r.Ctx, a.ID, id, false); err != nil {
			return nil, err
		}
	}
	return soap.OK(renderEmpty(r, "CreateRelationships")), nil
}

// deleteRelationships answers DeleteRelationships: the source is the
// caller's profile (by ResourceID) or its /UserTiles folder (by Alias),
// the targets its pictures; a picture the profile shows is unlinked from
// it (MSNPSharp sends both forms before linking a new picture).
func (s *service) deleteRelationships(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if _, k, _, err := checkHandle(a, soap.Child(r.Op, "sourceHandle"), "sourceHandle"); err != nil {
		return nil, err
	} else if k == kindPhoto {
		return nil, models.Errorf(models.CodeBadRequest, "sourceHandle names a document")
	}
	var photos []int64
	if th := soap.Child(r.Op, "targetHandles"); th != nil {
		for _, h := range th.ChildElements() {
			k, id, err := resolve(a, soap.Text(soap.Child(h, "ResourceID")))
			if err != nil {
				return nil, err
			}
			if k != kindPhoto {
				return nil, notExist("document")
			}
			photos = append(photos, id)
		}
	}
	if len(photos) == 0 {
		return nil, models.Errorf(models.CodeBadRequest, "targetHandles missing")
	}
	for _, id := range photos {
		if err := s.deps.Store.SetProfilePhoto(r.Ctx, a.ID, id, true); err != nil {
			return nil, err
		}
	}
	return soap.OK(renderEmpty(r, "DeleteRelationships")), nil
}

// shareItem answers ShareItem (MSNPSharp shares its new profile as
// "Messenger Roaming Identity"): profiles here are always readable by the
// owner's contacts, so there is nothing to change.
func (s *service) shareItem(r *soap.Request) (*soap.Response, error) {
	a, err := s.authenticate(r)
	if err != nil {
		return nil, err
	}
	if k, _, err := resolve(a, soap.Text(soap.Child(r.Op, "resourceID"))); err != nil {
		return nil, err
	} else if k == kindPhoto {
		return nil, notExist("profile")
	}
	return soap.OK(renderEmpty(r, "ShareItem")), nil
}

// photoUpload is a decoded display picture.
type photoUpload struct {
	name, mime, data string // data: canonical base64
	size             int
}

// imageTypes are the declared MimeTypes accepted: MSNPSharp and aMSN send
// "png", others image/png (NS_CLIENT_FACTS.md "Storage service").
var imageTypes = map[string]bool{
	"png": true, "image/png": true, "jpg": true, "jpeg": true, "image/jpeg": true, "image/jpg": true,
	"gif": true, "image/gif": true, "bmp": true, "image/bmp": true,
}

// decodePhoto reads a Photo document: its Name and the UserTileStatic
// stream (the first stream when none says so). The declared type must be
// an image type and the bytes must be a PNG, JPEG, GIF or BMP by their
// content; the stored type is the one the content shows.
func decodePhoto(doc *etree.Element) (*photoUpload, error) {
	if doc == nil {
		return nil, models.Errorf(models.CodeBadRequest, "document missing")
	}
	name := soap.Text(soap.Child(doc, "Name"))
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxDocumentName {
		return nil, models.Errorf(models.CodeBadArgumentLength, "document Name must be at most %d characters of UTF-8", MaxDocumentName)
	}
	streams := soap.Child(doc, "DocumentStreams")
	var stream *etree.Element
	if streams != nil {
		for _, st := range streams.ChildElements() {
			if stream == nil || strings.EqualFold(soap.Text(soap.Child(st, "DocumentStreamType")), "UserTileStatic") {
				stream = st
			}
		}
	}
	if stream == nil {
		return nil, models.Errorf(models.CodeBadRequest, "DocumentStreams missing")
	}
	declared := strings.ToLower(soap.Text(soap.Child(stream, "MimeType")))
	if !imageTypes[declared] {
		return nil, models.Errorf(models.CodeBadRequest, "MimeType %q is not an image type", truncate(declared, 64))
	}
	raw := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, soap.Text(soap.Child(stream, "Data")))
	if raw == "" {
		return nil, models.Errorf(models.CodeBadRequest, "document Data missing")
	}
	if base64.StdEncoding.DecodedLen(len(raw)) > MaxPhotoBytes+3 {
		return nil, models.Errorf(models.CodeBadArgumentLength, "display picture over %d bytes", MaxPhotoBytes)
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, models.Errorf(models.CodeBadRequest, "document Data is not base64")
	}
	if len(data) > MaxPhotoBytes {
		return nil, models.Errorf(models.CodeBadArgumentLength, "display picture over %d bytes", MaxPhotoBytes)
	}
	mime := imageType(data)
	if mime == "" {
		return nil, models.Errorf(models.CodeBadRequest, "document Data is not a PNG, JPEG, GIF or BMP image")
	}
	return &photoUpload{name: name, mime: mime, data: base64.StdEncoding.EncodeToString(data), size: len(data)}, nil
}

// imageType is the image type data's content shows, "" for anything else.
func imageType(data []byte) string {
	switch t := http.DetectContentType(data); t {
	case "image/png", "image/jpeg", "image/gif", "image/bmp":
		return t
	}
	return ""
}
