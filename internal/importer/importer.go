package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/abch-im/abch/internal/listbits"
	"github.com/abch-im/abch/internal/store"
	"github.com/abch-im/abch/models"
)

// Merge policies for accounts that already exist in abch with other data.
const (
	MergeSkip   = "skip"   // report and leave the account alone (default)
	MergeSource = "source" // make the account equal to the source
	MergeUnion  = "union"  // add the source's groups, contacts and lists; remove nothing, keep the profile
)

// Inconsistency kinds (EXPECTED.md §4).
const (
	FLWithoutRL = "FL_without_RL"
	RLWithoutFL = "RL_without_FL"
)

// Options steer an import.
type Options struct {
	DryRun bool   // validate and report; write nothing
	Repair bool   // fix FL⇔RL inconsistencies instead of only reporting them
	Merge  string // MergeSkip (default), MergeSource or MergeUnion
	// Progress receives a progress bar (Terminal) or plain progress lines;
	// nil shows nothing.
	Progress io.Writer
	Terminal bool
}

// Skip is an account (or a contact entry) left out, with the reason.
type Skip struct {
	Email  string `json:"email"`
	Where  string `json:"where"`
	Reason string `json:"reason"`

	seq int // source order, for a stable report
}

// Inconsistency is a pair that breaks "FL on A's side ⇔ RL on B's side".
// Owner holds the entry; for FL_without_RL Owner has Contact on FL and
// Contact lacks the RL, for RL_without_FL Owner has Contact on RL and
// Contact no longer has Owner on FL.
type Inconsistency struct {
	Kind     string `json:"kind"`
	Owner    string `json:"owner"`
	Contact  string `json:"contact"`
	Repaired bool   `json:"repaired"`
}

// Summary is what an import did (or, with DryRun, would do).
type Summary struct {
	Source string `json:"source"`
	DryRun bool   `json:"dry_run"`
	// Accounts by outcome.
	Created, Updated, Unchanged, Skipped int
	// Entries is the number of list entries (contacts) of the accounts
	// created or updated; the other counters are rows written.
	Entries                                         int
	ContactsAdded, ContactsChanged, ContactsRemoved int
	MembersAdded, MembersRemoved                    int
	GroupsAdded, GroupsChanged, GroupsRemoved       int
	ContactsDropped                                 int
	Repaired                                        int
	Inconsistencies                                 []Inconsistency
	SkippedAccounts                                 []Skip
	DroppedContacts                                 []Skip
	Notes                                           []string
	Elapsed                                         time.Duration
	readAccounts                                    int
}

