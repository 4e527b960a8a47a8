package firstboot

import (
	"errors"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/sim"
)

const enterpriseHead = "language: en\neula: accept\ntimezone: auto\nonboarding: skip\nnetwork:\n"

// 802.1X and the proxy read from the file as the forms take them.
func TestAnswersDot1XAndProxy(t *testing.T) {
	a, err := ParseAnswers([]byte(enterpriseHead + `  wired:
    dot1x: {eap: tls, identity: device1, ca_cert: /media/usb/ca.pem, client_cert: /media/usb/device.pem, private_key: /media/usb/device.key, key_password: "k p"}
  proxy: {host: proxy.corp.example, port: 3128, username: alice, password: "p:w", no_proxy: [.corp.example, 192.0.2.0/24]}
`))
	if err != nil {
		t.Fatal(err)
	}
	w := a.Network.Wired
	// dot1x alone: authenticate, then the addresses from the network.
	if c, err := WiredConfigFor(*w); err != nil || c.Static != nil || c.NoIPv4 || c.IPv6 != netcfg.IPv6Auto || c.Dot1X == nil {
		t.Errorf("wired config %+v %v", c, err)
	}
	if w.Dot1X == nil || w.Dot1X.Config() != (netcfg.Dot1XConfig{EAP: netcfg.EAPTLS, Identity: "device1", CACert: "/media/usb/ca.pem",
		ClientCert: "/media/usb/device.pem", PrivateKey: "/media/usb/device.key", KeyPassword: "k p"}) {
		t.Errorf("wired %+v %+v", w, w.Dot1X)
	}
	if p := a.Network.Proxy; p == nil || p.Host != "proxy.corp.example" || p.Port != 3128 || p.Password != "p:w" || len(p.NoProxy) != 2 {
		t.Errorf("proxy %+v", p)
	}
	layouts, zones := lists(t)
	if err := CheckAnswers(a, layouts, zones, sim.Providers); err != nil {
		t.Fatal(err)
	}
	// The proxy alone keeps the connection as it is.
	b, err := ParseAnswers([]byte(enterpriseHead + "  proxy: {pac: \"http://wpad.corp.example/wpad.dat\"}\n"))
	if err != nil || !b.Network.Skip || b.Network.Proxy == nil || b.Network.Proxy.PAC == "" {
		t.Fatalf("%+v %v", b.Network, err)
	}
	if err := CheckAnswers(b, layouts, zones, sim.Providers); err != nil {
		t.Fatal(err)
	}
}

// Each bad value is refused naming its field and line, without the
// secret in the message.
func TestAnswersDot1XAndProxyRejected(t *testing.T) {
	layouts, zones := lists(t)
	for field, net := range map[string]string{
		"network.wired.dot1x.eap":         "  wired: {dot1x: {eap: md5, identity: a, password: Zq9}}\n",
		"network.wired.dot1x.identity":    "  wired: {dot1x: {eap: peap, password: Zq9}}\n",
		"network.wired.dot1x.password":    "  wired: {dot1x: {eap: peap, identity: a}}\n",
		"network.wired.dot1x.client_cert": "  wired: {dot1x: {eap: tls, identity: a}}\n",
		"network.wired.dot1x.ca_cert":     "  wired: {dot1x: {eap: peap, identity: a, password: Zq9, ca_cert: ca.pem}}\n",
		"network.wired.dot1x.colour":      "  wired: {dot1x: {eap: peap, colour: red}}\n",
		"network.proxy.port":              "  wired: dhcp\n  proxy: {host: proxy, port: 0}\n",
		"network.proxy.host":              "  wired: dhcp\n  proxy: {host: \"pro xy\", port: 1}\n",
		"network.proxy.username":          "  wired: dhcp\n  proxy: {host: proxy, port: 1, password: Zq9}\n",
		"network.proxy.pac":               "  proxy: {pac: \"file:///etc/p.pac\"}\n",
		"network.proxy.no_proxy":          "  wired: dhcp\n  proxy: {host: proxy, port: 1, no_proxy: [\"a b\"]}\n",
	} {
		a, err := ParseAnswers([]byte(enterpriseHead + net))
		if err == nil {
			err = CheckAnswers(a, layouts, zones, sim.Providers)
		}
		var ae *AnswerError
		if !errors.As(err, &ae) || ae.Field != field || ae.Line == 0 {
			t.Errorf("%s: %v", field, err)
			continue
		}
		if strings.Contains(err.Error(), "Zq9") {
			t.Errorf("%s: the secret is in %v", field, err)
		}
	}
}
