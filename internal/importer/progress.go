package importer

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows how far a pass is: a progress bar on a terminal, a plain
// line every few seconds otherwise (logs, pipes, CI).
type progress struct {
	bar   *progressbar.ProgressBar
	opt   Options
	label string
	total int
	n     int
	last  time.Time
}

func newProgress(opt Options, label string, total int) *progress {
	p := &progress{opt: opt, label: label, total: total, last: time.Now()}
	if opt.Progress == nil {
		return p
	}
	if opt.Terminal {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(opt.Progress),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("accounts"),
			progressbar.OptionShowIts(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *progress) add() {
	p.n++
	if p.opt.Progress == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Add(1)
		return
	}
	if time.Since(p.last) >= 2*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.opt.Progress, "%s: %d/%d accounts\n", p.label, p.n, p.total)
	}
}

func (p *progress) done() {
	if p.opt.Progress == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
		return
	}
	fmt.Fprintf(p.opt.Progress, "%s: %d/%d accounts, done\n", p.label, p.n, p.total)
}
