package images

import "time"

// Phase is what a target is going through.
type Phase string

// The phases of a write, in order.
const (
	PhaseChecksum Phase = "checksum" // hashing an install payload against its manifest
	// PhaseMeasure reads through an image whose format does not record its
	// size, before a device that may be too small for it is touched.
	PhaseMeasure Phase = "measure"
	PhaseWrite   Phase = "write"
	PhaseVerify  Phase = "verify"
	PhaseDone    Phase = "done"
)

// Progress is one progress report for one target (or, in PhaseChecksum and
// PhaseMeasure, for the image itself: Target is its path, Bytes and Total
// count the bytes of its file).
type Progress struct {
	Target string
	Phase  Phase
	Bytes  int64
	Total  int64         // 0 when the image size is not known in advance
	Mapped int64         // with a bmap: the bytes of the image it maps, the only ones written and verified; else 0
	Rate   float64       // bytes per second over the last few seconds
	ETA    time.Duration // -1 when unknown
}

// rateMeter turns byte counts sampled over time into a rate over a sliding
// window, so a stall shows quickly and a burst does not dominate.
type rateMeter struct {
	window  time.Duration
	samples []rateSample
}

type rateSample struct {
	at    time.Time
	bytes int64
}

func newRateMeter() *rateMeter { return &rateMeter{window: 3 * time.Second} }

// add records bytes done at time now and returns the rate in bytes/s.
func (m *rateMeter) add(now time.Time, bytes int64) float64 {
	if n := len(m.samples); n > 0 && bytes < m.samples[n-1].bytes {
		m.samples = m.samples[:0] // a new phase started counting from zero
	}
	m.samples = append(m.samples, rateSample{now, bytes})
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) >= m.window {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	dt := now.Sub(first.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(bytes-first.bytes) / dt
}

func eta(done, total int64, rate float64) time.Duration {
	if total <= 0 || rate <= 0 || done > total {
		return -1
	}
	return time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
}

// reportProgress calls opt.Progress for every target at the configured
// interval until the returned stop function is called, which sends a last
// report for each target.
func (p *pipeline) reportProgress() (stop func()) {
	if p.opt.Progress == nil {
		return func() {}
	}
	meters := make([]*rateMeter, len(p.targets))
	for i := range meters {
		meters[i] = newRateMeter()
	}
	report := func(now time.Time) {
		for i, t := range p.targets {
			ph, _ := t.phase.Load().(Phase)
			done, total := t.written.Load(), p.total
			if done > total {
				total = 0 // the size was a lower bound: now unknown
			}
			if ph == PhaseVerify || ph == PhaseDone {
				done, total = t.verified.Load(), p.written
				if !p.opt.Verify {
					done = t.written.Load()
				}
			}
			rate := meters[i].add(now, done)
			p.opt.Progress(Progress{Target: t.path, Phase: ph, Bytes: done, Total: total, Mapped: p.mapped, Rate: rate, ETA: eta(done, total, rate)})
		}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(p.opt.ProgressInterval)
		defer tick.Stop()
		for {
			select {
			case now := <-tick.C:
				report(now)
			case <-quit:
				report(time.Now())
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
