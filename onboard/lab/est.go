package lab

import (
	"crypto/sha256"
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
// key), consumes the key, registers the device and returns its
// certificate. Failed authentications spend the budgets of the source and
// of the Unit ID; past them the request is answered 429 unread. Every
// refused key gets the same answer, so nothing tells an unknown key from
// a used, disabled or foreign one. The certificate is signed only for a
// key that passed.
func (s *Server) simpleEnroll(w http.ResponseWriter, r *http.Request) {
	unitID, secret, ok := r.BasicAuth()
	if !ok {
		refuseAuth(w)
		return
	}
	if !onboard.ValidUnitID(unitID) {
		http.Error(w, "the user name must be the Unit ID (12 upper-case hexadecimal characters)", http.StatusBadRequest)
		return
	}
	source := sourceOf(r)
	now := time.Now()
	if wait := max(s.sources.wait(source, now), s.units.wait(unitID, now)); wait > 0 {
		s.log.Warn("enrollment rate-limited", "unit_id", unitID, "remote", source)
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
		http.Error(w, "too many failed attempts; try again later", http.StatusTooManyRequests)
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
	pub := sha256.Sum256(csr.RawSubjectPublicKeyInfo)
	if s.cfg.PendingEnrolls > 0 {
		if err := s.db.checkKey(r.Context(), unitID, secret, pub[:]); err != nil {
			s.refuseEnroll(w, unitID, source, err)
			return
		}
		if s.holdBack(unitID) {
			w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter/time.Second)))
			w.WriteHeader(http.StatusAccepted)
			return
		}
	}
	res, err := s.db.enroll(r.Context(), unitID, secret, pub[:], func() (*x509.Certificate, error) {
		return s.CA.IssueDevice(csr, unitID, newSerial())
	})
	if err != nil {
		s.refuseEnroll(w, unitID, source, err)
		return
	}
	body, err := onboard.EncodeCertsOnly(&x509.Certificate{Raw: res.Cert})
	if err != nil {
		s.log.Error("encode", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	serial := ""
	if cert, err := x509.ParseCertificate(res.Cert); err == nil {
		serial = cert.SerialNumber.Text(16)
	}
	if res.Replayed {
		s.log.Info("enrollment repeated", "unit_id", unitID, "serial", serial, "key_id", res.Key.ID)
	} else {
		s.log.Info("enrolled", "unit_id", unitID, "serial", serial, "key_id", res.Key.ID, "key_kind", res.Key.Kind)
	}
	writeCertsOnly(w, body)
}

// refuseEnroll answers a refused enrollment: key refusals all alike (and
// counted against source and Unit ID), the registry's reason as itself,
// internal failures without detail. The log keeps the real reason.
func (s *Server) refuseEnroll(w http.ResponseWriter, unitID, source string, err error) {
	switch {
	case isKeyRefusal(err):
		now := time.Now()
		s.sources.fail(source, now)
		s.units.fail(unitID, now)
		s.log.Warn("enrollment refused", "unit_id", unitID, "remote", source, "reason", err.Error())
		refuseAuth(w)
	case errors.Is(err, ErrDeviceExists):
		s.log.Warn("enrollment refused", "unit_id", unitID, "remote", source, "reason", err.Error())
		http.Error(w, err.Error(), http.StatusConflict)
	default:
		s.log.Error("enroll", "unit_id", unitID, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// refuseAuth is the one answer to missing or refused credentials.
func refuseAuth(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="ums-lab EST"`)
	http.Error(w, "the Unit ID and first-authentication key are not accepted", http.StatusUnauthorized)
}

func isKeyRefusal(err error) bool {
	for _, known := range []error{ErrUnknownKey, ErrKeyDisabled, ErrKeyUsed, ErrKeyBound} {
		if errors.Is(err, known) {
			return true
		}
	}
	return false
}

// simpleReenroll renews the certificate of a registered device that
// authenticates with its current certificate (mutual TLS).
func (s *Server) simpleReenroll(w http.ResponseWriter, r *http.Request) {
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

// readCSR reads the body, which limitBodies caps at maxCSR.
func readCSR(r *http.Request) (*x509.CertificateRequest, error) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errors.New("the CSR is too large")
	}
	if err != nil {
		return nil, fmt.Errorf("read the request: %w", err)
	}
	return onboard.ParseCSR(body)
}

// maxPendingUnits bounds the Unit IDs PendingEnrolls remembers.
const maxPendingUnits = 4096

// holdBack reports whether this request gets a 202 (Config.PendingEnrolls).
// Only requests with a good key get here. A full table first forgets the
// Unit IDs that are through; if it is still full, new ones are not held
// back (the 202s are a courtesy to tests, not a control).
func (s *Server) holdBack(unitID string) bool {
	if s.cfg.PendingEnrolls <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n, known := s.pending[unitID]
	if n >= s.cfg.PendingEnrolls {
		return false
	}
	if !known && len(s.pending) >= maxPendingUnits {
		for id, n := range s.pending {
			if n >= s.cfg.PendingEnrolls {
				delete(s.pending, id)
			}
		}
		if len(s.pending) >= maxPendingUnits {
			return false
		}
	}
	s.pending[unitID]++
	return true
}
