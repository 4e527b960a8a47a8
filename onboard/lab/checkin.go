package lab

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

func (s *Server) routesCheckIn(mux *http.ServeMux) {
	mux.HandleFunc("POST "+onboard.CheckInPath, s.checkIn)
}

// deviceCert returns the Unit ID and serial of the verified client
// certificate, or answers 401/403 and returns ok false: no certificate,
// or one that is revoked or not the device's current one.
func (s *Server) deviceCert(w http.ResponseWriter, r *http.Request) (unitID, serial string, ok bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		http.Error(w, "this needs the device certificate (mutual TLS)", http.StatusUnauthorized)
		return "", "", false
	}
	cert := r.TLS.VerifiedChains[0][0]
	unitID, serial = cert.Subject.CommonName, cert.SerialNumber.Text(16)
	if err := s.db.certStatus(r.Context(), unitID, serial); err != nil {
		if errors.Is(err, ErrRevoked) || errors.Is(err, ErrUnknownDevice) {
			s.log.Warn("device certificate refused", "unit_id", unitID, "serial", serial, "reason", err.Error())
			http.Error(w, err.Error(), http.StatusForbidden)
		} else {
			s.log.Error("certificate status", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return "", "", false
	}
	return unitID, serial, true
}

// checkIn records an enrolled device's report and answers with the
// licenses assigned to it.
func (s *Server) checkIn(w http.ResponseWriter, r *http.Request) {
	unitID, serial, ok := s.deviceCert(w, r)
	if !ok {
		return
	}
	var req onboard.CheckInRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		status := http.StatusBadRequest
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "the check-in must be JSON of at most 64 KiB: "+err.Error(), status)
		return
	}
	if req.UnitID != unitID {
		http.Error(w, "unit_id is not the certificate's Unit ID", http.StatusBadRequest)
		return
	}
	facts, err := json.Marshal(req.Facts)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	osVersion := req.OS.Pretty
	if osVersion == "" {
		osVersion = req.OS.Name + " " + req.OS.Version
	}
	if err := s.db.recordCheckIn(r.Context(), unitID, serial, osVersion, string(facts), r.RemoteAddr); err != nil {
		s.log.Error("record check-in", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lics, err := s.Licenses(r.Context(), unitID)
	if err != nil {
		s.log.Error("licenses", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	resp := onboard.CheckInResponse{UnitID: unitID, ServerTime: time.Now().UTC(), Licenses: []json.RawMessage{}}
	for _, l := range lics {
		resp.Licenses = append(resp.Licenses, json.RawMessage(l.Document))
	}
	s.log.Info("checked in", "unit_id", unitID, "serial", serial, "licenses", len(lics))
	writeJSON(w, http.StatusOK, resp)
}
