package node_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/virtual-machine/vm/internal/node"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// FuzzLoadFile feeds arbitrary vm.toml contents to LoadFile: it never
// panics, fails only with Invalid, and what it accepts keeps the home's
// other settings.
func FuzzLoadFile(f *testing.F) {
	for _, s := range []string{"", `http_addr = "127.0.0.1:9"`, "http_addr = [", "x = 1\n", "http_addr = 5", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		home := t.TempDir()
		if err := os.WriteFile(filepath.Join(home, node.ConfigFile), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		base := node.TestConfig("/h")
		c, err := node.LoadFile(base, home)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("kind %s: %v", vmerr.KindOf(err), err)
			}
			return
		}
		if c.Home != base.Home || c.LedgerCache != base.LedgerCache {
			t.Fatalf("LoadFile changed other fields: %+v", c)
		}
	})
}
