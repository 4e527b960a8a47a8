package onboard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// 200 devices race for 100 one-time keys, two per key: exactly 100 enroll
// and each key serves exactly one of them.
func TestOneTimeKeysRace(t *testing.T) {
	if testing.Short() {
		t.Skip("200 enrollments")
	}
	// The 100 losers all come from 127.0.0.1: a budget of failures that
	// would not limit them keeps this about the race.
	env := newLab(t, lab.Config{SourceLimit: lab.Limit{Burst: 1000, Every: time.Second}}, labHooks{})
	const devices, keys = 200, 100
	secrets := make([]string, keys)
	for i := range secrets {
		secrets[i] = env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
	}
	var wg sync.WaitGroup
	errs := make([]error, devices)
	start := make(chan struct{})
	for i := 0; i < devices; i++ {
		c, _ := newClient(t, 1000+i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = c.ByServer(context.Background(), env.request(secrets[i%keys]))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if code, _ := onboard.CodeOf(err); code != onboard.CodeEnroll {
			t.Errorf("device %d: %v (%v), want success or 38", i, err, err.(*onboard.Error).Reason)
		}
	}
	if ok != keys {
		t.Fatalf("%d devices enrolled, want exactly %d", ok, keys)
	}
	ks, _ := env.srv.Keys(context.Background())
	for _, k := range ks {
		if k.Uses != 1 {
			t.Errorf("key %d used %d times", k.ID, k.Uses)
		}
	}
	devs, _ := env.srv.Devices(context.Background())
	if len(devs) != keys {
		t.Fatalf("registry holds %d devices", len(devs))
	}
}

// A mass-deployment key serves every device, concurrently.
func TestMassKeyServesAll(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	secret := env.key(t, lab.KeySpec{Kind: lab.KindMass})
	const devices = 60
	var wg sync.WaitGroup
	errs := make([]error, devices)
	for i := 0; i < devices; i++ {
		c, _ := newClient(t, 5000+i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.ByServer(context.Background(), env.request(secret))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
	}
	ks, _ := env.srv.Keys(context.Background())
	if len(ks) != 1 || ks[0].Uses != devices || ks[0].State() != "active" {
		t.Fatalf("mass key after %d enrollments: %+v", devices, ks)
	}
}
