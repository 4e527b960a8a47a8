package sysconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCryptHash(t *testing.T) {
	for _, ok := range []string{
		"$y$j9T$Yl1GHOxUIbIMU1yZSHrMZ.$0pSGcC4Ld9mhvxdIpA6B6Q3TEP1tkbhT1ff0YYrmsU1", // mkpasswd -m yescrypt
		"$6$onrampsalt$1eG6rk4WlEvILYDaPW/Z.Tpxbw2w0jO2llAUAa6euR0JOIsp4yEjIdt0S2GlpenXdwb44WmE/XXCsPTnfSAZb.",
		"$6$rounds=5000$salt$abc",
		"$5$salt$abc",
	} {
		if err := CheckCryptHash(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Plain-Secret-77", "$1$md5salt$abc", "$6$", "$6$salt$", "$y$j9T$salt$a b", "$6$salt$abc\nroot::0:", strings.Repeat("$6$a$b", 100)} {
		err := CheckCryptHash(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if len(bad) > 3 && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the value: %v", err)
		}
	}
}

func TestWriteRootPasswordIsOwnerOnly(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	if err := r.WriteRootPassword("Plain-Secret"); err == nil {
		t.Fatal("a plain password was accepted")
	}
	h := "$5$salt$abc"
	if err := r.WriteRootPassword(h); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(r.Dir, RootPasswordPath))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", info, err)
	}
}
