package onboard

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CheckInPath is where a UMS takes check-ins, below https://HOST:PORT; the
// device authenticates with its certificate (mutual TLS 1.3).
const CheckInPath = "/device-connector/device/checkin"

// MaxCheckIn bounds a check-in answer (its licenses).
const MaxCheckIn = 1 << 20

// CheckInRequest is what an enrolled device reports.
type CheckInRequest struct {
	UnitID       string `json:"unit_id"`
	AgentVersion string `json:"agent_version,omitempty"`
	OS           OSInfo `json:"os"`
	Facts        Facts  `json:"facts"`
}

// OSInfo is the reporting system's /etc/os-release.
type OSInfo struct {
	Name      string `json:"name,omitempty"`
	Version   string `json:"version,omitempty"`
	VersionID string `json:"version_id,omitempty"`
	Pretty    string `json:"pretty_name,omitempty"`
}

// Facts are a few things support asks about.
type Facts struct {
	Hostname      string `json:"hostname,omitempty"`
	MACs          []MAC  `json:"macs,omitempty"`
	Disks         []Disk `json:"disks,omitempty"`
	UptimeSeconds int64  `json:"uptime_seconds"`
}

// MAC is one network interface's hardware address.
type MAC struct {
	Interface string `json:"interface"`
	Address   string `json:"address"`
}

// Disk is one block device and its size.
type Disk struct {
	Name      string `json:"name"`
	SizeBytes int64  `json:"size_bytes"`
	Model     string `json:"model,omitempty"`
}

// CheckInResponse is the UMS's answer: the licenses assigned to the device
// (license documents, see package license) and its time.
type CheckInResponse struct {
	UnitID     string            `json:"unit_id"`
	ServerTime time.Time         `json:"server_time"`
	Licenses   []json.RawMessage `json:"licenses"`
}

// ErrRefused says the server refused the device's certificate: unknown to
// it, revoked, or not one of its CA's.
var ErrRefused = errors.New("the management server refused this device's certificate")

// CheckIn reports req to the UMS the device is enrolled with, as that
// device (mutual TLS 1.3 with the saved key and certificate, trusting only
// the saved root), and returns its answer. A refusal of the certificate
// (at the handshake or by the server) wraps ErrRefused with the server's
// reason; an unreachable server is an *Error with the connection code.
func (c *Client) CheckIn(ctx context.Context, req CheckInRequest) (CheckInResponse, error) {
	var out CheckInResponse
	en, err := LoadEnrollment(c.root)
	if err != nil {
		return out, err
	}
	root := en.Chain[len(en.Chain)-1]
	cfg := trustOnly(root, en.Chain, en.Info.Server)
	cfg.Certificates = []tls.Certificate{en.Cert}
	hc := c.httpClient(cfg, umsCodes, false)
	defer closeIdle(hc)
	body, err := json.Marshal(req)
	if err != nil {
		return out, fmt.Errorf("encode the check-in: %w", err)
	}
	url := "https://" + net.JoinHostPort(en.Info.Server, strconv.Itoa(en.Info.Port)) + CheckInPath
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return out, fmt.Errorf("check-in request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(hreq)
	if err != nil {
		// A TLS 1.3 server checks the client certificate after the
		// client's handshake is done: its refusal arrives as an alert on
		// the first read.
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "remote error" {
			return out, fmt.Errorf("%w (TLS alert: %v)", ErrRefused, op.Err)
		}
		return out, asError(ctx, err, CodeTLSConnect, "check in with %s", url)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxCheckIn+1))
	if err != nil {
		return out, fmt.Errorf("read the check-in answer: %w", err)
	}
	if len(data) > MaxCheckIn {
		return out, fmt.Errorf("the check-in answer is larger than %d bytes", MaxCheckIn)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return out, fmt.Errorf("%w: %s", ErrRefused, serverText(data))
	case resp.StatusCode != http.StatusOK:
		return out, fmt.Errorf("check-in: the server answered %s: %s", resp.Status, serverText(data))
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return out, fmt.Errorf("parse the check-in answer: %w", err)
	}
	if out.UnitID != req.UnitID {
		return out, fmt.Errorf("the check-in answer is for %q, not %q", out.UnitID, req.UnitID)
	}
	c.log.Info("checked in", "unit_id", req.UnitID, "licenses", len(out.Licenses))
	return out, nil
}

// serverText is a server's short plain-text reason, printable and bounded.
func serverText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
