package lab

import (
	"context"
	"errors"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// A given root becomes the root of a new state (its token known before),
// with a fresh intermediate under it; a state with another root, or a
// root that is no CA, is refused.
func TestFixedRootCA(t *testing.T) {
	dir := t.TempDir()
	root := testutil.SelfSigned(t, "test root", true)
	st, err := openState(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	if string(st.CA.Root.Raw) != string(root.Certificate[0]) {
		t.Fatal("the state has another root than the one given")
	}
	if err := st.CA.Issuer.CheckSignatureFrom(st.CA.Root); err != nil {
		t.Fatalf("the intermediate is not signed by the given root: %v", err)
	}
	if _, err := NewServer(st, Config{RootCA: root}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(st, Config{RootCA: testutil.SelfSigned(t, "test root", true)}); err == nil {
		t.Error("NewServer took a state with another root")
	}
	st.Close()
	if st, err = openState(dir, root); err != nil {
		t.Fatalf("reopening with the same root: %v", err)
	}
	st.Close()
	if _, err := openState(dir, testutil.SelfSigned(t, "test root", true)); err == nil {
		t.Error("a state with another root was opened")
	}
	if _, err := openState(t.TempDir(), testutil.SelfSigned(t, "test root", false)); err == nil {
		t.Error("a root that is no CA was taken")
	}
	other := testutil.SelfSigned(t, "test root", true)
	other.PrivateKey = testutil.SelfSigned(t, "test root", true).PrivateKey
	if _, err := openState(t.TempDir(), other); err == nil {
		t.Error("a root with a key not its own was taken")
	}
}

// A chosen password makes a one-time key too (the demo's fixed keys): it
// serves once, duplicates and short ones are refused.
func TestChosenOneTimeKey(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	_, secret, err := st.CreateKey(ctx, KeySpec{Kind: KindOneTime, Password: "DEMO-OTP-0001"})
	if err != nil || secret != "DEMO-OTP-0001" {
		t.Fatalf("chosen one-time key: %q %v", secret, err)
	}
	if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindOneTime, Password: "DEMO-OTP-0001"}); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("duplicate: %v", err)
	}
	if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindOneTime, Password: "short"}); err == nil {
		t.Error("a 5-character one-time key")
	}
	if err := enrollOnce(ctx, st, unit(1), secret); err != nil {
		t.Fatal(err)
	}
	if err := enrollOnce(ctx, st, unit(2), secret); !errors.Is(err, ErrKeyUsed) {
		t.Errorf("chosen one-time key twice: %v", err)
	}
}
