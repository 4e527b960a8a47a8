package sysconf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Detected is a time zone found automatically and where it came from.
type Detected struct {
	Zone   string
	Source string // "dhcp" (option 101) or "geoip"
}

// TimezoneDetector finds the device's time zone.
type TimezoneDetector interface {
	Detect(ctx context.Context) (Detected, error)
}

// ErrNoTimezone means no source knew the time zone.
var ErrNoTimezone = errors.New("the time zone could not be detected")

// Detector asks DHCP first (option 101, the tz name the lease carried),
// then a geo-IP service. Each answer must be a zone of Zones.
type Detector struct {
	// DHCP returns the tz name of the current lease's option 101, "" when
	// it had none.
	DHCP func(ctx context.Context) string
	// GeoIPURL answers GET with a tz name, as plain text or JSON with a
	// "timezone", "time_zone" or "tz" field; "" skips it.
	GeoIPURL string
	Client   *http.Client
	Zones    []Zone
}

// Detect tries the sources in order.
func (d Detector) Detect(ctx context.Context) (Detected, error) {
	if d.DHCP != nil {
		if z := strings.TrimSpace(d.DHCP(ctx)); z != "" && d.known(z) {
			return Detected{Zone: z, Source: "dhcp"}, nil
		}
	}
	if d.GeoIPURL == "" {
		return Detected{}, ErrNoTimezone
	}
	z, err := d.geoIP(ctx)
	if err != nil {
		return Detected{}, fmt.Errorf("%w: %v", ErrNoTimezone, err)
	}
	if !d.known(z) {
		return Detected{}, fmt.Errorf("%w: the geo-IP service answered %q, not a known time zone", ErrNoTimezone, z)
	}
	return Detected{Zone: z, Source: "geoip"}, nil
}

func (d Detector) known(z string) bool {
	if d.Zones == nil {
		return true
	}
	_, ok := FindZone(d.Zones, z)
	return ok
}

func (d Detector) geoIP(ctx context.Context) (string, error) {
	c := d.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.GeoIPURL, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the geo-IP service answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", err
	}
	return ParseGeoIP(body), nil
}

// ParseGeoIP takes the tz name out of a geo-IP answer: JSON with a
// timezone field, or the name alone.
func ParseGeoIP(body []byte) string {
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"timezone", "time_zone", "tz"} {
			if s, ok := obj[k].(string); ok {
				return strings.TrimSpace(s)
			}
			if m, ok := obj[k].(map[string]any); ok { // {"time_zone": {"name": ...}}
				if s, ok := m["name"].(string); ok {
					return strings.TrimSpace(s)
				}
			}
		}
		return ""
	}
	s := strings.TrimSpace(string(body))
	if strings.ContainsAny(s, " \n\t") {
		return ""
	}
	return s
}
