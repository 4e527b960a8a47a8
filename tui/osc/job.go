package osc

import (
	"context"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// writeJob is one checksum-then-write run in its own goroutine. Progress
// reaches the program through a channel that keeps only the latest report
// (a slow screen skips reports, it never slows the write down), and the
// outcome through a second one; next is the Cmd that waits for either and
// is issued again after every report.
type writeJob struct {
	tag      int64
	cancel   context.CancelFunc
	ctx      context.Context
	progress chan images.Progress
	done     chan jobOutcome
}

// jobOutcome is how a job ended: checksumErr when looking for the image's
// checksum failed or the user stopped before the write began (nothing was
// written), else the write's result.
type jobOutcome struct {
	checksumErr error
	result      images.Result
}

type jobProgressMsg struct {
	tag int64
	p   images.Progress
}

type jobDoneMsg struct {
	tag int64
	out jobOutcome
}

// checksumFoundMsg says which checksum file lists the image (sum nil: none).
type checksumFoundMsg struct {
	tag int64
	sum *images.Checksum
	err error
}

func lookUpChecksum(tag int64, image string) tea.Cmd {
	return func() tea.Msg {
		sum, err := images.ExpectedChecksum(image)
		return checksumFoundMsg{tag: tag, sum: sum, err: err}
	}
}

func newWriteJob(parent context.Context, tag int64) *writeJob {
	ctx, cancel := context.WithCancel(parent)
	return &writeJob{tag: tag, ctx: ctx, cancel: cancel,
		progress: make(chan images.Progress, 1), done: make(chan jobOutcome, 1)}
}

// start runs the job: the write with read-back verification, checking the
// image against sum (when set) in the same read. The goroutine is counted in
// shared.jobs so that the caller of the program can wait for the stick to be
// left consistent.
//
// A job that ends stopped (the user's stop, or the program's context
// cancelled under it) also leaves that reason in shared, where the caller
// finds it even when the program ended before the outcome reached it.
func (j *writeJob) start(shared *oscShared, cfg *Config, src images.Source, stick Stick, sum *images.Checksum) tea.Cmd {
	target := stick.Path
	return func() tea.Msg {
		shared.jobs.Add(1)
		go func() {
			defer shared.jobs.Done()
			defer j.cancel()
			defer func() {
				if r := recover(); r != nil {
					j.done <- jobOutcome{result: images.Result{Target: target, Err: internalError(r)}}
				}
			}()
			// A block map beside the image limits writing and verifying to
			// what the image holds, as osc write does; a damaged one stops
			// the write with its reason.
			bmap, err := images.BmapFor(src, "")
			if err != nil {
				j.done <- jobOutcome{result: images.Result{Target: target, Err: err}}
				return
			}
			res := cfg.Write(j.ctx, src, target, images.Options{Verify: true, Progress: j.report, Bmap: bmap, Checksum: sum})
			if exitcode.KindOf(res.Err) == exitcode.Aborted {
				shared.fail(exitcode.New(exitcode.Aborted, "%s", stoppedText(stick.Name, res.Changed)))
			}
			j.done <- jobOutcome{result: res}
		}()
		return j.next()()
	}
}

// stoppedText says what a stopped job left behind: nothing changed before
// the write began, else a stick that must not be used.
func stoppedText(stick string, wrote bool) string {
	if !wrote {
		return fmt.Sprintf("stopped before writing: %s was not changed", stick)
	}
	return fmt.Sprintf("writing stopped: %s is incomplete and will not boot; write it again before you use it", stick)
}

// report replaces any report the program has not taken yet.
func (j *writeJob) report(p images.Progress) {
	widget.Offer(j.progress, p)
}

// next waits for the next report or the outcome.
func (j *writeJob) next() tea.Cmd {
	return func() tea.Msg {
		select {
		case out := <-j.done:
			return jobDoneMsg{tag: j.tag, out: out}
		case p := <-j.progress:
			return jobProgressMsg{tag: j.tag, p: p}
		}
	}
}
