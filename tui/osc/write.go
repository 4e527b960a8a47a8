package osc

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// stage is where step 4 is.
type stage int

const (
	stageLookup  stage = iota // looking for a checksum file
	stageMeasure              // reading a compressed image through to learn its size: the stick is not changed yet
	stageWrite                // writing, the image checked against its checksum on the way
	stageVerify
	stageDone   // Write returned: synced and verified
	stageFailed // the lookup or the write failed, or the user stopped it
)

// writePage is step 4: the checksum check, the write and the read-back with
// their progress, then the outcome. Success is shown only once Write has
// returned, that is after the stick was synced and read back.
type writePage struct {
	env   env
	image images.Source
	stick Stick
	check images.TargetCheck
	tag   int64
	job   *writeJob

	stage    stage
	sum      *images.Checksum // the published checksum the image is checked against; nil: none
	prog     images.Progress
	failedAt stage // the stage that failed
	err      error
	result   images.Result
	asking   bool // "Stop writing?" is open
	askFocus int  // 0 Keep writing (default), 1 Stop and quit
	stopping bool // the user chose to stop: waiting for the job to end, then quit
	support  widget.Support
}

func newWritePage(e env, image images.Source, stick Stick, check images.TargetCheck) writePage {
	return writePage{env: e, image: image, stick: stick, check: check}
}

func (p *writePage) enter() tea.Cmd {
	p.tag = widget.NextTag()
	return lookUpChecksum(p.tag, p.image.Path)
}

// busy reports whether leaving now would leave a half-written stick.
func (p writePage) busy() bool { return p.stage < stageDone }

// askStop opens "Stop writing?" (once stopping, there is nothing to ask).
func (p writePage) askStop() (writePage, tea.Cmd) {
	if p.stopping {
		return p, nil
	}
	p.asking, p.askFocus = true, 0
	return p, nil
}

// stop cancels the job; the program ends once the job has returned, that is
// once the start of the stick was cleared so it cannot boot half an image.
func (p writePage) stop() (writePage, tea.Cmd) {
	p.asking, p.stopping = false, true
	if p.job != nil {
		p.job.cancel()
		return p, nil
	}
	// The checksum lookup is still running: nothing was started.
	p.tag = widget.NextTag()
	return p.finish(jobOutcome{checksumErr: exitcode.New(exitcode.Aborted, "stopped before writing")})
}

// updateQuestion answers "Stop writing?".
func (p writePage) updateQuestion(msg tea.KeyMsg) (writePage, tea.Cmd) {
	switch msg.String() {
	case "left", "right", "tab", "shift+tab", "h", "l":
		p.askFocus = 1 - p.askFocus
	case "esc", "n":
		p.asking = false
	case "ctrl+c": // a second ctrl+c means it
		return p.stop()
	case "enter", " ":
		if p.askFocus == 1 {
			return p.stop()
		}
		p.asking = false
	}
	return p, nil
}

func (p writePage) update(msg tea.Msg) (writePage, tea.Cmd) {
	switch msg := msg.(type) {
	case checksumFoundMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		if msg.err != nil {
			return p.finish(jobOutcome{checksumErr: msg.err})
		}
		p.sum = msg.sum
		p.stage = stageWrite
		p.job = newWriteJob(p.env.cfg.Context, p.tag)
		return p, p.job.start(p.env.shared, p.env.cfg, p.image, p.stick, msg.sum)
	case jobProgressMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		p.prog = msg.p
		switch msg.p.Phase {
		case images.PhaseMeasure:
			p.stage = stageMeasure
		case images.PhaseWrite:
			p.stage = stageWrite
		case images.PhaseVerify, images.PhaseDone:
			p.stage = stageVerify
		}
		return p, p.job.next()
	case jobDoneMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		return p.finish(msg.out)
	case widget.SupportSavedMsg:
		p.support.Update(msg)
		return p, nil
	case tea.KeyMsg:
		if p.asking {
			return p.updateQuestion(msg)
		}
		if p.busy() {
			return p, nil
		}
		switch msg.String() {
		case "enter":
			return p, send(writeAnotherMsg{image: p.image})
		case "r":
			if p.stage == stageFailed {
				return p, send(retryMsg{image: p.image, stick: p.stick})
			}
		case widget.SupportKey:
			if p.stage == stageFailed {
				return p, p.support.Start(p.env.cfg.Context, p.env.cfg.SaveSupport, p.stick.Path)
			}
		}
	}
	return p, nil
}

