package web

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// The sign-up challenge is a sum written in the page's text, answered in a
// form field (NS_CLIENT_FACTS.md, "Contract details"): it needs no outside
// service and no script. The question travels in a hidden field with a MAC
// (bound to the browser's CSRF nonce and an expiry), so the server keeps no
// state for it; the per-address sign-up limit bounds the guesses.

// challengeLife is how long a sign-up form's question can be answered.
const challengeLife = 30 * time.Minute

// challenge is one question.
type challenge struct {
	A, B     int
	Question string // "What is 7 plus 12?"
	Token    string // the hidden field: a.b.expiry.mac
}

func smallInt(lo, hi int) int {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo+1)))
	if err != nil {
		return lo
	}
	return lo + int(n.Int64())
}

// newChallenge makes a question for the browser with CSRF nonce nonce.
func (w *Web) newChallenge(nonce string) challenge {
	a, b := smallInt(2, 19), smallInt(2, 19)
	exp := strconv.FormatInt(w.deps.Now().Add(challengeLife).Unix(), 10)
	as, bs := strconv.Itoa(a), strconv.Itoa(b)
	return challenge{A: a, B: b, Question: fmt.Sprintf("What is %d plus %d?", a, b),
		Token: as + "." + bs + "." + exp + "." + w.mac("challenge", as, bs, exp, nonce)}
}

// checkChallenge reports whether answer is the sum the token asked for,
// the token being this server's, for this browser, and not expired.
func (w *Web) checkChallenge(token, answer, nonce string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(w.mac("challenge", parts[0], parts[1], parts[2], nonce))) {
		return false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || w.deps.Now().Unix() > exp {
		return false
	}
	a, _ := strconv.Atoi(parts[0])
	b, _ := strconv.Atoi(parts[1])
	got, err := strconv.Atoi(strings.TrimSpace(answer))
	return err == nil && got == a+b
}