// Write prints the summary for an operator.
func (s *Summary) Write(w io.Writer) {
	verb := "imported"
	if s.DryRun {
		verb = "would import (dry run, nothing written)"
	}
	fmt.Fprintf(w, "%s from %s in %s\n", verb, s.Source, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "accounts: %d created, %d updated, %d unchanged, %d skipped\n", s.Created, s.Updated, s.Unchanged, s.Skipped)
	fmt.Fprintf(w, "contacts: %d entries; address book %d added, %d changed, %d removed; memberships %d added, %d removed; %d dropped\n",
		s.Entries, s.ContactsAdded, s.ContactsChanged, s.ContactsRemoved, s.MembersAdded, s.MembersRemoved, s.ContactsDropped)
	fmt.Fprintf(w, "groups: %d added, %d changed, %d removed\n", s.GroupsAdded, s.GroupsChanged, s.GroupsRemoved)
	fmt.Fprintf(w, "inconsistencies: %d found, %d repaired\n", len(s.Inconsistencies), s.Repaired)
	for _, in := range s.Inconsistencies {
		state := "reported (use --repair to fix)"
		if in.Repaired {
			state = "repaired"
		}
		switch in.Kind {
		case FLWithoutRL:
			fmt.Fprintf(w, "  %s: %s has %s on FL but %s lacks the matching RL: %s\n", in.Kind, in.Owner, in.Contact, in.Contact, state)
		default:
			fmt.Fprintf(w, "  %s: %s has %s on RL but %s no longer has %s on FL: %s\n", in.Kind, in.Owner, in.Contact, in.Contact, in.Owner, state)
		}
	}
	for _, sk := range s.SkippedAccounts {
		fmt.Fprintf(w, "skipped account %s (%s): %s\n", sk.Email, sk.Where, sk.Reason)
	}
	for _, sk := range s.DroppedContacts {
		fmt.Fprintf(w, "dropped contact %s (%s): %s\n", sk.Email, sk.Where, sk.Reason)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

var errDryRun = errors.New("dry run: roll back")

type repair struct{ add, remove int }

// Run imports src into st. Each account is written in its own transaction;
// accounts that cannot be imported are skipped with a reason in the summary.
// The error is for problems with the source as a whole (a malformed line, an
// unreadable database) or the target database.
func Run(ctx context.Context, st *store.Store, src Source, opt Options) (*Summary, error) {
	start := time.Now()
	if opt.Merge == "" {
		opt.Merge = MergeSkip
	}
	switch opt.Merge {
	case MergeSkip, MergeSource, MergeUnion:
	default:
		return nil, fmt.Errorf("unknown merge policy %q (skip, source or union)", opt.Merge)
	}
	sum := &Summary{Source: src.Name(), DryRun: opt.DryRun}
	im := &run{st: st, opt: opt, sum: sum, valid: map[string]string{}, bad: map[string]string{},
		created: map[string]int64{}, repairs: map[string]map[string]*repair{}}
	if err := im.validate(ctx, src); err != nil {
		return nil, err
	}
	// Pass 2: contacts pointing at missing accounts, FL⇔RL inconsistencies,
	// and the account rows themselves (so contacts can point at them).
	prog := newProgress(opt, "checking accounts", len(im.valid))
	err := im.eachImportable(ctx, src, prog, func(d *AccountDoc, where string, seq int) error {
		return im.prepare(ctx, d, where, seq)
	})
	if err == nil {
		err = im.flushCreates(ctx)
	}
	prog.done()
	if err != nil {
		return nil, err
	}
	if err := im.importLists(ctx, src); err != nil {
		return nil, err
	}
	sort.SliceStable(sum.SkippedAccounts, func(i, j int) bool { return sum.SkippedAccounts[i].seq < sum.SkippedAccounts[j].seq })
	sort.SliceStable(sum.DroppedContacts, func(i, j int) bool { return sum.DroppedContacts[i].seq < sum.DroppedContacts[j].seq })
	sort.Slice(sum.Inconsistencies, func(i, j int) bool {
		a, b := sum.Inconsistencies[i], sum.Inconsistencies[j]
		return a.Owner+"\x00"+a.Contact < b.Owner+"\x00"+b.Contact
	})
	sum.Skipped = len(sum.SkippedAccounts)
	sum.ContactsDropped = len(sum.DroppedContacts)
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// validate is pass 1: parse and validate every account and collect the
// FL/RL pairs that have no counterpart (im.pairs).
func (im *run) validate(ctx context.Context, src Source) error {
	var flKeys, rlKeys []uint64
	err := src.Each(ctx, func(d *AccountDoc, where string, bad error) error {
		im.sum.readAccounts++
		seq := im.sum.readAccounts
		if bad == nil {
			bad = d.normalize()
		}
		lower := strings.ToLower(strings.TrimSpace(d.Email))
		if bad != nil {
			im.skip(d.Email, where, bad.Error(), seq)
			im.bad[lower] = bad.Error()
			return nil
		}
		if first, dup := im.valid[lower]; dup {
			im.skip(d.Email, where, "the address appears again in the source (first at "+first+")", seq)
			return nil
		}
		im.valid[lower] = where
		for _, c := range d.Contacts {
			if c.bits()&listbits.FL != 0 {
				flKeys = append(flKeys, pairKey(lower, c.Email))
			}
			if c.bits()&listbits.RL != 0 {
				rlKeys = append(rlKeys, pairKey(c.Email, lower))
			}
		}
		return nil
	})
	im.pairs = unmatched(flKeys, rlKeys)
	return err
}

// importLists is pass 3: each account's groups, contacts and memberships,
// one transaction per account. Accounts are independent (each transaction
// bumps only its own account), so Postgres imports several at once; SQLite
// has one writer.
func (im *run) importLists(ctx context.Context, src Source) error {
	prog := newProgress(im.opt, "importing lists", len(im.valid))
	defer prog.done()
	workers := 1
	if im.st.Dialect == store.DialectPostgres {
		workers = 4
	}
	wctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if wctx.Err() != nil {
					continue
				}
				if err := im.importAccount(wctx, j.d, j.where, j.seq); err != nil {
					cancel(err)
				}
			}
		}()
	}
	err := im.eachImportable(ctx, src, prog, func(d *AccountDoc, where string, seq int) error {
		job := job{d: d, where: where, seq: seq}
		select {
		case jobs <- job:
			return nil
		case <-wctx.Done():
			return context.Cause(wctx)
		}
	})
	close(jobs)
	wg.Wait()
	if werr := context.Cause(wctx); err == nil && werr != nil && !errors.Is(werr, context.Canceled) {
		err = werr
	} else if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return err
}

