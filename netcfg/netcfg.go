// Package netcfg is the network side of the setup assistant: the links of
// the device, whether it reaches the server the next step needs, wired
// IPv4 (DHCP or static) and IPv6 (router advertisements with SLAAC and
// DHCPv6, or static), dual stack by default, behind 802.1X with PEAP or
// EAP-TLS where the port asks for it, WLAN scan and join (visible, hidden,
// open, WEP, PSK/SAE, PEAP), mobile broadband with SIM PIN, the provider
// database, the captive-portal check, and the files that keep a working
// configuration for the installed OS (the HTTP proxy is netcfg/proxy's).
// It defines the interfaces the
// assistant uses; real Linux backends (netcfg/host) implement them,
// netcfg/sim is a faithful simulation for tests and the demo, and
// netcfg/contract holds them both to the same behaviour. It knows nothing
// about screens.
package netcfg

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Kind is what sort of link an interface is.
type Kind int

// The kinds of links.
const (
	Wired Kind = iota
	Wireless
	Mobile
)

func (k Kind) String() string {
	switch k {
	case Wireless:
		return "wireless"
	case Mobile:
		return "mobile"
	}
	return "wired"
}

// Link is a physical network interface.
type Link struct {
	Name    string // "eth0"
	Kind    Kind
	MAC     string // "00:50:56:93:8d:22"
	Bus     string // "pci", "sdio", "usb" or ""
	Carrier bool   // a cable is plugged in (wired)
	Addrs   []netip.Prefix
	// RandomMAC is set when the address changes on every boot (sysfs
	// addr_assign_type 1): such a link is never the Unit ID's.
	RandomMAC bool
}

// Status is the device's connection as the assistant sees it.
type Status struct {
	Online   bool
	Link     string // the interface carrying the connection
	Via      string // "wired", "wlan", "mobile"
	SSID     string // for WLAN
	Address  netip.Prefix
	Gateway  netip.Addr
	DNS      []netip.Addr
	Domain   string
	TimeZone string // DHCP option 101, "" when the lease had none
	// Address6 are the link's global IPv6 addresses (SLAAC, DHCPv6 or
	// static); Gateway6 is the IPv6 default router.
	Address6 []netip.Prefix
	Gateway6 netip.Addr
	// CaptiveAPI is the captive-portal API the lease named (RFC 8910,
	// DHCP option 114), "" when it named none.
	CaptiveAPI string
}

// Stage is a step of connecting, for the progress shown meanwhile.
type Stage string

// The stages a connection goes through.
const (
	StageLink         Stage = "link"         // bringing the interface up
	StageAssociating  Stage = "associating"  // WLAN: finding the access point
	StageAuthenticate Stage = "authenticate" // WLAN key exchange or 802.1X; SIM PIN
	StageRegistering  Stage = "registering"  // mobile: registering with the network
	StageAddress      Stage = "address"      // DHCP or static address
	StageCheck        Stage = "check"        // the target server (else gateway and DNS) answers
)

// Progress receives the stages while a connection is made; it may be nil.
type Progress func(Stage)

func (p Progress) Report(s Stage) {
	if p != nil {
		p(s)
	}
}

// Why a connection failed, for errors.Is; backends wrap them with detail.
var (
	ErrNoCarrier      = errors.New("no network cable is connected")
	ErrNoDHCP         = errors.New("no DHCP server answered")
	ErrTimeout        = errors.New("the connection timed out")
	ErrGateway        = errors.New("the default gateway does not answer")
	ErrDNS            = errors.New("the name servers do not answer")
	ErrServerName     = errors.New("the name servers do not know the server's name")
	ErrServer         = errors.New("the server cannot be reached")
	ErrNoInternet     = errors.New("the internet cannot be reached")
	ErrWrongKey       = errors.New("the network key is wrong")
	ErrAuthFailed     = errors.New("the user name or password was not accepted")
	ErrCertificates   = errors.New("Wi-Fi networks with certificates are not supported")
	ErrNotFound       = errors.New("no network with this name was found")
	ErrWrongPIN       = errors.New("the PIN is wrong")
	ErrSIMBlocked     = errors.New("the SIM card is blocked; it needs its PUK")
	ErrNoSignal       = errors.New("no mobile network signal")
	ErrAPNRefused     = errors.New("the provider refused the access point name")
	ErrNoSuchLink     = errors.New("no such network interface")
	ErrNotImplemented = errors.New("not supported by this device")
)

