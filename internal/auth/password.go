// Package auth holds passwords and tickets: argon2id password hashes (and
// verification of the older formats migrated accounts bring), the compact
// Passport tickets RST issues and every service checks, and the throttle on
// failed sign-ins.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/pbkdf2"
)

// Argon2Params are the argon2id cost parameters for new hashes.
type Argon2Params struct {
	MemoryKiB   uint32
	Time        uint32
	Parallelism uint8
}

const (
	saltLen = 16
	keyLen  = 32
)

// HashPassword returns the PHC string of an argon2id hash of password:
// $argon2id$v=19$m=<KiB>,t=<time>,p=<par>$<salt>$<key> (unpadded base64).
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Parallelism, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against a stored hash. It understands:
//
//   - argon2id PHC strings (what abch writes);
//   - pbkdf2_sha256$<iterations>$<salt>$<base64 key> (Escargot, Django style);
//
// rehash reports that the hash is valid but not in the current argon2id
// format and parameters, so the caller should store a fresh hash. An empty or
// unknown hash never verifies.
func VerifyPassword(hash, password string, current Argon2Params) (ok, rehash bool) {
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		p, salt, key, err := parseArgon2(hash)
		if err != nil {
			return false, false
		}
		got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Parallelism, uint32(len(key)))
		if subtle.ConstantTimeCompare(got, key) != 1 {
			return false, false
		}
		return true, p != current
	case strings.HasPrefix(hash, "pbkdf2_sha256$"):
		parts := strings.Split(hash, "$")
		if len(parts) != 4 {
			return false, false
		}
		iter, err := strconv.Atoi(parts[1])
		if err != nil || iter < 1 || iter > 10_000_000 {
			return false, false
		}
		want, err := base64.StdEncoding.DecodeString(parts[3])
		if err != nil || len(want) == 0 {
			return false, false
		}
		got := pbkdf2.Key([]byte(password), []byte(parts[2]), iter, len(want), sha256.New)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return false, false
		}
		return true, true
	}
	return false, false
}

func parseArgon2(hash string) (Argon2Params, []byte, []byte, error) {
	// $argon2id$v=19$m=19456,t=2,p=1$salt$key
	parts := strings.Split(hash, "$")
	var p Argon2Params
	if len(parts) != 6 || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, fmt.Errorf("auth: bad argon2id hash")
	}
	var m, t, par uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return p, nil, nil, fmt.Errorf("auth: bad argon2id params")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("auth: bad argon2id params")
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			par = n
		}
	}
	if m < 8 || m > 4<<20 || t < 1 || t > 100 || par < 1 || par > 255 {
		return p, nil, nil, fmt.Errorf("auth: argon2id params out of range")
	}
	p = Argon2Params{MemoryKiB: uint32(m), Time: uint32(t), Parallelism: uint8(par)}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, fmt.Errorf("auth: bad argon2id encoding")
	}
	return p, salt, key, nil
}