type run struct {
	st      *store.Store
	opt     Options
	sum     *Summary
	valid   map[string]string // lower address → where (importable so far)
	bad     map[string]string // lower address → why not
	pairs   map[uint64]uint8  // unmatched pairs: FL without RL (1), RL without FL (2)
	created map[string]int64  // accounts created by this run
	repairs map[string]map[string]*repair
	pending []*AccountDoc // pass 2: accounts waiting to be created

	mu sync.Mutex // pass 3 runs accounts in parallel: guards sum
}

// eachImportable calls fn, in source order, for each account pass 1 kept
// (readable, valid and the first of its address, or not skipped since), with
// its position in the source, counting it on prog.
func (im *run) eachImportable(ctx context.Context, src Source, prog *progress, fn func(d *AccountDoc, where string, seq int) error) error {
	seq := 0
	return src.Each(ctx, func(d *AccountDoc, where string, bad error) error {
		seq++
		if bad != nil || d.normalize() != nil {
			return nil
		}
		if im.valid[strings.ToLower(d.Email)] != where {
			return nil
		}
		prog.add()
		return fn(d, where, seq)
	})
}

func (im *run) skip(email, where, reason string, seq int) {
	im.sum.SkippedAccounts = append(im.sum.SkippedAccounts, Skip{Email: email, Where: where, Reason: reason, seq: seq})
}

// pairKey hashes an ordered pair of addresses (FNV-1a, 64 bits) so the
// FL⇔RL check over millions of entries stays in bounded memory.
func pairKey(a, b string) uint64 {
	h := uint64(14695981039346656037)
	for _, s := range []string{a, "\x00", b} {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
	}
	return h
}

