package demo

import (
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// The demo UMS and its Onboarding Service routing: the ums-lab reference
// server (onboard/lab) running in process, reached by the real onboarding
// client under the name a real UMS would have.
const (
	Server = "ums.example.com"
	Port   = 8443
	Domain = "example.com" // e-mail domain mapped to the demo UMS, with sign-in
	Keys   = 5             // one-time keys: OneTimeKey(1) to OneTimeKey(Keys)
)

// ServiceURL is the demo's Onboarding Service, served by the same lab.
var ServiceURL = lab.ServiceURL(net.JoinHostPort(Server, strconv.Itoa(Port)))

// demoCA is the demo UMS's root: a fixed key and certificate, so the
// communication token is the same in every demo run and in the examples.
// It secures nothing; never trust it outside the demo.
//
//go:embed demo-ca.pem
var demoCA []byte

// rootCA is the demo root with its key, as lab.Config.RootCA takes it.
func rootCA() (*tls.Certificate, error) {
	c, err := tls.X509KeyPair(demoCA, demoCA)
	if err != nil {
		return nil, fmt.Errorf("the demo CA: %w", err)
	}
	return &c, nil
}

// Token is the demo UMS's communication token (part 3 of the root
// fingerprint), upper case as users read it: 0439081D3038DE77.
func Token() string {
	for rest := demoCA; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			panic("the embedded demo CA has no certificate") // a build error in effect
		}
		if b.Type == "CERTIFICATE" {
			return strings.ToUpper(onboard.FingerprintOf(b.Bytes).Part(3))
		}
	}
}

// OneTimeKey is the demo's i-th first-authentication key.
func OneTimeKey(i int) string { return fmt.Sprintf("DEMO-OTP-%04d", i) }

// ums is the running lab: state in a temporary directory, served on
// 127.0.0.1 until close.
type ums struct {
	srv    *lab.Server
	addr   string // the listener, 127.0.0.1:PORT
	dir    string
	step   time.Duration
	cancel context.CancelFunc
	once   sync.Once
}

// startUMS starts the lab with the demo root, the one-time keys, and the
// domain mapping whose sign-in is approved by itself after a few steps.
func startUMS(step time.Duration) (*ums, error) {
	root, err := rootCA()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "onramp-demo-ums-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := lab.StartInProcess(ctx, dir, lab.Config{
		Hosts:        []string{Server},
		RootCA:       root,
		PollInterval: time.Second,
		AutoApprove:  max(3*step, time.Millisecond),
	})
	if err != nil {
		cancel()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start the demo UMS: %w", err)
	}
	u := &ums{srv: srv, addr: addr, dir: dir, step: step, cancel: cancel}
	if err := u.seed(ctx); err != nil {
		u.close()
		return nil, fmt.Errorf("prepare the demo UMS: %w", err)
	}
	return u, nil
}

func (u *ums) seed(ctx context.Context) error {
	for i := 1; i <= Keys; i++ {
		if _, _, err := u.srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime, Password: OneTimeKey(i)}); err != nil {
			return err
		}
	}
	return u.srv.Map(ctx, lab.Mapping{Kind: "domain", Value: Domain, SignIn: true})
}

// dial is the demo's network as the onboarding client sees it: Server
// resolves to the lab, which listens on Port only; every other name is
// unknown, so nothing leaves the machine. Each connection takes one step.
func (u *ums) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if u.step > 0 {
		t := time.NewTimer(u.step)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if !strings.EqualFold(strings.TrimSuffix(host, "."), Server) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	if port != strconv.Itoa(Port) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", u.addr)
}

// close stops the lab and removes its state.
func (u *ums) close() {
	u.once.Do(func() {
		u.cancel()
		select {
		case <-u.srv.Done():
		case <-time.After(10 * time.Second):
		}
		_ = os.RemoveAll(u.dir)
	})
}
