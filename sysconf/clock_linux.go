package sysconf

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// SystemClock sets the kernel clock and the RTC (in UTC). It needs root.
type SystemClock struct {
	RTC string // default /dev/rtc0
}

// Set sets the system clock to t, then the RTC; a machine without an RTC
// keeps the system clock set.
func (c SystemClock) Set(t time.Time) error {
	tv := unix.NsecToTimeval(t.UnixNano())
	if err := unix.Settimeofday(&tv); err != nil {
		return fmt.Errorf("set the system clock: %w", err)
	}
	dev := c.RTC
	if dev == "" {
		dev = "/dev/rtc0"
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open the RTC: %w", err)
	}
	defer f.Close()
	u := t.UTC()
	rt := unix.RTCTime{Sec: int32(u.Second()), Min: int32(u.Minute()), Hour: int32(u.Hour()),
		Mday: int32(u.Day()), Mon: int32(u.Month()) - 1, Year: int32(u.Year()) - 1900}
	if err := unix.IoctlSetRTCTime(int(f.Fd()), &rt); err != nil {
		return fmt.Errorf("set the RTC: %w", err)
	}
	return nil
}
