package lab

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Config tunes a Server. The zero value is a usable lab.
type Config struct {
	// Hosts are the names and addresses the server certificate is valid
	// for; localhost, 127.0.0.1, ::1 and the host name are always added.
	Hosts []string
	// Logger receives one line per request and per enrollment; it never
	// sees keys, passwords or tokens. Nil discards.
	Logger *slog.Logger
	// PendingEnrolls answers the first N simpleenroll requests of each
	// Unit ID with "202 Accepted" and Retry-After (manual approval as a
	// real UMS may do; tests use it).
	PendingEnrolls int
	// RetryAfter is the Retry-After of those answers (default 1s).
	RetryAfter time.Duration
	// SignInTTL is how long a device-flow code is valid (default 10 min).
	SignInTTL time.Duration
	// PollInterval is the device-flow polling interval (default 5s, at
	// least 1s: RFC 8628 counts in seconds).
	PollInterval time.Duration
	// AutoApprove, when positive, approves every sign-in by itself this
	// long after it started, as if the user had signed in on a second
	// device (demos; ums-lab obs approve does it by hand).
	AutoApprove time.Duration
	// RootCA is the root certificate and ECDSA key StartInProcess makes a
	// new state's CA with, so the communication token is known beforehand
	// (the demo's fixed token); an existing state must have this root.
	// Nil makes a fresh root.
	RootCA *tls.Certificate
	// DeviceCertValidity is how long issued device certificates are valid
	// (default one year; tests of re-enrollment shorten it).
	DeviceCertValidity time.Duration
	// SourceLimit and UnitLimit are the budgets of failed enrollment
	// authentications per source address and per Unit ID (zero values:
	// DefaultSourceLimit, DefaultUnitLimit).
	SourceLimit, UnitLimit Limit
	// ShutdownGrace is how long requests in flight may take to finish
	// once serving is asked to stop (default 10s); then they are cut.
	ShutdownGrace time.Duration
}

// Server serves EST and the Onboarding Service from one State.
type Server struct {
	*State
	cfg  Config
	log  *slog.Logger
	cert tls.Certificate

	mu      sync.Mutex
	pending map[string]int // Unit ID → 202 answers given

	sources, units *limiter // failed enrollments per source and Unit ID

	done chan struct{} // closed when StartInProcess's serving has stopped
}

// NewServer prepares a server (and a fresh TLS certificate) for st.
func NewServer(st *State, cfg Config) (*Server, error) {
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = time.Second
	}
	if cfg.SignInTTL <= 0 {
		cfg.SignInTTL = 10 * time.Minute
	}
	if cfg.PollInterval < time.Second {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.SourceLimit.Burst <= 0 || cfg.SourceLimit.Every <= 0 {
		cfg.SourceLimit = DefaultSourceLimit
	}
	if cfg.UnitLimit.Burst <= 0 || cfg.UnitLimit.Every <= 0 {
		cfg.UnitLimit = DefaultUnitLimit
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 10 * time.Second
	}
	if r := cfg.RootCA; r != nil && (len(r.Certificate) == 0 || !bytes.Equal(r.Certificate[0], st.CA.Root.Raw)) {
		return nil, fmt.Errorf("the lab CA in %s has another root than the one given", st.Dir)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append(hosts, h)
	}
	hosts = append(hosts, cfg.Hosts...)
	st.CA.DeviceValidity = cfg.DeviceCertValidity
	cert, err := st.CA.ServerCertificate(hosts)
	if err != nil {
		return nil, err
	}
	return &Server{State: st, cfg: cfg, log: log, cert: cert, pending: map[string]int{},
		sources: newLimiter(cfg.SourceLimit), units: newLimiter(cfg.UnitLimit), done: make(chan struct{})}, nil
}

// TLSConfig is TLS 1.3 only; a client certificate is optional and, when
// sent, must chain to the lab root (simplereenroll needs one).
func (s *Server) TLSConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.CA.Root)
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{s.cert},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    pool,
	}
}

// Handler serves EST below /device-connector/device/.well-known/est/, the
// Onboarding Service below /onboarding/ and the test identity provider
// below /idp/; every request body is capped (limitBodies).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routesEST(mux)
	s.routesService(mux)
	s.routesCheckIn(mux)
	return s.logRequests(limitBodies(mux))
}

// Serve serves HTTPS on ln until ctx ends, then shuts down gracefully: it
// stops accepting, lets the requests in flight finish within
// Config.ShutdownGrace, cuts what is left and only then returns, so the
// caller may close the state.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	stopped := make(chan struct{}) // the shutdown below has finished
	serving := make(chan struct{}) // Serve has returned
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-serving:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			s.log.Warn("requests still running after the grace period were cut", "grace", s.cfg.ShutdownGrace)
			_ = hs.Close()
		}
	}()
	err := hs.Serve(tls.NewListener(ln, hs.TLSConfig))
	close(serving)
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// ServiceURL is the Onboarding Service base URL of a lab listening on addr.
func ServiceURL(addr string) string { return "https://" + addr + "/onboarding" }

// StartInProcess opens (creating) the state in dir and serves it on a free
// port of 127.0.0.1 until ctx ends (setup-assistant --demo, tests). It
// returns the server and its address (HOST:PORT); the state is closed when
// serving stops.
func StartInProcess(ctx context.Context, dir string, cfg Config) (*Server, string, error) {
	st, err := openState(dir, cfg.RootCA)
	if err != nil {
		return nil, "", err
	}
	srv, err := NewServer(st, cfg)
	if err != nil {
		_ = st.Close()
		return nil, "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = st.Close()
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	go func() {
		defer close(srv.done)
		if err := srv.Serve(ctx, ln); err != nil {
			srv.log.Error("lab stopped", "err", err)
		}
		_ = st.Close()
	}()
	return srv, ln.Addr().String(), nil
}

// Done is closed when a server started by StartInProcess has stopped and
// closed its state.
func (s *Server) Done() <-chan struct{} { return s.done }

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, path, status, peer and duration: never headers
// or bodies, which carry keys and tokens.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"remote", r.RemoteAddr, "duration", time.Since(start).Round(time.Microsecond))
	})
}