// finish records how the job ended. After "Stop and quit" a stopped job
// ends the program, leaving the reason for the caller; a job that finished
// anyway (the stop came too late) shows its outcome instead.
func (p writePage) finish(out jobOutcome) (writePage, tea.Cmd) {
	p.result = out.result
	switch {
	case out.checksumErr != nil:
		p.stage, p.failedAt, p.err = stageFailed, stageLookup, out.checksumErr
	case out.result.Err != nil:
		p.failedAt = max(p.stage, stageWrite)
		if !out.result.Changed {
			p.failedAt = min(p.stage, stageMeasure)
		}
		if exitcode.KindOf(out.result.Err) == exitcode.VerifyFailed {
			p.failedAt = stageVerify
		}
		p.stage, p.err = stageFailed, out.result.Err
	default:
		p.stage = stageDone
	}
	p.asking = false
	if !p.stopping || exitcode.KindOf(p.err) != exitcode.Aborted {
		return p, nil
	}
	p.env.shared.fail(exitcode.New(exitcode.Aborted, "%s", p.abortedText()))
	return p, send(quitMsg{})
}

// abortedText says what a stopped write left behind.
func (p writePage) abortedText() string {
	return stoppedText(p.stick.Name, p.changed())
}

// changed says whether the failed job changed the stick.
func (p writePage) changed() bool { return p.failedAt >= stageWrite }

func (p writePage) view(w int, _ string) (string, []widget.KeyHelp) {
	th := p.env.cfg.Theme
	var b strings.Builder
	title := fmt.Sprintf("Writing %s to %s", imageName(p.image), p.stick.Name)
	switch p.stage {
	case stageDone:
		title = fmt.Sprintf("%s was written to %s", imageName(p.image), p.stick.Name)
	case stageFailed:
		if exitcode.KindOf(p.err) == exitcode.Aborted {
			title += ": stopped"
		} else {
			title += ": failed"
		}
	}
	b.WriteString(th.Heading.Render(title) + "\n\n")
	b.WriteString(p.steps())

	switch p.stage {
	case stageDone:
		b.WriteString(p.successView())
		return b.String(), []widget.KeyHelp{{Key: "enter", Does: "write another stick"}, {Key: "q", Does: "quit"}}
	case stageFailed:
		b.WriteString(p.failureView())
		help := []widget.KeyHelp{{Key: "r", Does: "try again"}, {Key: "enter", Does: "choose another stick"}, {Key: "q", Does: "quit"}}
		if p.env.cfg.SaveSupport != nil {
			// The writer's screens are English; the texts come from the
			// catalog the installer's screens share.
			t := i18n.For("en").T
			if v := p.support.View(th, t, w); v != "" {
				b.WriteString("\n\n" + v)
			}
			help = append(help, p.support.Help(t))
		}
		return b.String(), help
	}
	b.WriteString(p.progressView(w) + "\n")
	switch {
	case p.asking:
		b.WriteString(th.Warning.Render("Stop writing?") + " " + p.stick.Name + " will be incomplete and will not boot until it is written again.\n\n")
		b.WriteString(th.Buttons([]string{"Keep writing", "Stop and quit"}, p.askFocus))
		return b.String(), []widget.KeyHelp{{Key: "left/right", Does: "choose"}, {Key: "enter", Does: "select"}, {Key: "esc", Does: "keep writing"}}
	case p.stopping:
		b.WriteString(th.Warning.Render("Stopping"+th.Ellipsis) + " " + p.stick.Name + " will be incomplete and will not boot until it is written again.")
		return b.String(), nil
	}
	b.WriteString(th.Muted.Render("Do not remove the stick while osc writes. It tells you when it is safe."))
	return b.String(), []widget.KeyHelp{{Key: "ctrl+c", Does: "stop"}}
}

