package lab

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

// LoadConfig describes a load test: Devices simulated devices, at most
// Concurrency at a time, each doing the full one-time-password enrollment
// of the real client (cacerts, token check, key and CSR, simpleenroll,
// atomic saves) into its own root below WorkDir.
type LoadConfig struct {
	Addr        string   // HOST:PORT of the lab
	Token       string   // communication token
	Keys        []string // one key per device; a single key is shared (mass deployment)
	Devices     int
	Concurrency int
	WorkDir     string
	UnitBase    int64 // Unit IDs are UnitBase+i in hex
}

// LoadReport is the outcome of a load test.
type LoadReport struct {
	Devices, OK int
	Failures    map[string]int // by code or error text
	P50, P99    time.Duration  // per-enrollment latency of the successful ones
	Max         time.Duration
	Wall        time.Duration
}

// Throughput is successful enrollments per second of wall time.
func (r LoadReport) Throughput() float64 {
	if r.Wall <= 0 {
		return 0
	}
	return float64(r.OK) / r.Wall.Seconds()
}

func (r LoadReport) String() string {
	var fails []string
	for k, n := range r.Failures {
		fails = append(fails, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(fails)
	return fmt.Sprintf("devices=%d ok=%d failed=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f wall_s=%.2f throughput_per_s=%.1f%s",
		r.Devices, r.OK, r.Devices-r.OK, ms(r.P50), ms(r.P99), ms(r.Max), r.Wall.Seconds(), r.Throughput(),
		map[bool]string{true: " failures=" + strings.Join(fails, ","), false: ""}[len(fails) > 0])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// RunLoad runs the load test; all devices start together (up to
// Concurrency) so the server sees them concurrently.
func RunLoad(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return LoadReport{}, fmt.Errorf("address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return LoadReport{}, fmt.Errorf("port %q: %w", portStr, err)
	}
	if cfg.Devices < 1 || len(cfg.Keys) == 0 || (len(cfg.Keys) > 1 && len(cfg.Keys) < cfg.Devices) {
		return LoadReport{}, fmt.Errorf("%d devices need one key each or one shared key, have %d", cfg.Devices, len(cfg.Keys))
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = cfg.Devices
	}
	lat := make([]time.Duration, cfg.Devices)
	errs := make([]error, cfg.Devices)
	sem := make(chan struct{}, cfg.Concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < cfg.Devices; i++ {
		key := cfg.Keys[0]
		if len(cfg.Keys) > 1 {
			key = cfg.Keys[i]
		}
		id := strings.ToUpper(fmt.Sprintf("%012x", cfg.UnitBase+int64(i)))
		c := onboard.NewClient(filepath.Join(cfg.WorkDir, id), onboard.WithUnitID(id))
		req := onboard.ServerRequest{Server: host, Port: port, OTP: key, Token: cfg.Token}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			_, errs[i] = c.ByServer(ctx, req)
			lat[i] = time.Since(t0)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	rep := LoadReport{Devices: cfg.Devices, Wall: time.Since(t0), Failures: map[string]int{}}
	var okLat []time.Duration
	for i, err := range errs {
		if err == nil {
			okLat = append(okLat, lat[i])
			continue
		}
		if code, ok := onboard.CodeOf(err); ok {
			rep.Failures[strconv.Itoa(int(code))]++
		} else {
			rep.Failures[err.Error()]++
		}
	}
	rep.OK = len(okLat)
	rep.P50, rep.P99, rep.Max = Percentile(okLat, 50), Percentile(okLat, 99), Percentile(okLat, 100)
	return rep, ctx.Err()
}

// Percentile is the nearest-rank percentile p (0-100) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(s) {
		rank = len(s) - 1
	}
	return s[rank]
}
