package sysconf

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// ParseClock reads a manual date ("2026-11-27") and time ("10:00" or
// "10:00:30") as a wall-clock time in loc. Impossible dates (February 30)
// and years outside 2000–2099 are refused: an RTC cannot hold them and
// nobody sets them by hand on purpose.
func ParseClock(date, clock string, loc *time.Location) (time.Time, error) {
	date, clock = strings.TrimSpace(date), strings.TrimSpace(clock)
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return time.Time{}, errors.New("date: use YYYY-MM-DD")
	}
	if d.Year() < 2000 || d.Year() > 2099 {
		return time.Time{}, errors.New("date: the year must be between 2000 and 2099")
	}
	layout := "15:04"
	if strings.Count(clock, ":") == 2 {
		layout = "15:04:05"
	}
	c, err := time.Parse(layout, clock)
	if err != nil {
		return time.Time{}, errors.New("time: use HH:MM")
	}
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), c.Second(), 0, loc), nil
}

// WriteAdjtime records that the RTC keeps UTC (/etc/adjtime, as hwclock and
// timedatectl read it).
func (r Root) WriteAdjtime() error {
	return r.write("/etc/adjtime", []byte("0.0 0 0.0\n0\nUTC\n"), 0o644)
}

// Clock sets the time of the running system.
type Clock interface {
	Set(t time.Time) error
}

// NoClock is the Clock of an offline root or a demo: it changes nothing.
type NoClock struct{}

// Set does nothing.
func (NoClock) Set(time.Time) error { return nil }

func symlink(r Root, target, p string) error {
	if err := atomicfile.SymlinkIn(r.dir(), target, p); err != nil {
		return fmt.Errorf("link %s: %w", p, err)
	}
	return nil
}
