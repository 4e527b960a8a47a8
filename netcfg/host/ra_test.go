package host

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// raSample is a router advertisement as dnsmasq sends it for a stateful
// range: M and O set, lifetime 1800 s, one on-link prefix without A,
// RDNSS and DNSSL.
func raSample() []byte {
	b := []byte{134, 0, 0, 0, 64, 0xc0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
	pi := make([]byte, 32)
	pi[0], pi[1], pi[2], pi[3] = 3, 4, 64, 0x80
	copy(pi[4:8], []byte{0, 0, 0x0e, 0x10})
	copy(pi[16:], netip.MustParseAddr("2001:db8:1::").AsSlice())
	rdnss := make([]byte, 24)
	rdnss[0], rdnss[1] = 25, 3
	copy(rdnss[4:8], []byte{0, 0, 0x0e, 0x10})
	copy(rdnss[8:], netip.MustParseAddr("2001:db8:1::1").AsSlice())
	dnssl := []byte{31, 3, 0, 0, 0, 0, 0x0e, 0x10, 4, 'c', 'o', 'r', 'p', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 0}
	return slices.Concat(b, pi, rdnss, dnssl)
}

func TestParseRA(t *testing.T) {
	ra, err := parseRA(raSample())
	if err != nil {
		t.Fatal(err)
	}
	if !ra.managed || !ra.other || ra.lifetime != 1800*time.Second {
		t.Errorf("flags/lifetime: %+v", ra)
	}
	want := raPrefix{prefix: netip.MustParsePrefix("2001:db8:1::/64"), onLink: true, valid: time.Hour}
	if len(ra.prefixes) != 1 || ra.prefixes[0] != want {
		t.Errorf("prefixes %+v", ra.prefixes)
	}
	if !slices.Equal(ra.rdnss, []netip.Addr{netip.MustParseAddr("2001:db8:1::1")}) {
		t.Errorf("RDNSS %v", ra.rdnss)
	}
	if !slices.Equal(ra.dnssl, []string{"corp.example"}) {
		t.Errorf("DNSSL %v", ra.dnssl)
	}
	for name, b := range map[string][]byte{
		"short":          raSample()[:10],
		"not an RA":      append([]byte{133}, raSample()[1:]...),
		"zero length":    append(raSample()[:16:16], 3, 0, 0, 0, 0, 0, 0, 0),
		"past the end":   append(raSample()[:16:16], 3, 4, 64, 0),
		"prefix len 129": func() []byte { b := raSample(); b[18] = 129; return b }(),
		"bad label":      func() []byte { b := raSample(); b[len(b)-16] = '.'; return b }(),
	} {
		if _, err := parseRA(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParseRA(f *testing.F) {
	f.Add(raSample())
	f.Add([]byte{134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 31, 2, 0, 0, 0, 0, 0, 1, 63, 'a', 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ra, err := parseRA(b)
		if err != nil {
			return
		}
		for _, p := range ra.prefixes {
			if !p.prefix.IsValid() {
				t.Fatalf("invalid prefix from %x", b)
			}
		}
		if len(ra.rdnss)*16 > len(b) {
			t.Fatalf("%d name servers from %d bytes", len(ra.rdnss), len(b))
		}
	})
}

// TestParseAnswer reads answers of every rcode: each is an answer (the
// server lives), and the addresses come out of NOERROR ones.
func TestParseAnswer(t *testing.T) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("ums.corp.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	for _, rc := range []dnsmessage.RCode{dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError, dnsmessage.RCodeRefused, dnsmessage.RCodeServerFailure} {
		b := answer(t, 7, q, rc)
		got, addrs, ok := parseAnswer(b, 7, q)
		if !ok || got != rc {
			t.Errorf("%v: got %v, %v", rc, got, ok)
		}
		if want := rc == dnsmessage.RCodeSuccess; (len(addrs) == 1) != want {
			t.Errorf("%v: addresses %v", rc, addrs)
		}
		if _, _, ok := parseAnswer(b, 8, q); ok {
			t.Errorf("%v: another ID counts", rc)
		}
	}
}

// answer builds a response to q with rcode rc (NOERROR: one A record).
func answer(t testing.TB, id uint16, q dnsmessage.Question, rc dnsmessage.RCode) []byte {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RCode: rc})
	_ = b.StartQuestions()
	_ = b.Question(q)
	if rc == dnsmessage.RCodeSuccess {
		_ = b.StartAnswers()
		_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: [4]byte{192, 0, 2, 1}})
	}
	m, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func FuzzParseAnswer(f *testing.F) {
	q := dnsmessage.Question{Name: dnsmessage.MustNewName("ums.corp.example."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}
	f.Add(answer(f, 7, q, dnsmessage.RCodeSuccess))
	f.Add(answer(f, 7, q, dnsmessage.RCodeRefused))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, addrs, ok := parseAnswer(b, 7, q)
		if !ok && len(addrs) > 0 {
			t.Fatal("addresses from a message that is no answer")
		}
	})
}
