package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/cli"
	"github.com/virtual-machine/vm/internal/client"
)

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(v) != nil {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
}

// idCreated is the JSON `vm id create` prints.
type idCreated struct {
	ID       string            `json:"id"`
	Owner    string            `json:"owner"`
	Created  bool              `json:"created"`
	Location *apitype.Location `json:"location"`
}

// TestIDCommands runs the IDChain end to end on a real devnet (its
// built-in miner executes the system contract): create and its
// idempotence, a concurrent create, verification and tampering, public and
// private records, readers, controllers, rotation, and refusals.
func TestIDCommands(t *testing.T) {
	home := t.TempDir()
	url, _ := mrDevnet(t, home)
	t.Setenv(cli.EnvPass, "pw")
	keys := map[string]string{}
	for _, n := range []string{"alice", "bob", "carol"} {
		keys[n] = ktKey(t, home, n, "pw").Address().String()
		if r := ktRun(t, home, "--node", url, "gas", "faucet", n); r.code != 0 {
			t.Fatalf("faucet %s: %s", n, r.stderr)
		}
	}
	vm := func(args ...string) ktResult { return ktRun(t, home, append([]string{"--node", url}, args...)...) }
	ok := func(args ...string) string {
		t.Helper()
		r := vm(args...)
		if r.code != 0 {
			t.Fatalf("vm %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	refused := func(want string, args ...string) {
		t.Helper()
		r := vm(args...)
		if r.code == 0 || !strings.Contains(r.stderr, want) {
			t.Fatalf("vm %s: exit %d, want a refusal naming %q\n%s%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
		}
	}
	create := func(name, from string) idCreated {
		t.Helper()
		var v idCreated
		// The first create waits for the miner to compile the contract:
		// seconds, half a minute under the race detector.
		out := ok("id", "create", name, "--from", from, "-o", "json", "--deadline", "500", "--timeout", "5m")
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	first := create("ada", "alice")
	if !first.Created || first.Owner != keys["alice"] || first.Location == nil {
		t.Fatalf("first create: %+v", first)
	}
	again := create("ada", "bob")
	if again.Created || again.Owner != keys["alice"] || *again.Location != *first.Location {
		t.Fatalf("create of an existing id: %+v, want created false at %+v", again, first.Location)
	}

	// Verification, then every field of the location tampered.
	dir := t.TempDir()
	write := func(name string, v any) string {
		b, _ := json.Marshal(v)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if out := ok("id", "verify", write("ada.json", first), "-o", "json"); !strings.Contains(out, `"verified": true`) {
		t.Fatalf("verify: %s", out)
	}
	ok("id", "verify", write("loc.json", first.Location))
	flip := func(s string) string { // a valid hex digit changed
		if s[len(s)-1] == '0' {
			return s[:len(s)-1] + "1"
		}
		return s[:len(s)-1] + "0"
	}
	for field, f := range map[string]func(l *apitype.Location){
		"chain_id":  func(l *apitype.Location) { l.ChainID = "vm-other" },
		"height":    func(l *apitype.Location) { l.Height-- },
		"namespace": func(l *apitype.Location) { l.Namespace = "accounts" },
		"key":       func(l *apitype.Location) { l.Key = flip(l.Key) },
		"value":     func(l *apitype.Location) { l.Value = flip(l.Value) },
		"app_hash":  func(l *apitype.Location) { l.AppHash = flip(l.AppHash) },
		"proof":     func(l *apitype.Location) { l.Proof = flip(l.Proof) },
	} {
		loc := *first.Location
		f(&loc)
		if r := vm("id", "verify", write(field+".json", loc)); r.code == 0 {
			t.Errorf("a location with %s tampered verified:\n%s", field, r.stdout)
		}
	}
	if r := vm("id", "verify", write("claim.json", idCreated{ID: "bob", Location: first.Location})); r.code == 0 {
		t.Error("a location of ada verified as bob's")
	}
	for name, body := range map[string]string{"not json": "{", "empty object": "{}", "no proof": `{"location":{"key":"00"}}`,
		"bad hex": `{"chain_id":"vm-devnet","height":3,"namespace":"data","key":"zz","value":"","app_hash":"","proof":""}`} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := vm("id", "verify", p); r.code == 0 || r.stderr == "" {
			t.Errorf("verify of a malformed location (%s) passed", name)
		}
	}

	// The node's answer is checked field by field against its proof.
	c := client.New(url)
	id, err := c.ID(t.Context(), "ada", 0)
	if err != nil || id.Location.Height != first.Location.Height || id.Attrs == nil {
		t.Fatalf("client.ID: %+v, %v", id, err)
	}
	for field, f := range map[string]func(v *apitype.ID){
		"owner":      func(v *apitype.ID) { v.Owner = keys["bob"] },
		"pubkey":     func(v *apitype.ID) { v.PubKey = flip(v.PubKey) },
		"controller": func(v *apitype.ID) { v.Controllers = []string{keys["bob"]} },
		"attrs":      func(v *apitype.ID) { v.Attrs = map[string]string{"display": "Eve"} },
		"created":    func(v *apitype.ID) { v.Created++ },
		"version":    func(v *apitype.ID) { v.Version++ },
		"height":     func(v *apitype.ID) { v.Height++ },
		"location":   func(v *apitype.ID) { v.Location = nil },
	} {
		v := id
		f(&v)
		if err := client.VerifyID(&v, "ada"); err == nil {
			t.Errorf("an answer with %s changed verified", field)
		}
	}
	if err := client.VerifyID(&id, "bob"); err == nil {
		t.Error("ada's answer verified as bob's")
	}
	var did map[string]any
	getJSON(t, url+"/v1/ids/ada/did.json", &did)
	if did["id"] != "did:vm:ada" || len(did["verificationMethod"].([]any)) != 2 {
		t.Fatalf("did.json: %v", did)
	}

	// Two accounts create one name at once: exactly one wins, both see it.
	var wg sync.WaitGroup
	res := make([]idCreated, 2)
	for i, from := range []string{"bob", "carol"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb strings.Builder
			code := cli.Run(t.Context(), []string{"--home", home, "--node", url, "id", "create", "zed", "--from", from, "-o", "json"},
				strings.NewReader(""), &out, &errb)
			if code != 0 || json.Unmarshal([]byte(out.String()), &res[i]) != nil {
				t.Errorf("concurrent create by %s: exit %d\n%s%s", from, code, out.String(), errb.String())
			}
		}()
	}
	wg.Wait()
	if res[0].Created == res[1].Created || res[0].Owner != res[1].Owner || *res[0].Location != *res[1].Location {
		t.Fatalf("concurrent creates: %+v / %+v", res[0], res[1])
	}

	// Records: owner writes, others are refused, private records reach
	// their readers only.
	ok("id", "create", "bob", "--from", "bob")
	ok("id", "set", "ada", "email=ada@example.org", "--from", "alice")
	if got := strings.TrimSpace(ok("id", "get", "ada", "email")); got != "ada@example.org" {
		t.Fatalf("get email: %q", got)
	}
	refused("neither the owner nor a controller", "id", "set", "ada", "email=evil", "--from", "bob")
	ok("id", "set", "ada", "phone=555-0100", "--private", "--readers", "ada,bob", "--from", "alice")
	if got := strings.TrimSpace(ok("id", "get", "ada", "phone", "--decrypt", "--from", "bob")); got != "555-0100" {
		t.Fatalf("bob decrypts %q", got)
	}
	if out := ok("id", "get", "ada", "phone"); strings.Contains(out, "555-0100") {
		t.Fatalf("a private record printed in the clear: %s", out)
	}
	refused("not a reader", "id", "get", "ada", "phone", "--decrypt", "--from", "carol")
	ok("id", "set", "ada", "phone=555-0199", "--private", "--readers", "ada", "--from", "alice")
	refused("not a reader", "id", "get", "ada", "phone", "--decrypt", "--from", "bob")
	if got := strings.TrimSpace(ok("id", "get", "ada", "phone", "--decrypt", "--from", "alice")); got != "555-0199" {
		t.Fatalf("alice decrypts %q", got)
	}
	refused("does not exist", "id", "set", "ada", "x=1", "--private", "--readers", "nobody-here", "--from", "alice")
	refused("at most", "id", "set", "ada", "big="+strings.Repeat("x", 16<<10+1), "--from", "alice")
	refused("key", "id", "set", "ada", "bad key=1", "--from", "alice")
	ok("id", "rm", "ada", "email", "--from", "alice")
	refused("has no record", "id", "get", "ada", "email")
	refused("record email does not exist", "id", "rm", "ada", "email", "--from", "alice")

	// A controller may write records; after a rotation the old key may not.
	var list apitype.IDRecordList
	getJSON(t, url+"/v1/ids/ada/records", &list)
	if len(list.Records) != 1 || list.Records[0].Key != "phone" || !list.Records[0].Private {
		t.Fatalf("records: %+v", list)
	}
	ok("id", "set", "ada", "web=https://ada.example", "--from", "alice")
	if out := ok("id", "records", "ada", "--limit", "1"); !strings.Contains(out, "phone\t(private, readers ada)") || !strings.Contains(out, "--after phone") {
		t.Fatalf("records page 1: %s", out)
	}
	if out := ok("id", "records", "ada", "--after", "phone"); !strings.Contains(out, "web\thttps://ada.example") {
		t.Fatalf("records page 2: %s", out)
	}

	// Attributes: set, replace, remove.
	ok("id", "attr", "ada", "city=London", "display=Ada L.", "--from", "alice")
	var shown apitype.ID
	if err := json.Unmarshal([]byte(ok("id", "show", "ada", "-o", "json")), &shown); err != nil || shown.Attrs["city"] != "London" || shown.Attrs["display"] != "Ada L." {
		t.Fatalf("attrs after set: %+v %v", shown.Attrs, err)
	}
	ok("id", "attr", "ada", "--rm", "city", "--from", "alice")
	var after apitype.ID // a fresh value: decoding into shown would merge into its map
	if err := json.Unmarshal([]byte(ok("id", "show", "ada", "-o", "json")), &after); err != nil || len(after.Attrs) != 1 || after.Attrs["display"] != "Ada L." {
		t.Fatalf("attrs after rm: %+v %v", after.Attrs, err)
	}
	refused("nothing to change", "id", "attr", "ada", "--from", "alice")
	ok("id", "controller", "add", "ada", keys["bob"], "--from", "alice")
	ok("id", "set", "ada", "web=https://ada.example", "--from", "bob")
	refused("owner", "id", "controller", "add", "ada", keys["carol"], "--from", "bob")
	ok("id", "rotate", "ada", "--to", "carol", "--from", "alice")
	refused("neither the owner nor a controller", "id", "set", "ada", "x=1", "--from", "alice")
	ok("id", "set", "ada", "x=1", "--from", "carol")

	// Bad input is refused before anything is sent.
	for _, name := range []string{"ab", "Ada", "-ada", "ada-", "a--b", "admin", strings.Repeat("a", 33)} {
		refused("id", "id", "create", "--from", "alice", "--", name)
	}
	refused("does not exist", "id", "show", "nobody-here")
}
