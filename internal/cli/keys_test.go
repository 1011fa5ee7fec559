package cli_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/crypto"
)

// ktResult is one in-process run of the vm command line.
type ktResult struct {
	code           int
	stdout, stderr string
}

// ktRun runs vm with args under home (stdin is not a terminal).
func ktRun(t *testing.T, home string, args ...string) ktResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(context.Background(), append([]string{"--home", home}, args...), strings.NewReader(""), &out, &errb)
	return ktResult{code, out.String(), errb.String()}
}

// ktKey stores a key under home with a cheap KDF (the file records its
// iteration count), so tests do not pay 600k PBKDF2 rounds per key.
func ktKey(t *testing.T, home, name, pass string) crypto.PrivKey {
	t.Helper()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := crypto.NewKeystore(filepath.Join(home, "keys"), 1000).Import(name, k, pass); err != nil {
		t.Fatal(err)
	}
	return k
}

func ktNoPassphrase(t *testing.T) {
	t.Setenv(cli.EnvPass, "")
	os.Unsetenv(cli.EnvPass)
}

var hexAddr = regexp.MustCompile(`^[0-9a-f]{40}$`)

func TestKeys(t *testing.T) {
	home := t.TempDir()
	t.Setenv(cli.EnvPass, "correct horse")

	// add: text prints the address, JSON the key view.
	r := ktRun(t, home, "keys", "add", "alice")
	alice := strings.TrimSpace(r.stdout)
	if r.code != 0 || !hexAddr.MatchString(alice) {
		t.Fatalf("keys add: %+v", r)
	}
	r = ktRun(t, home, "keys", "add", "bob", "-o", "json")
	var bob map[string]string
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &bob) != nil || !hexAddr.MatchString(bob["address"]) || bob["name"] != "bob" || len(bob["pub_key"]) != 64 {
		t.Fatalf("keys add -o json: %+v", r)
	}

	tests := []struct {
		name    string
		in      []string
		noPass  bool
		want    string // substring of stdout
		wantErr string // substring of stderr; the exit code must then be nonzero
	}{
		{name: "add existing", in: []string{"keys", "add", "alice"}, wantErr: "already exists"},
		{name: "add bad name", in: []string{"keys", "add", "Not/OK"}, wantErr: "key names are"},
		{name: "add without passphrase", in: []string{"keys", "add", "carol"}, noPass: true, wantErr: "no passphrase: set VM_PASSPHRASE"},
		{name: "add without name", in: []string{"keys", "add"}, wantErr: "accepts 1 arg"},
		{name: "list", in: []string{"keys", "list"}, want: "alice                " + alice},
		{name: "show", in: []string{"keys", "show", "alice"}, want: "address: " + alice},
		{name: "show missing", in: []string{"keys", "show", "nobody"}, wantErr: "key not found"},
		{name: "export missing", in: []string{"keys", "export", "nobody"}, wantErr: "key not found"},
		{name: "delete without --yes", in: []string{"keys", "delete", "bob"}, wantErr: "without --yes"},
		{name: "delete missing", in: []string{"keys", "delete", "nobody", "--yes"}, wantErr: "key not found"},
		{name: "import missing file", in: []string{"keys", "import", "x", filepath.Join(home, "nope.json")}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noPass {
				ktNoPassphrase(t)
			}
			r := ktRun(t, home, tc.in...)
			if tc.wantErr != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tc.wantErr) {
					t.Fatalf("%+v, want error %q", r, tc.wantErr)
				}
				return
			}
			if r.code != 0 || !strings.Contains(r.stdout, tc.want) {
				t.Fatalf("%+v, want %q", r, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(home, "keys", "carol.json")); err == nil {
		t.Error("carol was stored without a passphrase")
	}

	// list -o json: name order, no public keys.
	r = ktRun(t, home, "keys", "list", "-o", "json")
	var list []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 2 || list[0]["name"] != "alice" || list[0]["address"] != alice || list[1]["name"] != "bob" {
		t.Fatalf("keys list -o json: %+v %v", r, err)
	}

	// export to a file, then to stdout; the file is the stored key file.
	file := filepath.Join(t.TempDir(), "alice.json")
	if r := ktRun(t, home, "keys", "export", "alice", file); r.code != 0 {
		t.Fatalf("export: %+v", r)
	}
	if r := ktRun(t, home, "keys", "export", "alice", "--file", file); r.code == 0 || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("export over an existing file: %+v", r)
	}
	exported, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if r := ktRun(t, home, "keys", "export", "alice"); r.stdout != string(exported) {
		t.Errorf("export to stdout differs from the file:\n%s\n%s", r.stdout, exported)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("exported file mode %v", fi.Mode())
	}
	var kf crypto.KeyFile
	if err := json.Unmarshal(exported, &kf); err != nil || kf.Address.String() != alice || kf.Ciphertext == "" {
		t.Fatalf("exported file: %v %+v", err, kf)
	}

	// import under a new name: the same key file under the new name (the
	// passphrase check is TestKeysImportPortalFile's, with a cheap KDF).
	if r := ktRun(t, home, "keys", "import", "alice2", file); r.code != 0 || !strings.Contains(r.stdout, alice) {
		t.Fatalf("import: %+v", r)
	}
	if r := ktRun(t, home, "keys", "import", "alice2", file); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("import over an existing name: %+v", r)
	}
	stored, err := crypto.NewKeystore(filepath.Join(home, "keys"), 0).Get("alice2")
	if err != nil {
		t.Fatal(err)
	}
	renamed := kf
	renamed.Name = "alice2"
	if *stored != renamed {
		t.Errorf("stored %+v, want %+v", stored, renamed)
	}

	// delete.
	if r := ktRun(t, home, "keys", "delete", "alice2", "--yes"); r.code != 0 {
		t.Fatalf("delete: %+v", r)
	}
	if r := ktRun(t, home, "keys", "show", "alice2"); r.code == 0 {
		t.Fatal("deleted key still shows")
	}
}