// Backend is everything the assistant asks of the network.
type Backend interface {
	// Links lists the physical interfaces.
	Links(ctx context.Context) ([]Link, error)
	// Status says whether the device has a working connection.
	Status(ctx context.Context) (Status, error)
	// ConfigureWired applies DHCP or a static configuration to a wired link.
	ConfigureWired(ctx context.Context, iface string, c WiredConfig, p Progress) (Status, error)
	// Scan lists the visible wireless networks, strongest first.
	Scan(ctx context.Context, iface string) ([]Network, error)
	// JoinWLAN joins a wireless network, visible or hidden.
	JoinWLAN(ctx context.Context, iface string, c WLANConfig, p Progress) (Status, error)
	// Modems lists the mobile broadband modems.
	Modems(ctx context.Context) ([]Modem, error)
	// UnlockSIM sends the PIN; the modem comes back with the SIM's state
	// (remaining attempts after a wrong PIN).
	UnlockSIM(ctx context.Context, modem string, pin string) (Modem, error)
	// ConnectMobile connects a modem with an APN.
	ConnectMobile(ctx context.Context, modem string, c MobileConfig, p Progress) (Status, error)
	// Providers is the mobile provider database.
	Providers() ProviderDB
	// SetTarget names the server the next step needs (the Onboarding
	// Service or the UMS); from then on a connection counts as working
	// when that server answers, whatever else does not. The zero Target
	// checks the gateway and the name servers instead.
	SetTarget(t Target)
	// Check checks the connection there is now against t (the zero
	// Target: the gateway and the name servers), naming what on the way
	// fails, as connecting does; nil when t answers.
	Check(ctx context.Context, t Target) error
	// CaptivePortal checks whether the connection is held behind a
	// captive portal and returns the URL where the user signs in; "" when
	// the way out is open.
	CaptivePortal(ctx context.Context) (string, error)
}

// Target is a server the device must reach: a host name or address and a
// TCP port, reached with TLS.
type Target struct {
	Host string
	Port int
}

// IsZero reports whether no server is named.
func (t Target) IsZero() bool { return t.Host == "" }

func (t Target) String() string {
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
}

// TargetError is a failure to reach the target, naming it; Err says what
// on the way failed (ErrGateway, ErrDNS, ErrServerName, ErrServer).
type TargetError struct {
	Target Target
	Err    error
}

func (e *TargetError) Error() string { return e.Target.String() + ": " + e.Err.Error() }

func (e *TargetError) Unwrap() error { return e.Err }

// PreferredLink is the link the device is known by (its MAC is the Unit
// ID): wired before wireless, then bus PCI before SDIO before USB, then
// the interface name. Mobile links and links without a permanent, non-zero
// MAC address are never chosen. This is DESIGN.md's NIC rule, the only
// implementation of it: onboard applies it to the links ReadSysfsLinks finds.
func PreferredLink(links []Link) (Link, bool) {
	var cands []Link
	for _, l := range links {
		if l.Kind != Mobile && !l.RandomMAC && strings.Trim(UnitID(l.MAC), "0") != "" {
			cands = append(cands, l)
		}
	}
	if len(cands) == 0 {
		return Link{}, false
	}
	busRank := map[string]int{"pci": 0, "sdio": 1, "usb": 2}
	rank := func(b string) int {
		if r, ok := busRank[b]; ok {
			return r
		}
		return 3
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if rank(a.Bus) != rank(b.Bus) {
			return rank(a.Bus) < rank(b.Bus)
		}
		return a.Name < b.Name
	})
	return cands[0], true
}

// UnitID is a MAC address as the Unit ID: upper-case hex, no separators.
func UnitID(mac string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", "-", "", ".", "").Replace(mac))
}