// steps is the checklist of step 4.
func (p writePage) steps() string {
	th := p.env.cfg.Theme
	mark := func(s stage) string {
		switch {
		case p.stage == stageFailed && p.failedAt == s:
			return th.Error.Render(th.Failed)
		case p.stage == stageFailed && s > p.failedAt:
			return th.Muted.Render(th.Pending)
		case p.stage == s:
			return th.Selected.Render(th.Active)
		case p.stage > s:
			return th.Success.Render(th.Done)
		}
		return th.Muted.Render(th.Pending)
	}
	// The image is checked as it is written, before its first MiB is: the
	// check is under way while writing and done once verifying begins.
	checkMark := func() string {
		switch {
		case p.stage == stageFailed && (p.failedAt == stageLookup || exitcode.KindOf(p.err) == exitcode.ImageInvalid):
			return th.Error.Render(th.Failed)
		case p.stage == stageFailed && p.failedAt >= stageVerify, p.stage == stageVerify, p.stage == stageDone:
			return th.Success.Render(th.Done)
		case p.stage == stageMeasure, p.stage == stageWrite:
			return th.Selected.Render(th.Active)
		}
		return th.Muted.Render(th.Pending)
	}
	var lines []string
	switch {
	case p.sum != nil:
		lines = append(lines, checkMark()+" Check the image against "+filepath.Base(p.sum.From))
	case p.stage == stageLookup || (p.stage == stageFailed && p.failedAt == stageLookup):
		lines = append(lines, mark(stageLookup)+" Check the image against its published checksum")
	default:
		lines = append(lines, th.Muted.Render(th.Skipped+" No checksum file (.sha256, SHA256SUMS) lists the image: not checked"))
	}
	lines = append(lines,
		mark(stageWrite)+" Write the image to the stick",
		mark(stageVerify)+" Read the stick back and compare it with the image")
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

func (p writePage) progressView(w int) string {
	th := p.env.cfg.Theme
	tr := i18n.For("en")
	label := map[stage]string{stageLookup: "Preparing", stageMeasure: tr.T("write.reading"), stageWrite: "Writing", stageVerify: "Verifying"}[p.stage]
	v := widget.ProgressView(th, w, label, p.prog, " of ", func(eta time.Duration) string { return "about " + widget.FormatDuration(eta) + " left" })
	note := ""
	switch {
	case p.stage == stageMeasure:
		note = tr.T("write.measure")
	case p.prog.Mapped > 0 && p.prog.Total > 0:
		note = tr.T("write.bmap", blockdev.HumanSize(p.prog.Mapped), blockdev.HumanSize(p.prog.Total))
	}
	if note != "" {
		v = strings.TrimRight(v, "\n") + "\n\n" + th.Muted.Render(note) + "\n"
	}
	return v
}

func (p writePage) successView() string {
	th := p.env.cfg.Theme
	var b strings.Builder
	switch {
	case p.result.Verified && p.result.Mapped > 0:
		fmt.Fprintf(&b, "\n%s\n\n", i18n.For("en").T("write.bmap_done", p.stick.Name, imageName(p.image),
			blockdev.HumanSize(p.result.Mapped), blockdev.HumanSize(p.result.Bytes)))
	case p.result.Verified:
		fmt.Fprintf(&b, "\nWritten and read back: %s holds exactly %s (%s).\n\n", p.stick.Name, imageName(p.image), blockdev.HumanSize(p.result.Bytes))
	default:
		fmt.Fprintf(&b, "\nWritten: %s of %s.\n\n", blockdev.HumanSize(p.result.Bytes), imageName(p.image))
	}
	b.WriteString(th.Success.Render("It is now safe to remove the USB stick.") + "\n")
	for _, wmsg := range p.result.Warnings {
		b.WriteString("\n" + th.Warning.Render(th.Warn) + " " + wmsg)
	}
	if len(p.result.Warnings) == 0 {
		b.WriteString("\nBoot the target device from it to install the base system.")
	}
	return b.String()
}

// failureView says what happened and what to do about it.
func (p writePage) failureView() string {
	th := p.env.cfg.Theme
	var what, todo string
	switch exitcode.KindOf(p.err) {
	case exitcode.Aborted:
		what = "Stopped."
		todo = capitalize(p.abortedText()) + "."
		if p.changed() {
			todo = fmt.Sprintf("%s is incomplete and will not boot: write it again before you use it.", p.stick.Name)
		}
	case exitcode.VerifyFailed:
		what = "Verification failed: the stick does not hold what was written."
		todo = "The stick may be faulty or counterfeit (claiming more space than it has). Do not use it: try another stick."
	case exitcode.ImageInvalid:
		what = "The image is damaged or incomplete."
		todo = "Download the image again (and its checksum file), then write it again. The stick was not changed."
		if p.changed() {
			todo = "Download the image again, then write it again. The stick is incomplete and will not boot."
		}
	case exitcode.Refused:
		what = "osc refused to write to the stick."
		todo = "Choose another stick, or remove the cause named above and try again."
	default:
		what = "Writing failed."
		todo = "Check that the stick is still plugged in and try again; if it fails again, try another stick or another USB port."
	}
	var b strings.Builder
	b.WriteString("\n" + th.Error.Render(th.Warn+" "+what) + "\n")
	b.WriteString(p.err.Error() + "\n\n")
	b.WriteString(th.Heading.Render("What to do: ") + todo)
	for _, wmsg := range p.result.Warnings {
		b.WriteString("\n" + th.Warning.Render(th.Warn) + " " + wmsg)
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
