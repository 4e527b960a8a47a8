package lab

import (
	"errors"
	"math"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

// Body limits: a CSR is a few hundred bytes, every form and JSON request a
// few dozen, a check-in a few hundred (a few kilobytes on a machine with
// many interfaces and disks).
const (
	maxCSR     = 64 << 10
	maxForm    = 4 << 10
	maxCheckIn = 64 << 10
)

// limitBodies caps every request body before a handler sees it: 64 KiB
// for EST and check-ins, 4 KiB for everything else. A handler reading past the cap gets
// an error (and the client 413 from requestTooLarge).
func limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(maxForm)
		switch {
		case strings.HasPrefix(r.URL.Path, estPrefix):
			limit = maxCSR
		case r.URL.Path == onboard.CheckInPath:
			limit = maxCheckIn
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// parseForm reads an application/x-www-form-urlencoded body (within the
// cap of limitBodies), the only kind OAuth and the sign-in page send.
// Other bodies, multipart included, are refused unread (415), one too
// large with 413; then it reports false.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		http.Error(w, "the body must be application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
		return false
	}
	err := r.ParseForm()
	if err == nil {
		return true
	}
	status := http.StatusBadRequest
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	http.Error(w, "invalid form", status)
	return false
}

// Limit is a budget of failures: Burst at once, then one more every Every.
type Limit struct {
	Burst int
	Every time.Duration
}

// Default budgets of failed enrollment authentications: per source
// address, and per Unit ID (whatever the source). A fleet enrolling
// correctly never touches them: only refusals count.
var (
	DefaultSourceLimit = Limit{Burst: 10, Every: 30 * time.Second}
	DefaultUnitLimit   = Limit{Burst: 5, Every: time.Minute}
)

// maxLimited bounds the entries a limiter keeps; past it, new names share
// one budget, which under a flood of sources limits them together.
const maxLimited = 16384

// limiter keeps a token bucket per name (a source address or a Unit ID),
// spent by failures.
type limiter struct {
	limit   Limit
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*bucket{}}
}

// refill brings b up to now and returns its tokens.
func (l *limiter) refill(b *bucket, now time.Time) float64 {
	b.tokens = math.Min(float64(l.limit.Burst), b.tokens+now.Sub(b.at).Seconds()/l.limit.Every.Seconds())
	b.at = now
	return b.tokens
}

// wait is how long name must wait before its next attempt: zero while it
// has budget left.
func (l *limiter) wait(name string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if !ok {
		if b, ok = l.buckets[""]; !ok || len(l.buckets) < maxLimited {
			return 0
		}
	}
	if t := l.refill(b, now); t < 1 {
		return time.Duration((1 - t) * float64(l.limit.Every))
	}
	return 0
}

// fail spends one token of name's budget.
func (l *limiter) fail(name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if !ok {
		if len(l.buckets) >= maxLimited {
			l.sweep(now)
		}
		if len(l.buckets) >= maxLimited {
			name = ""
		}
		if b, ok = l.buckets[name]; !ok {
			b = &bucket{tokens: float64(l.limit.Burst), at: now}
			l.buckets[name] = b
		}
	}
	l.refill(b, now)
	b.tokens--
}

// sweep drops the buckets that have refilled: they hold nothing a new one
// would not.
func (l *limiter) sweep(now time.Time) {
	for name, b := range l.buckets {
		if l.refill(b, now) >= float64(l.limit.Burst) {
			delete(l.buckets, name)
		}
	}
}

// sourceOf is the address part of a request's remote address.
func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
