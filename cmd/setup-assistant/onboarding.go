package main

import (
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard"
)

// onboardingService is the Onboarding Service base URL for e-mail
// onboarding on a real device (--onboarding-service).
var onboardingService string

func init() {
	// The real onboarding client (package onboard): it reads the Unit ID
	// from sysfs and writes the enrollment under the root.
	realOnboarder = func(root string) (onboard.Onboarder, error) {
		// The proxy the network step kept, read when onboarding connects.
		opts := []onboard.Option{onboard.WithProxy(func() (proxy.Config, error) { return proxy.Read(root) })}
		if onboardingService != "" {
			opts = append(opts, onboard.WithService(onboardingService, nil))
		}
		return onboard.NewClient(root, opts...), nil
	}
}
