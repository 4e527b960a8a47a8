package grubcfg

import (
	"strings"
	"testing"
)

func TestMenu(t *testing.T) {
	got := string(Menu(5, []Entry{
		{ID: "standard", Title: "Standard", Kernel: "/k", Initrd: "/i", Options: "quiet"},
		{ID: "it's", Title: "Bob's 'OS'", Kernel: "/k2", Initrd: "/i2", Options: "a=b c"},
	}))
	for _, want := range []string{
		"serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial\n",
		"set default=0\nset timeout=5\n",
		"menuentry 'Standard' --id 'standard' {\n\tlinux /k quiet\n\tinitrd /i\n}\n",
		`menuentry 'Bob'\''s '\''OS'\''' --id 'it'\''s' {` + "\n\tlinux /k2 a=b c\n\tinitrd /i2\n}\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("menu lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "'Standard'") > strings.Index(got, "Bob") {
		t.Errorf("entries out of order:\n%s", got)
	}
}
