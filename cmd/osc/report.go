package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// reporter tells the user what a write is doing: JSON lines on stdout for
// scripts, or progress bars and result lines on stderr for humans.
type reporter struct {
	s     streams
	json  bool
	tty   bool
	mu    sync.Mutex
	enc   *json.Encoder
	lines map[string]string // last bar per target, in order of first report
	order []string
	last  map[string]images.Phase
	drawn int // bar lines currently on screen
}

func newReporter(s streams, asJSON bool) *reporter {
	return &reporter{s: s, json: asJSON, tty: cli.IsTerminal(s.err), enc: json.NewEncoder(s.out),
		lines: map[string]string{}, last: map[string]images.Phase{}}
}

type event struct {
	Event    string   `json:"event"`
	Target   string   `json:"target,omitempty"`
	Phase    string   `json:"phase,omitempty"`
	Bytes    *int64   `json:"bytes,omitempty"`
	Total    *int64   `json:"total,omitempty"`
	Mapped   int64    `json:"mapped,omitempty"`
	Rate     *float64 `json:"rate,omitempty"`
	ETA      *float64 `json:"eta_s,omitempty"`
	Verified *bool    `json:"verified,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Code     *int     `json:"code,omitempty"`
	Message  string   `json:"message,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

func (r *reporter) emit(e event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(e)
}

// say prints a line for humans above the progress bars.
func (r *reporter) say(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clearBars()
	fmt.Fprintln(r.s.err, line)
	r.drawBars()
}

func (r *reporter) info(msg string) {
	if r.json {
		r.emit(event{Event: "info", Message: msg})
		return
	}
	r.say(msg)
}

func (r *reporter) warning(target, msg string) {
	if r.json {
		r.emit(event{Event: "warning", Target: target, Message: msg})
		return
	}
	r.say("Warning: " + msg)
}

// fatal reports an error that stops everything before writing; nil passes.
func (r *reporter) fatal(err error) error {
	if err != nil && r.json {
		k := exitcode.KindOf(err)
		code := k.Code()
		r.emit(event{Event: "error", Kind: k.String(), Code: &code, Message: err.Error()})
	}
	return err
}

func (r *reporter) checksumProgress(image string) func(done, total int64) {
	var meter = time.Now()
	var lastDraw time.Time
	return func(done, total int64) {
		now := time.Now()
		if done < total && now.Sub(lastDraw) < 200*time.Millisecond {
			return
		}
		lastDraw = now
		rate := float64(done) / max(now.Sub(meter).Seconds(), 1e-3)
		r.progress(images.Progress{Phase: images.PhaseChecksum, Target: image, Bytes: done, Total: total, Rate: rate, ETA: -1})
	}
}

func (r *reporter) progress(p images.Progress) {
	if r.json {
		e := event{Event: "progress", Target: p.Target, Phase: string(p.Phase), Bytes: &p.Bytes, Total: &p.Total, Mapped: p.Mapped, Rate: &p.Rate}
		if p.ETA >= 0 {
			s := p.ETA.Seconds()
			e.ETA = &s
		}
		r.emit(e)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.lines[p.Target]; !ok {
		r.order = append(r.order, p.Target)
	}
	r.lines[p.Target] = bar(p)
	if r.tty {
		r.clearBars()
		r.drawBars()
		return
	}
	// Not a terminal (a log): one line when a phase starts and when it ends.
	if r.last[p.Target] != p.Phase || (p.Total > 0 && p.Bytes == p.Total) {
		if r.last[p.Target] != p.Phase || p.Phase != images.PhaseDone {
			fmt.Fprintln(r.s.err, r.lines[p.Target])
		}
		r.last[p.Target] = p.Phase
	}
}

func (r *reporter) clearBars() {
	if r.tty && r.drawn > 0 {
		fmt.Fprintf(r.s.err, "\x1b[%dA\x1b[J", r.drawn)
		r.drawn = 0
	}
}

func (r *reporter) drawBars() {
	if !r.tty {
		return
	}
	for _, t := range r.order {
		fmt.Fprintln(r.s.err, r.lines[t])
	}
	r.drawn = len(r.order)
}

// bar renders one target's progress in at most 80 columns.
func bar(p images.Progress) string {
	name := p.Target
	if len(name) > 16 {
		name = "…" + name[len(name)-15:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-8s ", name, p.Phase)
	if p.Total > 0 {
		frac := min(float64(p.Bytes)/float64(p.Total), 1)
		const width = 20
		fill := int(frac * width)
		fmt.Fprintf(&b, "%3d%% [%s%s] ", int(frac*100), strings.Repeat("#", fill), strings.Repeat("-", width-fill))
	}
	fmt.Fprintf(&b, "%s", blockdev.HumanSize(p.Bytes))
	if p.Rate > 0 && p.Phase != images.PhaseDone {
		fmt.Fprintf(&b, "  %s/s", blockdev.HumanSize(int64(p.Rate)))
	}
	if p.ETA >= 0 && p.Phase != images.PhaseDone {
		fmt.Fprintf(&b, "  ETA %d:%02d", int(p.ETA.Minutes()), int(p.ETA.Seconds())%60)
	}
	return b.String()
}

// results reports one line per target and returns the error of the run: nil
// when every target succeeded, else the first failure's kind (an interrupt
// wins, so Ctrl-C always exits 130).
func (r *reporter) results(rs []images.Result) error {
	var worst error
	for _, res := range rs {
		for _, w := range res.Warnings {
			r.warning(res.Target, w)
		}
		if res.Err != nil {
			k := exitcode.KindOf(res.Err)
			if worst == nil || k == exitcode.Aborted {
				worst = exitcode.Wrap(k, cli.ErrReported)
			}
			if r.json {
				code := k.Code()
				r.emit(event{Event: "error", Target: res.Target, Kind: k.String(), Code: &code, Message: res.Err.Error()})
			} else {
				r.say(fmt.Sprintf("FAILED %s: %v", res.Target, res.Err))
			}
			continue
		}
		if r.json {
			n, v := res.Bytes, res.Verified
			r.emit(event{Event: "done", Target: res.Target, Bytes: &n, Mapped: res.Mapped, Verified: &v})
			continue
		}
		how := "written"
		if res.Verified {
			how = "written and verified"
		}
		if res.Mapped > 0 {
			how += fmt.Sprintf(" (%s of it mapped by the bmap)", blockdev.HumanSize(res.Mapped))
		}
		r.say(fmt.Sprintf("OK %s: %s %s. It is now safe to remove the stick.", res.Target, blockdev.HumanSize(res.Bytes), how))
	}
	return worst
}
