package testenv

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/abch-im/abch/internal/store"
)

// Deterministic makes st's clock and GUID source reproducible, so answers
// can be compared with golden files byte for byte: the clock reads start
// plus step times the number of readings so far (step 0: it stands still),
// and the n-th GUID is guidPrefix followed by n in 12 digits. Adding to the
// returned reading count moves the clock on by that many steps.
func Deterministic(st *store.Store, start time.Time, step time.Duration, guidPrefix string) (reads *atomic.Int64) {
	reads = new(atomic.Int64)
	var guids atomic.Int64
	st.Now = func() time.Time { return start.Add(time.Duration(reads.Add(1)) * step) }
	st.NewGUID = func() string { return fmt.Sprintf("%s%012d", guidPrefix, guids.Add(1)) }
	return reads
}
