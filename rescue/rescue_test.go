package rescue

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// keymapRecorder stands in for loadkeys, which needs a real console.
type keymapRecorder struct{ loaded []string }

func (k *keymapRecorder) Load(_ context.Context, km string) error {
	k.loaded = append(k.loaded, km)
	return nil
}

// rescueRoot is a root with the keymap the user chose, setup done or not,
// and /etc/shadow holding root's entry ("" = no shadow file).
func rescueRoot(t *testing.T, done bool, rootEntry string) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string, mode os.FileMode) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(s), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/vconsole.conf", "KEYMAP=de-nodeadkeys\n", 0o644)
	if done {
		write("var/lib/onramp/setup.done", "done\n", 0o644)
	}
	if rootEntry != "" {
		write("etc/shadow", rootEntry+"\ndaemon:*:20000:0:99999:7:::\n", 0o640)
	}
	return root
}

func TestLogin(t *testing.T) {
	shell, login := []string{"/bin/sh", "-l"}, []string{"/bin/login", "root"}
	const hash = "root:$y$j9T$abc$def:20000:0:99999:7:::"
	tests := []struct {
		name    string
		done    bool
		shadow  string
		want    []string
		wantErr error
		says    string
	}{
		{"setup running: root shell", false, "root:!:20000::::::", shell, nil, "first-boot setup is not finished"},
		{"setup done, password set: login asks for it", true, hash, login, nil, ""},
		{"setup done, root locked: disabled", true, "root:!*:20000::::::", nil, ErrDisabled, "The rescue shell is disabled"},
		{"setup done, root locked with *", true, "root:*:20000::::::", nil, ErrDisabled, "answers file or from the UMS"},
		{"setup done, empty password is no password", true, "root::20000::::::", nil, ErrDisabled, "disabled"},
		{"setup done, no shadow", true, "", nil, ErrDisabled, "disabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			km := &keymapRecorder{}
			var out bytes.Buffer
			in := strings.NewReader("\n\nleft for the shell\n")
			got, err := Login(context.Background(), in, &out, Options{Root: rescueRoot(t, tc.done, tc.shadow), TTY: "tty12",
				Keymaps: km, Shell: shell, Login: login})
			if !errors.Is(err, tc.wantErr) || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Login = %v, %v; want %v, %v\n%s", got, err, tc.want, tc.wantErr, out.String())
			}
			s := out.String()
			if !strings.HasPrefix(s, "\r\n--- rescue shell tty12 ---\r\n\r\nPress <RETURN> to login: ") || !strings.Contains(s, tc.says) {
				t.Errorf("console shows:\n%q", s)
			}
			if !reflect.DeepEqual(km.loaded, []string{"de-nodeadkeys"}) {
				t.Errorf("keymaps loaded %v", km.loaded)
			}
			// Only what Login needed was read: the rest is the shell's.
			rest, _ := io.ReadAll(in)
			if tc.wantErr == nil && string(rest) != "\nleft for the shell\n" {
				t.Errorf("left unread %q", rest)
			}
		})
	}
}

// TestLoginNeedsReturn: a console that closes before RETURN gets nothing.
func TestLoginNeedsReturn(t *testing.T) {
	got, err := Login(context.Background(), strings.NewReader(""), io.Discard, Options{Root: rescueRoot(t, false, ""), TTY: "tty11"})
	if err == nil || got != nil {
		t.Errorf("Login = %v, %v", got, err)
	}
}
