package onboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

func serviceClient(t *testing.T, env *labEnv, n int) (*onboard.Client, string) {
	return newClient(t, n, onboard.WithService(lab.ServiceURL(env.addr), env.srv.RootPool()))
}

func TestByEmailWithoutSignIn(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	if err := env.srv.Map(context.Background(), lab.Mapping{Kind: "domain", Value: "example.com"}); err != nil {
		t.Fatal(err)
	}
	c, root := serviceClient(t, env, 1)
	res, err := c.ByEmail(context.Background(), "Jane.Doe@Example.com", func(onboard.DeviceCode) { t.Error("sign-in asked for") })
	if err != nil {
		t.Fatal(err)
	}
	if res.Port != env.port || res.UnitID != unitID(1) {
		t.Fatalf("result %+v", res)
	}
	opensslVerify(t, env.dir, res.CertPath)
	en, err := onboard.LoadEnrollment(root)
	if err != nil {
		t.Fatal(err)
	}
	if en.Info.Method != onboard.MethodService || en.Info.OnboardedBy != "Jane.Doe@Example.com" {
		t.Errorf("server.json %+v", en.Info)
	}
	devs, _ := env.srv.Devices(context.Background())
	if len(devs) != 1 || devs[0].OnboardedBy != "jane.doe@example.com" {
		t.Errorf("registry %+v: onboarded by whom?", devs)
	}
}

func TestByEmailDeviceFlow(t *testing.T) {
	env := newLab(t, lab.Config{PollInterval: time.Second}, labHooks{})
	ctx := context.Background()
	if err := env.srv.Map(ctx, lab.Mapping{Kind: "email", Value: "admin@corp.test", SignIn: true}); err != nil {
		t.Fatal(err)
	}
	c, _ := serviceClient(t, env, 1)
	var shown onboard.DeviceCode
	res, err := c.ByEmail(ctx, "admin@corp.test", func(dc onboard.DeviceCode) {
		shown = dc
		// The user approves on a second device after a moment.
		go func() {
			time.Sleep(300 * time.Millisecond)
			if _, err := env.srv.Decide(ctx, strings.ToLower(dc.UserCode), true); err != nil {
				t.Error(err)
			}
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if shown.UserCode == "" || !strings.HasPrefix(shown.VerificationURI, "https://") || !strings.Contains(shown.VerificationURIComplete, shown.UserCode) {
		t.Fatalf("device code shown: %+v", shown)
	}
	if _, err := onboard.QRText(shown.VerificationURIComplete); err != nil {
		t.Fatal(err)
	}
	opensslVerify(t, env.dir, res.CertPath)
}

func TestByEmailSignInDeniedAndExpired(t *testing.T) {
	env := newLab(t, lab.Config{PollInterval: time.Second, SignInTTL: 2 * time.Second}, labHooks{})
	ctx := context.Background()
	if err := env.srv.Map(ctx, lab.Mapping{Kind: "domain", Value: "corp.test", SignIn: true}); err != nil {
		t.Fatal(err)
	}
	c, root := serviceClient(t, env, 1)
	_, err := c.ByEmail(ctx, "bob@corp.test", func(dc onboard.DeviceCode) {
		if _, err := env.srv.Decide(ctx, dc.UserCode, false); err != nil {
			t.Error(err)
		}
	})
	wantCode(t, err, onboard.CodeServiceUnreachable)
	if !errors.Is(err, onboard.ErrSignInDenied) {
		t.Fatalf("%v: not ErrSignInDenied", err)
	}
	_, err = c.ByEmail(ctx, "bob@corp.test", nil)
	wantCode(t, err, onboard.CodeServiceUnreachable)
	if !errors.Is(err, onboard.ErrSignInExpired) {
		t.Fatalf("%v: not ErrSignInExpired", err)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/onramp/ums/server.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("something was saved")
	}
	if n := env.enrolls.Load(); n != 0 {
		t.Fatalf("%d enrollment requests without sign-in", n)
	}
}

func TestByEmailUnknownAndUnreachable(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	c, _ := serviceClient(t, env, 1)
	_, err := c.ByEmail(context.Background(), "nobody@unmapped.test", nil)
	wantCode(t, err, onboard.CodeInvalidArguments)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c2, _ := newClient(t, 2, onboard.WithService(lab.ServiceURL(addr), env.srv.RootPool()))
	_, err = c2.ByEmail(context.Background(), "jane@example.com", nil)
	wantCode(t, err, onboard.CodeServiceUnreachable)

	c3, _ := newClient(t, 3) // no service configured
	_, err = c3.ByEmail(context.Background(), "jane@example.com", nil)
	wantCode(t, err, onboard.CodeServiceUnreachable)
}

func TestByEmailBadChainIs34(t *testing.T) {
	// A service that routes to a UMS with a chain that is not PEM.
	bad := newLab(t, lab.Config{}, labHooks{wrap: corruptChain})
	if err := bad.srv.Map(context.Background(), lab.Mapping{Kind: "domain", Value: "example.com"}); err != nil {
		t.Fatal(err)
	}
	c, _ := newClient(t, 1, onboard.WithService(lab.ServiceURL(bad.addr), bad.srv.RootPool()))
	_, err := c.ByEmail(context.Background(), "jane@example.com", nil)
	wantCode(t, err, onboard.CodeTrustChain)
}

// corruptChain replaces the CA chain in route answers.
func corruptChain(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, onboard.ServiceRoutePath) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var route onboard.RouteResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &route)
		route.CAChain = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(route)
	})
}
