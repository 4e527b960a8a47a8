package lab

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

// estPrefix is where a UMS serves EST.
const estPrefix = "/device-connector/device/.well-known/est/"

// maxCSR bounds a simpleenroll body.
const maxCSR = 64 << 10

func (s *Server) routesEST(mux *http.ServeMux) {
	mux.HandleFunc("GET "+estPrefix+"cacerts", s.cacerts)
	mux.HandleFunc("POST "+estPrefix+"simpleenroll", s.simpleEnroll)
	mux.HandleFunc("POST "+estPrefix+"simplereenroll", s.simpleReenroll)
}

func (s *Server) cacerts(w http.ResponseWriter, _ *http.Request) {
	body, err := onboard.EncodeCertsOnly(s.CA.Chain()...)
	if err != nil {
		s.log.Error("cacerts", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeCertsOnly(w, body)
}

func writeCertsOnly(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
	w.Header().Set("Content-Transfer-Encoding", "base64")
	_, _ = w.Write(body)
}

// simpleEnroll authenticates with Basic auth (Unit ID, first-authentication
// key), consumes the key, registers the device and returns its certificate.
func (s *Server) simpleEnroll(w http.ResponseWriter, r *http.Request) {
	unitID, secret, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="ums-lab EST"`)
		http.Error(w, "authentication required: user = Unit ID, password = first-authentication key", http.StatusUnauthorized)
		return
	}
	if !onboard.ValidUnitID(unitID) {
		http.Error(w, "the user name must be the Unit ID (12 upper-case hexadecimal characters)", http.StatusBadRequest)
		return
	}
	csr, err := readCSR(r)
	if err != nil || csr.Subject.CommonName != unitID {
		if err == nil {
			err = fmt.Errorf("the CSR's common name %q is not the Unit ID", csr.Subject.CommonName)
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.holdBack(unitID) {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
		w.WriteHeader(http.StatusAccepted)
		return
	}
	// The certificate is signed before the key is consumed: if signing
	// failed after the commit, the device would be registered without a
	// certificate and its next attempt refused as existing.
	serial := newSerial()
	cert, err := s.CA.IssueDevice(csr, unitID, serial)
	if err != nil {
		s.log.Error("issue", "unit_id", unitID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	key, err := s.db.enroll(r.Context(), unitID, secret, serial.Text(16))
	if err != nil {
		status := refusalStatus(err)
		s.log.Warn("enrollment refused", "unit_id", unitID, "reason", err.Error(), "status", status)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="ums-lab EST"`)
		}
		http.Error(w, refusalText(err), status)
		return
	}
	body, err := onboard.EncodeCertsOnly(cert)
	if err != nil {
		s.log.Error("encode", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.log.Info("enrolled", "unit_id", unitID, "serial", serial.Text(16), "key_id", key.ID, "key_kind", key.Kind)
	writeCertsOnly(w, body)
}

// simpleReenroll renews the certificate of a registered device that
// authenticates with its current certificate (mutual TLS).
func (s *Server) simpleReenroll(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		http.Error(w, "re-enrollment needs the device certificate (mutual TLS)", http.StatusUnauthorized)
		return
	}
	unitID, _, ok := s.deviceCert(w, r)
	if !ok {
		return
	}
	old := r.TLS.VerifiedChains[0][0]
	csr, err := readCSR(r)
	if err != nil || csr.Subject.CommonName != unitID {
		if err == nil {
			err = fmt.Errorf("the CSR's common name %q is not the certificate's %q", csr.Subject.CommonName, unitID)
		}
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	serial := newSerial()
	cert, err := s.CA.IssueDevice(csr, unitID, serial)
	if err != nil {
		s.log.Error("issue", "unit_id", unitID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := s.db.renew(r.Context(), unitID, old.SerialNumber.Text(16), serial.Text(16)); err != nil {
		s.log.Warn("re-enrollment refused", "unit_id", unitID, "reason", err.Error())
		http.Error(w, "the device is not registered with this certificate", http.StatusForbidden)
		return
	}
	body, err := onboard.EncodeCertsOnly(cert)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s.log.Info("re-enrolled", "unit_id", unitID, "serial", serial.Text(16))
	writeCertsOnly(w, body)
}

func readCSR(r *http.Request) (*x509.CertificateRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCSR+1))
	if err != nil {
		return nil, fmt.Errorf("read the request: %w", err)
	}
	if len(body) > maxCSR {
		return nil, errors.New("the CSR is too large")
	}
	return onboard.ParseCSR(body)
}

// holdBack reports whether this request gets a 202 (Config.PendingEnrolls).
func (s *Server) holdBack(unitID string) bool {
	if s.cfg.PendingEnrolls <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[unitID] >= s.cfg.PendingEnrolls {
		return false
	}
	s.pending[unitID]++
	return true
}

func refusalStatus(err error) int {
	switch {
	case errors.Is(err, ErrUnknownKey):
		return http.StatusUnauthorized
	case errors.Is(err, ErrKeyDisabled), errors.Is(err, ErrKeyUsed), errors.Is(err, ErrKeyBound):
		return http.StatusForbidden
	case errors.Is(err, ErrDeviceExists):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

// refusalText is what the device is told: the reason for key and registry
// refusals, nothing about internal failures.
func refusalText(err error) string {
	for _, known := range []error{ErrUnknownKey, ErrKeyDisabled, ErrKeyUsed, ErrKeyBound, ErrDeviceExists} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "internal error"
}
