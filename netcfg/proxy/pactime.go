package proxy

import (
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
)

// The PAC date and time conditions as Netscape's PAC definition gives
// them (and browsers implement them): each takes an optional last
// argument "GMT" for UTC instead of local time, ranges are inclusive and
// wrap around (weekdayRange("FRI", "MON"), dateRange("DEC", "FEB"),
// timeRange(22, 6)). Wrong arguments make the condition false, as in
// browsers, rather than failing the file.

var pacWeekdays = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

var pacMonths = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8,
	"SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}

// pacClock splits off a trailing "GMT" and gives the time to compare with.
func pacClock(now time.Time, args []goja.Value) (time.Time, []goja.Value) {
	if n := len(args); n > 0 && args[n-1].String() == "GMT" {
		return now.UTC(), args[:n-1]
	}
	return now.Local(), args
}

// inRange is lo <= v <= hi, wrapping around when lo > hi.
func inRange(lo, v, hi int) bool {
	if lo <= hi {
		return lo <= v && v <= hi
	}
	return v >= lo || v <= hi
}

// weekdayRange(wd1 [, wd2] [, "GMT"]).
func weekdayRange(now time.Time, args []goja.Value) bool {
	t, args := pacClock(now, args)
	if len(args) < 1 || len(args) > 2 {
		return false
	}
	lo, ok1 := pacWeekdays[args[0].String()]
	hi, ok2 := lo, true
	if len(args) == 2 {
		hi, ok2 = pacWeekdays[args[1].String()]
	}
	return ok1 && ok2 && inRange(lo, int(t.Weekday()), hi)
}

// pacDate is one end of a dateRange: which of day, month, year it names.
type pacDate struct{ day, month, year int } // 0: not named

// parsePACDate reads one end's arguments (day 1..31, a month's name, a
// four-digit year), each kind at most once.
func parsePACDate(args []goja.Value) (pacDate, bool) {
	var d pacDate
	for _, a := range args {
		s := a.String()
		if m, ok := pacMonths[s]; ok {
			if d.month != 0 {
				return d, false
			}
			d.month = m
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		switch {
		case err != nil || n < 1:
			return d, false
		case n <= 31 && d.day == 0:
			d.day = n
		case n > 31 && d.year == 0:
			d.year = n
		default:
			return d, false
		}
	}
	return d, true
}

// key is t's day, month and year as far as d names them, as one number
// that orders like the dates.
func (d pacDate) key(t time.Time) int {
	k := 0
	if d.year != 0 {
		k += t.Year() * 10000
	}
	if d.month != 0 {
		k += int(t.Month()) * 100
	}
	if d.day != 0 {
		k += t.Day()
	}
	return k
}

func (d pacDate) self() int { return d.year*10000 + d.month*100 + d.day }

// dateRange(day | month | year [, same kinds again for the range's end]
// [, "GMT"]): one end names day, month, year or a combination
// (dateRange(1, "JUN", 15, "AUG"), dateRange("JAN", 2026, "MAR", 2026)).
func dateRange(now time.Time, args []goja.Value) bool {
	t, args := pacClock(now, args)
	switch len(args) {
	case 1:
		d, ok := parsePACDate(args)
		return ok && d.key(t) == d.self()
	case 2, 4, 6:
	default:
		return false
	}
	lo, ok1 := parsePACDate(args[:len(args)/2])
	hi, ok2 := parsePACDate(args[len(args)/2:])
	if !ok1 || !ok2 || (lo.day == 0) != (hi.day == 0) || (lo.month == 0) != (hi.month == 0) || (lo.year == 0) != (hi.year == 0) {
		return false
	}
	return inRange(lo.self(), lo.key(t), hi.self())
}

// timeRange(hour | hour1, hour2 | h1, m1, h2, m2 | h1, m1, s1, h2, m2, s2
// [, "GMT"]): timeRange(9, 17) holds from 9:00 to 16:59:59, the minute
// and second forms up to and including their end.
func timeRange(now time.Time, args []goja.Value) bool {
	t, args := pacClock(now, args)
	n := make([]int, len(args))
	for i, a := range args {
		v, err := strconv.Atoi(strings.TrimSpace(a.String()))
		if err != nil || v < 0 || v > 59 || (v > 23 && (i == 0 || i == len(args)/2 || len(args) <= 2)) {
			return false
		}
		n[i] = v
	}
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	switch len(n) {
	case 1:
		return t.Hour() == n[0]
	case 2:
		if n[0] == n[1] {
			return t.Hour() == n[0]
		}
		return inRange(n[0]*3600, sec, n[1]*3600-1+boolInt(n[1] == 0)*86400)
	case 4:
		return inRange(n[0]*3600+n[1]*60, sec, n[2]*3600+n[3]*60+59)
	case 6:
		return inRange(n[0]*3600+n[1]*60+n[2], sec, n[3]*3600+n[4]*60+n[5])
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setPACTime gives vm the date and time conditions, judged at now.
func setPACTime(vm *goja.Runtime, now time.Time) {
	for name, f := range map[string]func(time.Time, []goja.Value) bool{
		"weekdayRange": weekdayRange, "dateRange": dateRange, "timeRange": timeRange} {
		_ = vm.Set(name, func(c goja.FunctionCall) goja.Value { return vm.ToValue(f(now, c.Arguments)) })
	}
}
