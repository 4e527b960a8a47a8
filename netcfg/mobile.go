package netcfg

import "sort"

// Modem is a mobile broadband modem and the state of its SIM.
type Modem struct {
	ID        string // the backend's handle
	Model     string // "Quectel EM12-G"
	Locked    bool   // the SIM waits for its PIN
	Attempts  int    // PIN attempts left when Locked
	Blocked   bool   // the SIM needs its PUK (not done here)
	Signal    int    // percent
	Operator  string // network the modem is registered with, when known
	Interface string // "wwan0"
}

// MobileConfig is what connecting a modem takes, and what is kept of a
// working connection for later boots.
type MobileConfig struct {
	Country  string `json:"country,omitempty"` // ISO 3166 code, "DE"
	Provider string `json:"provider,omitempty"`
	APN      string `json:"apn"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"` // a secret
	// PIN is the SIM PIN that unlocked the SIM (a secret), "" when the SIM
	// asked for none. Connecting does not use it; it is kept so that later
	// boots can unlock the SIM, which asks for it at every start.
	PIN string `json:"pin,omitempty"`
}

// APN is an access point of a provider.
type APN struct {
	Name     string // "internet.telekom"
	Label    string // what the provider calls it, may be ""
	Username string
	Password string
}

// Provider is a mobile network operator with its APNs.
type Provider struct {
	Name string
	APNs []APN
}

// Country has providers.
type Country struct {
	Code string // "DE"
	Name string // "Germany"
}

// ProviderDB is the country → provider → APN database
// (mobile-broadband-provider-info).
type ProviderDB interface {
	Countries() []Country
	Providers(country string) []Provider
}

// StaticProviders is a ProviderDB held in memory.
type StaticProviders struct {
	Names map[string]string     // code → country name
	List  map[string][]Provider // code → providers
}

// Countries lists the countries with providers, by name.
func (s StaticProviders) Countries() []Country {
	var out []Country
	for code := range s.List {
		out = append(out, Country{Code: code, Name: s.Names[code]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Providers lists the providers of a country.
func (s StaticProviders) Providers(country string) []Provider {
	return s.List[country]
}