// unmatched compares the FL pairs (owner, contact) with the pairs the RL
// entries imply (contact, owner) and returns those found on one side only.
// Sorted slices of 64-bit pair hashes (8 bytes an entry) keep the check over
// millions of entries small; only the mismatches are kept afterwards.
func unmatched(fl, rl []uint64) map[uint64]uint8 {
	slices.Sort(fl)
	slices.Sort(rl)
	out := map[uint64]uint8{}
	i, j := 0, 0
	for i < len(fl) || j < len(rl) {
		switch {
		case j == len(rl) || i < len(fl) && fl[i] < rl[j]:
			out[fl[i]] = 1
			i++
		case i == len(fl) || rl[j] < fl[i]:
			out[rl[j]] = 2
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// lookup resolves addresses to abch accounts.
func lookup(ctx context.Context, st *store.Store, addrs []string) (map[string]target, error) {
	refs, err := st.AccountRefs(ctx, addrs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]target, len(refs))
	for e, r := range refs {
		out[e] = target{ID: r.ID, Email: r.EmailLower, CID: r.CID}
	}
	return out, nil
}

func (im *run) prepare(ctx context.Context, d *AccountDoc, where string, seq int) error {
	lower := strings.ToLower(d.Email)
	var outside []string
	for _, c := range d.Contacts {
		if _, ok := im.valid[c.Email]; !ok {
			if _, known := im.bad[c.Email]; !known {
				outside = append(outside, c.Email)
			}
		}
	}
	if len(outside) > 0 {
		found, err := lookup(ctx, im.st, outside)
		if err != nil {
			return err
		}
		for _, c := range outside {
			if _, ok := found[c]; !ok {
				im.skip(d.Email, where, fmt.Sprintf("contact %s points at a missing account (not in the source, not in abch)", c), seq)
				delete(im.valid, lower)
				im.bad[lower] = "its contact " + c + " points at a missing account"
				return nil
			}
		}
	}
	for _, c := range d.Contacts {
		if _, ok := im.valid[c.Email]; !ok {
			continue
		}
		if c.bits()&listbits.FL != 0 && im.pairs[pairKey(lower, c.Email)] == 1 {
			im.inconsistent(FLWithoutRL, lower, c.Email)
		}
		if c.bits()&listbits.RL != 0 && im.pairs[pairKey(c.Email, lower)] == 2 {
			im.inconsistent(RLWithoutFL, lower, c.Email)
		}
	}
	if im.opt.DryRun {
		return nil
	}
	im.pending = append(im.pending, d)
	if len(im.pending) >= createBatch {
		return im.flushCreates(ctx)
	}
	return nil
}

// createBatch is how many new accounts pass 2 creates per transaction.
// Creating an account only makes its row and Me contact (an empty book), so
// batching them is safe; the lists follow in one transaction per account.
const createBatch = 100

// flushCreates creates the pending accounts that do not exist yet, a batch
// per transaction; a batch that fails is retried one account at a time so
// one bad row cannot hold back the others.
func (im *run) flushCreates(ctx context.Context) error {
	docs := im.pending
	im.pending = nil
	if len(docs) == 0 {
		return nil
	}
	addrs := make([]string, len(docs))
	for i, d := range docs {
		addrs[i] = strings.ToLower(d.Email)
	}
	have, err := lookup(ctx, im.st, addrs)
	if err != nil {
		return err
	}
	var todo []*AccountDoc
	for _, d := range docs {
		if _, ok := have[strings.ToLower(d.Email)]; !ok {
			todo = append(todo, d)
		}
	}
	create := func(batch []*AccountDoc) error {
		made := map[string]int64{}
		err := im.st.Write(ctx, func(t *store.Txn) error {
			clear(made)
			if err := t.FastCommit(); err != nil {
				return err
			}
			states := make([]store.ImportState, 0, len(batch))
			for _, d := range batch {
				a, err := im.createAccount(t, d)
				if err != nil {
					return err
				}
				made[a.EmailLower] = a.ID
				// Recorded at once, so if the run stops before pass 3 a
				// re-run still sees the account as the import's own.
				empty := &AccountDoc{V: FormatVersion, DisplayName: a.DisplayName, BLP: a.BLP, GTC: a.GTC, Groups: []GroupDoc{}, Contacts: []ContactDoc{}}
				states = append(states, store.ImportState{AccountID: a.ID, Source: im.sum.Source, StateHash: empty.stateHash(),
					PasswordHash: a.PasswordHash, ImportedAt: t.Now})
			}
			return t.RecordNewImports(states)
		})
		if err == nil {
			for k, v := range made {
				im.created[k] = v
			}
		}
		return err
	}
	if len(todo) == 0 {
		return nil
	}
	if err := create(todo); err == nil || len(todo) == 1 {
		return err
	}
	for _, d := range todo {
		if err := create([]*AccountDoc{d}); err != nil {
			return fmt.Errorf("%s: creating the account: %w", d.Email, err)
		}
	}
	return nil
}

func (im *run) createAccount(t *store.Txn, d *AccountDoc) (*models.Account, error) {
	var created time.Time
	if d.Created != "" {
		created, _ = time.Parse(time.RFC3339Nano, d.Created)
	}
	return t.CreateAccountAt(store.NewAccount{Email: d.Email, PasswordHash: d.PasswordHash, DisplayName: d.DisplayName}, created, d.meGUID)
}

func (im *run) inconsistent(kind, owner, contact string) {
	in := Inconsistency{Kind: kind, Owner: owner, Contact: contact, Repaired: im.opt.Repair}
	im.sum.Inconsistencies = append(im.sum.Inconsistencies, in)
	if !im.opt.Repair {
		return
	}
	im.sum.Repaired++
	// EXPECTED.md §4 repair options: recreate the missing RL (pending, the
	// contact never answered) on the contact's side; drop a stale RL.
	switch kind {
	case FLWithoutRL:
		im.repairFor(contact, owner).add |= listbits.RL
	case RLWithoutFL:
		im.repairFor(owner, contact).remove |= listbits.RL | listbits.PL
	}
}

func (im *run) repairFor(owner, contact string) *repair {
	m := im.repairs[owner]
	if m == nil {
		m = map[string]*repair{}
		im.repairs[owner] = m
	}
	r := m[contact]
	if r == nil {
		r = &repair{}
		m[contact] = r
	}
	return r
}

// applyRepairs changes d's entries as decided in pass 2.
func (im *run) applyRepairs(d *AccountDoc) {
	reps := im.repairs[strings.ToLower(d.Email)]
	if len(reps) == 0 {
		return
	}
	idx := map[string]int{}
	for i, c := range d.Contacts {
		idx[c.Email] = i
	}
	for contact, r := range reps {
		i, ok := idx[contact]
		if !ok {
			if r.add == 0 {
				continue
			}
			c := ContactDoc{Email: contact, DisplayName: contact}
			c.setBits(0)
			d.Contacts = append(d.Contacts, c)
			i = len(d.Contacts) - 1
		}
		c := &d.Contacts[i]
		bits := (c.bits() | r.add) &^ r.remove
		if r.add&listbits.RL != 0 && bits&(listbits.AL|listbits.BL) == 0 {
			bits |= listbits.PL // the added RL is unanswered: Pending rule
		}
		if c.bits()&listbits.FL == 0 && bits&(listbits.RL|listbits.PL) == 0 {
			c.DisplayName = ""
		}
		c.setBits(bits)
	}
	out := d.Contacts[:0]
	for _, c := range d.Contacts {
		if c.bits() != 0 {
			out = append(out, c)
		}
	}
	d.Contacts = out
	sortContacts(d.Contacts)
}

type job struct {
	d     *AccountDoc
	where string
	seq   int
}

// importAccount writes one account's desired state (pass 3): its contacts
// resolved to accounts, then one transaction (applyAccount), then the
// summary.
func (im *run) importAccount(ctx context.Context, d *AccountDoc, where string, seq int) error {
	im.applyRepairs(d)
	targets, err := im.resolveContacts(ctx, d, where, seq)
	if err != nil {
		return err
	}
	var res accountResult
	err = im.st.Write(ctx, func(t *store.Txn) error {
		res = accountResult{}
		if err := t.FastCommit(); err != nil {
			return err
		}
		if err := im.applyAccount(t, d, targets, &res); err != nil {
			return err
		}
		if im.opt.DryRun && res.skipWhy == "" {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return fmt.Errorf("%s (%s): %w", d.Email, where, err)
	}
	im.record(d, where, seq, &res)
	return nil
}

// resolveContacts finds the accounts d's contacts point at and drops (and
// reports) the contacts whose account is not in abch.
func (im *run) resolveContacts(ctx context.Context, d *AccountDoc, where string, seq int) (map[string]target, error) {
	addrs := make([]string, 0, len(d.Contacts))
	for _, c := range d.Contacts {
		addrs = append(addrs, c.Email)
	}
	targets, err := lookup(ctx, im.st, addrs)
	if err != nil {
		return nil, err
	}
	kept := d.Contacts[:0]
	for _, c := range d.Contacts {
		if _, ok := targets[c.Email]; !ok {
			if _, ok := im.valid[c.Email]; ok && im.opt.DryRun {
				targets[c.Email] = target{Email: c.Email} // would be created by this import
			} else {
				why := im.bad[c.Email]
				if why == "" {
					why = "no such account"
				}
				im.mu.Lock()
				im.sum.DroppedContacts = append(im.sum.DroppedContacts, Skip{Email: c.Email, Where: where + " (" + d.Email + ")",
					Reason: "its account is not imported: " + why, seq: seq})
				im.mu.Unlock()
				continue
			}
		}
		kept = append(kept, c)
	}
	d.Contacts = kept
	return targets, nil
}

// accountResult is what one account's transaction did.
type accountResult struct {
	outcome string // created, updated, unchanged
	stats   acctStats
	skipWhy string
	note    string
}

// applyAccount is one account's transaction: read the account, its book
// and import state, decide whether and how to merge (mergeMode), apply the
// desired state and the password, and record the new import state.
func (im *run) applyAccount(t *store.Txn, d *AccountDoc, targets map[string]target, res *accountResult) error {
	lower := strings.ToLower(d.Email)
	desiredHash := d.stateHash()
	acct, found, err := t.AccountByEmail(lower)
	if err != nil {
		return err
	}
	isNew := im.created[lower] != 0 && im.created[lower] == acct.ID
	if !found {
		if !im.opt.DryRun {
			return fmt.Errorf("account %s vanished during the import", lower)
		}
		a, err := im.createAccount(t, d)
		if err != nil {
			return err
		}
		acct, isNew = *a, true
	}
	b, state, hasState, err := im.readBook(t, acct, isNew)
	if err != nil {
		return err
	}
	union := false
	if !isNew {
		if union, res.skipWhy = im.mergeMode(b.doc().stateHash(), desiredHash, state, hasState); res.skipWhy != "" {
			return nil
		}
	}
	w := &writer{t: t, b: b, newGUID: im.st.NewGUID, fresh: isNew}
	if err := w.apply(d, targets, union); err != nil {
		return err
	}
	res.stats = w.stats
	pwChanged, err := im.applyPassword(t, d, &acct, isNew, state, hasState, res)
	if err != nil {
		return err
	}
	if err := im.recordState(t, acct, d, desiredHash, union, pwChanged, state, hasState); err != nil {
		return err
	}
	switch {
	case isNew:
		res.outcome = "created"
	case t.Rev(acct.ID) != 0 || pwChanged:
		res.outcome = "updated"
	default:
		res.outcome = "unchanged"
	}
	return nil
}

// readBook reads acct's book and import state; a book this run just
// created is empty but for its Me contact, and is not read.
func (im *run) readBook(t *store.Txn, acct models.Account, isNew bool) (*book, store.ImportState, bool, error) {
	if isNew {
		b := &book{acct: acct, me: &models.Contact{Annotations: "[]", DisplayName: acct.DisplayName},
			contacts: map[string]*models.Contact{}, dead: map[string]*models.Contact{}, cgroups: map[int64][]int64{}}
		return b, store.ImportState{}, false, nil
	}
	rows, err := t.BookRows(acct.ID)
	if err != nil {
		return nil, store.ImportState{}, false, err
	}
	state, hasState, err := t.ImportState(acct.ID)
	return newBook(acct, rows), state, hasState, err
}

// mergeMode decides how an existing account whose book (curHash) differs
// from the desired one is treated: skipped (with the reason), merged by
// union, or made equal to the source.
func (im *run) mergeMode(curHash, desiredHash string, state store.ImportState, hasState bool) (union bool, skipWhy string) {
	if curHash == desiredHash {
		return false, ""
	}
	switch {
	case !hasState && im.opt.Merge == MergeSkip:
		return false, "the account already exists in abch with other data and was not created by an import (use --merge=source or --merge=union)"
	case hasState && state.StateHash != curHash && im.opt.Merge == MergeSkip:
		return false, "the account changed in abch since it was imported on " + state.ImportedAt.UTC().Format(time.RFC3339) + " (use --merge=source or --merge=union)"
	}
	return im.opt.Merge == MergeUnion, ""
}

// applyPassword sets the source's password hash unless abch's was changed
// since the import (then it notes that it kept abch's).
func (im *run) applyPassword(t *store.Txn, d *AccountDoc, acct *models.Account, isNew bool, state store.ImportState, hasState bool, res *accountResult) (bool, error) {
	if d.PasswordHash == acct.PasswordHash {
		return false, nil
	}
	switch {
	case isNew || im.opt.Merge == MergeSource || (hasState && state.PasswordHash == acct.PasswordHash) ||
		(im.opt.Merge == MergeUnion && acct.PasswordHash == ""):
		return true, t.SetPasswordHash(acct.ID, d.PasswordHash, !isNew && acct.PasswordHash != "")
	case d.PasswordHash != "" && !(hasState && state.PasswordHash == d.PasswordHash):
		res.note = d.Email + ": the password was changed in abch since the import; kept abch's"
	}
	return false, nil
}

// recordState records what the import wrote (the book's state hash and
// the password hash) when it differs from what was recorded.
func (im *run) recordState(t *store.Txn, acct models.Account, d *AccountDoc, finalHash string, union, pwChanged bool, state store.ImportState, hasState bool) error {
	if union {
		rows, err := t.BookRows(acct.ID)
		if err != nil {
			return err
		}
		finalHash = newBook(acct, rows).doc().stateHash()
	}
	finalPW := acct.PasswordHash
	if pwChanged {
		finalPW = d.PasswordHash
	}
	if hasState && state.StateHash == finalHash && state.PasswordHash == finalPW {
		return nil
	}
	return t.RecordImport(store.ImportState{AccountID: acct.ID, Source: im.sum.Source, StateHash: finalHash,
		PasswordHash: finalPW, ImportedAt: t.Now})
}

// record adds one account's result to the summary.
func (im *run) record(d *AccountDoc, where string, seq int, res *accountResult) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if res.skipWhy != "" {
		im.skip(d.Email, where, res.skipWhy, seq)
		return
	}
	if res.note != "" {
		im.sum.Notes = append(im.sum.Notes, res.note)
	}
	s := im.sum
	switch res.outcome {
	case "created":
		s.Created++
	case "updated":
		s.Updated++
	default:
		s.Unchanged++
	}
	if res.outcome != "unchanged" {
		s.Entries += len(d.Contacts)
	}
	st := res.stats
	s.ContactsAdded += st.contactsAdded
	s.ContactsChanged += st.contactsChanged
	s.ContactsRemoved += st.contactsRemoved
	s.MembersAdded += st.membersAdded
	s.MembersRemoved += st.membersRemoved
	s.GroupsAdded += st.groupsAdded
	s.GroupsChanged += st.groupsChanged
	s.GroupsRemoved += st.groupsRemoved
}
