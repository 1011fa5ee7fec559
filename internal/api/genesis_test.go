package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/nodetest"
)

// setHash computes CometBFT's validator-set hash by hand (the Merkle
// root of SimpleValidator{PubKey{ed25519}, power} encodings, RFC 6962
// leaf and inner prefixes), independently of CometBFT's code.
func setHash(t *testing.T, vals []apitype.GenesisValidator) string {
	t.Helper()
	leaves := make([][]byte, len(vals))
	for i, v := range vals {
		pub, err := hex.DecodeString(v.PubKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			t.Fatalf("validator %d: pub_key %q", i, v.PubKey)
		}
		power, err := strconv.ParseInt(v.Power, 10, 64)
		if err != nil {
			t.Fatalf("validator %d: power %q", i, v.Power)
		}
		sum := sha256.Sum256(pub)
		if v.Address != hex.EncodeToString(sum[:20]) {
			t.Errorf("validator %d: address %s is not SHA-256(pub_key)[:20]", i, v.Address)
		}
		enc := append([]byte{0x0a, 0x22, 0x0a, 0x20}, pub...)
		enc = binary.AppendUvarint(append(enc, 0x10), uint64(power))
		leaves[i] = enc
	}
	var root func([][]byte) []byte
	root = func(items [][]byte) []byte {
		switch len(items) {
		case 0:
			s := sha256.Sum256(nil)
			return s[:]
		case 1:
			s := sha256.Sum256(append([]byte{0}, items[0]...))
			return s[:]
		}
		k := 1
		for k*2 < len(items) {
			k *= 2
		}
		s := sha256.Sum256(append(append([]byte{1}, root(items[:k])...), root(items[k:])...))
		return s[:]
	}
	return hex.EncodeToString(root(leaves))
}

// TestGenesisRouteFake reads the fake's fixed genesis: one validator,
// apitest.GenesisValidatorKey, whose hash and address recompute by hand.
func TestGenesisRouteFake(t *testing.T) {
	e := newEnv(t, api.Options{})
	resp, body := e.do(t, request{method: "GET", path: "/v1/genesis"})
	var g apitype.Genesis
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &g) != nil {
		t.Fatalf("GET /v1/genesis: %d %s", resp.StatusCode, body)
	}
	pub := hex.EncodeToString(apitest.GenesisValidatorKey().Public().(ed25519.PublicKey))
	if g.ChainID != "vm-test" || len(g.Validators) != 1 || g.Validators[0].PubKey != pub ||
		g.Validators[0].Power != strconv.Itoa(apitest.GenesisValidatorPower) {
		t.Fatalf("genesis %+v", g)
	}
	if want := setHash(t, g.Validators); g.Hash != want {
		t.Errorf("hash %s, by hand %s", g.Hash, want)
	}
	if resp, _ := e.do(t, request{method: "POST", path: "/v1/genesis"}); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
}

// TestGenesisRouteNode reads a real node's genesis: it is the home's
// genesis file, its hash recomputes by hand, and it is the
// validators_hash block 1's header names.
func TestGenesisRouteNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	env := nodetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	trust, err := lightproof.LoadHome(env.Home)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(env.URL + "/v1/genesis")
	if err != nil {
		t.Fatal(err)
	}
	var g apitype.Genesis
	err = json.NewDecoder(resp.Body).Decode(&g)
	resp.Body.Close()
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("GET /v1/genesis: %d %v", resp.StatusCode, err)
	}
	if want := api.GenesisOf(trust); !reflect.DeepEqual(g, want) {
		t.Errorf("genesis %+v, the home's %+v", g, want)
	}
	if g.ChainID != nodetest.ChainID || len(g.Validators) == 0 {
		t.Errorf("genesis %+v on chain %s", g, nodetest.ChainID)
	}
	if want := setHash(t, g.Validators); g.Hash != want {
		t.Errorf("hash %s, by hand %s", g.Hash, want)
	}
	c, err := env.Client.Commit(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := lightproof.VerifyCommit(&c, trust)
	if err != nil {
		t.Fatal(err)
	}
	if h := hex.EncodeToString(lb.Header.ValidatorsHash); h != g.Hash {
		t.Errorf("block 1 names validators %s, genesis hash %s", h, g.Hash)
	}
}

// TestGenesisSchema checks the Genesis and GenesisValidator schemas of
// openapi.yaml name every field of their apitype, all required.
func TestGenesisSchema(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
				Required   []string       `yaml:"required"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"Genesis": apitype.Genesis{}, "GenesisValidator": apitype.GenesisValidator{}} {
		s, ok := doc.Components.Schemas[name]
		if !ok {
			t.Fatalf("no %s schema", name)
		}
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if _, ok := s.Properties[f]; !ok {
				t.Errorf("schema %s lacks field %q", name, f)
			}
		}
		if len(s.Properties) != typ.NumField() || len(s.Required) != typ.NumField() {
			t.Errorf("schema %s has %d properties (%d required), apitype.%s %d fields", name, len(s.Properties), len(s.Required), name, typ.NumField())
		}
	}
}
