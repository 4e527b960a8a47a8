package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
)

// SIGTERM with 20 enrollments in flight: the server stops accepting, lets
// them finish (each gets its certificate, none a "database is closed"),
// then closes the database and exits 0.
func TestSIGTERMDrainsEnrollmentsInFlight(t *testing.T) {
	bin := testutil.Binary(t, "ums-lab")
	state := t.TempDir()
	const n = 20
	keys := lines(testutil.Run(t, bin, "keys", "create", "--one-time", "--count", fmt.Sprint(n), "--state", state))
	srv := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--state", state)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill() }()
	addrCh := make(chan string, 1)
	var logMu sync.Mutex
	var logs strings.Builder
	go func() {
		re := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
			logMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	pool := x509.NewCertPool()
	rootPEM, err := os.ReadFile(filepath.Join(state, "root.crt"))
	if err != nil || !pool.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("the lab root: %v", err)
	}
	type flight struct {
		rest []byte
		w    *io.PipeWriter
		code chan int
	}
	var started sync.WaitGroup
	flights := make([]flight, n)
	for i := range flights {
		unitID := fmt.Sprintf("00A0B0%06X", i+1)
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: unitID}}, key)
		if err != nil {
			t.Fatal(err)
		}
		csr := onboard.EncodeCSR(der)
		pr, pw := io.Pipe()
		f := flight{rest: csr[len(csr)/2:], w: pw, code: make(chan int, 1)}
		flights[i] = f
		started.Add(1)
		var once sync.Once
		trace := &httptrace.ClientTrace{Got100Continue: func() { once.Do(started.Done) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost,
			"https://"+addr+"/device-connector/device/.well-known/est/simpleenroll", pr)
		req.Header.Set("Expect", "100-continue")
		req.ContentLength = int64(len(csr))
		req.SetBasicAuth(unitID, keys[i])
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13}}}
		go func() {
			resp, err := c.Do(req)
			if err != nil {
				once.Do(started.Done)
				f.code <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			f.code <- resp.StatusCode
		}()
		go func() { _, _ = pw.Write(csr[:len(csr)/2]) }()
	}
	started.Wait() // every handler is reading its body
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("serve exited with %d enrollments in flight: %v", n, err)
	case <-time.After(300 * time.Millisecond):
	}
	for _, f := range flights {
		_, _ = f.w.Write(f.rest)
		f.w.Close()
	}
	ok := 0
	for _, f := range flights {
		if <-f.code == http.StatusOK {
			ok++
		}
	}
	if err := <-exited; err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if ok != n {
		t.Fatalf("%d of %d enrollments in flight were answered\n%s", ok, n, logs.String())
	}
	if out := testutil.Run(t, bin, "devices", "list", "--state", state); strings.Count(out, "00A0B0") != n {
		t.Fatalf("devices list:\n%s", out)
	}
}
