package client_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// publish deploys hello 1.0.0, 1.1.0 (yanked) and 2.0.0-beta.1 and the
// composite pipe through c, paying the deploy fee, and returns the modules.
func publish(t *testing.T, b *apitest.Backend, c *client.Client, perKiB uint64) (crypto.PrivKey, map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	k := key(t)
	raw, _ := b.Sign(k, 0, 0, apitest.Faucet(k.Address(), 1_000_000))
	if res, err := b.SubmitTx(ctx, raw, true); err != nil || res.Code != 0 {
		t.Fatalf("fund: %+v %v", res, err)
	}
	codes := map[string][]byte{"1.0.0": apitest.EchoModule("a"), "1.1.0": apitest.EchoModule("b"), "2.0.0-beta.1": apitest.EchoModule("c")}
	send := func(m *txpb.Msg) {
		t.Helper()
		fee := uint64(1)
		if d := m.GetDeploy(); d != nil {
			f, err := contract.DeployFee(perKiB, d)
			if err != nil {
				t.Fatal(err)
			}
			fee += f
		}
		if res, err := c.Send(ctx, k, []*txpb.Msg{m}, fee, true); err != nil || res.Code != 0 {
			t.Fatalf("%v: %+v %v", m, res, err)
		}
	}
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0-beta.1"} {
		send(apitest.Deploy("hello", v, codes[v], nil))
	}
	send(apitest.Yank("hello", "1.1.0", false))
	send(apitest.Deploy("pipe", "1.0.0", nil, []byte(`{"steps":[{"id":"a","contract":"hello@^1","fn":"echo","input":{"pointer":"/input"}}]}`)))
	return k, codes
}

func TestContracts(t *testing.T) {
	b, c := start(t, apitest.Config{Faucet: true, MinFee: 1, DeployFeePerKiB: 7})
	ctx := context.Background()
	owner, codes := publish(t, b, c, 7)

	entry, err := c.Contract(ctx, "hello", 0)
	if err != nil || entry.Owner != owner.Address().String() || entry.Versions != 3 || entry.Latest != "2.0.0-beta.1" || entry.Location == nil {
		t.Fatalf("Contract: %+v %v", entry, err)
	}
	if !state.SameKey(entry.Location, state.ContractKey("hello")) || state.VerifyLocation(entry.Location) != nil {
		t.Errorf("Contract location %+v does not verify", entry.Location)
	}
	for _, tc := range []struct {
		rng, want string
		wantErr   vmerr.Kind
	}{
		{"", "1.0.0", 0}, // * excludes prereleases and yanked 1.1.0
		{"^1", "1.0.0", 0},
		{"1.1.0", "1.1.0", 0},
		{">= 1.0.0 < 1.1.0 || =1.1.0", "1.0.0", 0}, // not exact: yanked 1.1.0 is skipped
		{"~2.0.0-beta.0", "2.0.0-beta.1", 0},
		{"^1.1", "", vmerr.NotFound},
		{"^^1", "", vmerr.Invalid},
		{"1.0.0/../x", "", vmerr.Invalid},
	} {
		v, err := c.ContractVersion(ctx, "hello", tc.rng, 0)
		if tc.wantErr != 0 {
			if vmerr.KindOf(err) != tc.wantErr {
				t.Errorf("hello@%s: %v, want %v", tc.rng, err, tc.wantErr)
			}
			continue
		}
		if err != nil || v.Version != tc.want || v.Location == nil || state.VerifyLocation(v.Location) != nil {
			t.Errorf("hello@%s: %+v %v, want %s with a location", tc.rng, v.Version, err, tc.want)
		}
	}
	vl, err := c.ContractVersions(ctx, "hello")
	if err != nil || len(vl.Versions) != 3 || vl.Versions[0].Version != "1.0.0" || !vl.Versions[1].Yanked {
		t.Fatalf("ContractVersions: %+v %v", vl, err)
	}
	list, err := c.Contracts(ctx, apitype.ContractQuery{Limit: 1})
	if err != nil || len(list.Contracts) != 1 || list.Contracts[0].Name != "hello" || list.Next != "hello" {
		t.Fatalf("Contracts page 1: %+v %v", list, err)
	}
	list, err = c.Contracts(ctx, apitype.ContractQuery{After: list.Next, Query: "PI"})
	if err != nil || len(list.Contracts) != 1 || list.Contracts[0].Name != "pipe" || !list.Contracts[0].Composite || list.Next != "" {
		t.Fatalf("Contracts page 2: %+v %v", list, err)
	}
	if _, err := c.Contracts(ctx, apitype.ContractQuery{Limit: 500}); vmerr.KindOf(err) != vmerr.Invalid {
		t.Errorf("limit 500: %v", err)
	}

	for _, tc := range []struct {
		rng, version string
		metered      bool
	}{{"^1", "1.0.0", false}, {"1.1.0", "1.1.0", true}, {"", "1.0.0", true}} {
		code, v, err := c.ContractCode(ctx, "hello", tc.rng, tc.metered)
		if err != nil || v.Version != tc.version {
			t.Fatalf("ContractCode(%s): %+v %v", tc.rng, v, err)
		}
		if !tc.metered && !bytes.Equal(code, codes[tc.version]) {
			t.Errorf("ContractCode(%s): not the deployed module", tc.rng)
		}
		want := v.CodeHash
		if tc.metered {
			want = v.MeteredHash
		}
		if contract.CID(code).String() != want {
			t.Errorf("ContractCode(%s, metered %v): CID %s, version records %s", tc.rng, tc.metered, contract.CID(code), want)
		}
	}
	_, _, err = c.ContractCode(ctx, "pipe", "", false)
	wantKind(t, err, vmerr.NotFound)
	_, _, err = c.ContractCode(ctx, "nobody", "^1", false)
	wantKind(t, err, vmerr.NotFound)
	_, err = c.Contract(ctx, "No", 0)
	wantKind(t, err, vmerr.Invalid)
}