// TestKeysImportPortalFile imports key files as another program (the
// portal) writes them, and rejects what is not one.
func TestKeysImportPortalFile(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	k, err := crypto.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := crypto.Encrypt("from-portal", k, "portal pass", crypto.MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := json.Marshal(f)
	w, err := crypto.Encrypt("from-portal", k, "portal pass", 1000)
	if err != nil {
		t.Fatal(err)
	}
	weak, _ := json.Marshal(w)
	tampered := *f
	other, _ := crypto.GenerateKey(nil)
	tampered.PubKey = hex.EncodeToString(other.PubKey())
	bad, _ := json.Marshal(tampered)
	files := map[string][]byte{
		"good.json":      good,
		"garbage.json":   []byte("not json"),
		"empty.json":     []byte("{}"),
		"pubkey.json":    bad,
		"huge.json":      bytes.Repeat([]byte(" "), 100<<10),
		"truncated.json": good[:len(good)/2],
		"weak.json":      weak,
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv(cli.EnvPass, "portal pass")
	tests := []struct {
		name, file string
		noPass     bool
		pass       string
		wantErr    string
	}{
		{name: "garbage", file: "garbage.json", wantErr: "not a key file"},
		{name: "empty object", file: "empty.json", wantErr: "not a key file"},
		{name: "truncated", file: "truncated.json", wantErr: "not a key file"},
		{name: "huge", file: "huge.json", wantErr: "larger than"},
		{name: "pub key mismatch", file: "pubkey.json", wantErr: "pub_key does not match"},
		{name: "weak work factor", file: "weak.json", wantErr: "work factor"},
		{name: "no passphrase", file: "good.json", noPass: true, wantErr: "no passphrase"},
		{name: "wrong passphrase", file: "good.json", pass: "guess", wantErr: "wrong passphrase"},
		{name: "good", file: "good.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noPass {
				ktNoPassphrase(t)
			}
			if tc.pass != "" {
				t.Setenv(cli.EnvPass, tc.pass)
			}
			r := ktRun(t, home, "keys", "import", "mine", filepath.Join(dir, tc.file), "-o", "json")
			if tc.wantErr != "" {
				if r.code == 0 || !strings.Contains(r.stderr, tc.wantErr) {
					t.Fatalf("%+v, want %q", r, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(home, "keys", "mine.json")); err == nil {
					t.Fatal("a failed import stored the key")
				}
				return
			}
			var v map[string]string
			if r.code != 0 || json.Unmarshal([]byte(r.stdout), &v) != nil || v["name"] != "mine" || v["address"] != k.Address().String() {
				t.Fatalf("%+v", r)
			}
		})
	}
}