// TestContractCodeTampered checks ContractCode refuses bytes that do not
// match what the chain records, however the answer was altered.
func TestContractCodeTampered(t *testing.T) {
	b, err := apitest.New(apitest.Config{Faucet: true, MinFee: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := api.New(b, api.Options{})
	defer srv.Close()
	var modeVal atomic.Value
	modeVal.Store("")
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode := modeVal.Load().(string)
		if !strings.HasSuffix(r.URL.Path, "/code") || mode == "" {
			srv.Handler().ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		switch mode {
		case "flip":
			body[len(body)-1] ^= 1
		case "recid": // bytes and header agree, the chain does not
			body = append(body, 0)
			w.Header().Set(api.HeaderCID, contract.CID(body).String())
		case "version": // another version's bytes and CID under this version
			w.Header().Set(api.HeaderVersion, "1.0.0")
		case "noheaders":
			w.Header().Del(api.HeaderCID)
		case "badcid":
			w.Header().Set(api.HeaderCID, "QmNotACIDv1")
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(body)
	}))
	defer ts.Close()
	c := client.New(ts.URL)
	publish(t, b, c, 0)
	ctx := context.Background()
	if _, _, err := c.ContractCode(ctx, "hello", "2.0.0-beta.1", false); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	for _, tc := range []struct {
		mode string
		want vmerr.Kind
	}{
		{"flip", vmerr.Unauthorized},
		{"recid", vmerr.Unauthorized},
		{"version", vmerr.Unauthorized},
		{"noheaders", vmerr.Decode},
		{"badcid", vmerr.Decode},
	} {
		modeVal.Store(tc.mode)
		code, _, err := c.ContractCode(ctx, "hello", "2.0.0-beta.1", false)
		if vmerr.KindOf(err) != tc.want || code != nil {
			t.Errorf("%s: %d bytes, %v; want %v", tc.mode, len(code), err, tc.want)
		}
	}
}

// BenchmarkContractCode measures a verified download (code GET, CID check,
// version GET with its location) against ContractVersion alone, the
// baseline, over loopback HTTP in the same run, for a small module and a
// 1 MiB one.
func BenchmarkContractCode(b *testing.B) {
	fb, err := apitest.New(apitest.Config{Faucet: true})
	if err != nil {
		b.Fatal(err)
	}
	srv := api.New(fb, api.Options{})
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(func() {
		srv.Close()
		ts.Close()
		fb.Close()
	})
	c := client.New(ts.URL)
	k, _ := crypto.GenerateKey(nil)
	big := apitest.EchoModule("big")
	// A custom section (id 0) pads the module to 1 MiB without changing its code.
	pad := make([]byte, 1<<20)
	big = append(big, 0, 0x80, 0x80, 0x40, 1, 'p')
	big = append(big, pad[:1<<20-1-1]...)
	ctx := context.Background()
	for i, m := range []*txpb.Msg{apitest.Faucet(k.Address(), 1_000_000), apitest.Deploy("small", "1.0.0", apitest.EchoModule("s"), nil),
		apitest.Deploy("big", "1.0.0", big, nil)} {
		raw, _ := fb.Sign(k, uint64(i), 0, m)
		if res, err := fb.SubmitTx(ctx, raw, true); err != nil || res.Code != 0 {
			b.Fatalf("setup %d: %+v %v", i, res, err)
		}
	}
	for _, name := range []string{"small", "big"} {
		b.Run(name+"/baseline_version", func(b *testing.B) {
			for b.Loop() {
				if _, err := c.ContractVersion(ctx, name, "^1", 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/verified_code", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := c.ContractCode(ctx, name, "^1", false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
