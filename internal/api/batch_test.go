package api_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/api/apitest"
	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestDecodeBatch(t *testing.T) {
	big := make([]byte, tx.MaxDeployTxSize+1)
	tooMany := bytes.Repeat([]byte{1, 7}, api.MaxBatchTxs+1)
	tests := []struct {
		name    string
		in      []byte
		want    [][]byte
		wantErr vmerr.Kind
	}{
		{name: "one", in: []byte{2, 'a', 'b'}, want: [][]byte{[]byte("ab")}},
		{name: "two", in: []byte{1, 'a', 3, 'b', 'c', 'd'}, want: [][]byte{[]byte("a"), []byte("bcd")}},
		{name: "max count", in: bytes.Repeat([]byte{1, 7}, api.MaxBatchTxs), want: nil},
		{name: "empty body", in: nil, wantErr: vmerr.Decode},
		{name: "zero length", in: []byte{0}, wantErr: vmerr.Decode},
		{name: "truncated entry", in: []byte{3, 'a'}, wantErr: vmerr.Decode},
		{name: "truncated varint", in: []byte{0x80}, wantErr: vmerr.Decode},
		{name: "non-minimal varint", in: []byte{0x82, 0x00, 'a', 'b'}, wantErr: vmerr.Decode},
		{name: "two-byte varint", in: append([]byte{0x80, 0x01}, bytes.Repeat([]byte{'x'}, 128)...), want: [][]byte{bytes.Repeat([]byte{'x'}, 128)}},
		{name: "overlong varint", in: bytes.Repeat([]byte{0xff}, 11), wantErr: vmerr.Decode},
		{name: "entry too large", in: append(binary.AppendUvarint(nil, uint64(len(big))), big...), wantErr: vmerr.TooLarge},
		{name: "too many", in: tooMany, wantErr: vmerr.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := api.DecodeBatch(tt.in)
			if tt.wantErr != 0 {
				if vmerr.KindOf(err) != tt.wantErr {
					t.Fatalf("err %v (kind %v), want kind %v", err, vmerr.KindOf(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != nil && len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tt.want))
			}
			for i := range tt.want {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("entry %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
			if !bytes.Equal(apitype.EncodeBatch(got), tt.in) {
				t.Error("EncodeBatch does not give the body back")
			}
		})
	}
}

// FuzzDecodeBatch checks DecodeBatch never panics, fails only with Decode
// or TooLarge, and that what it accepts re-encodes to the same body.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range [][]byte{{1, 'a'}, {0}, {0x80}, {2, 'a'}, {1, 'a', 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		txs, err := api.DecodeBatch(in)
		if err != nil {
			if k := vmerr.KindOf(err); k != vmerr.Decode && k != vmerr.TooLarge {
				t.Fatalf("error kind %v: %v", k, err)
			}
			return
		}
		if len(txs) == 0 || len(txs) > api.MaxBatchTxs {
			t.Fatalf("accepted %d entries", len(txs))
		}
		if !bytes.Equal(apitype.EncodeBatch(txs), in) {
			t.Fatal("round trip differs")
		}
	})
}

// TestSubmitBatch drives POST /v1/txs:batch against the fake backend:
// order is kept (a sender's nonces 0..2 all commit), a bad entry is a
// per-entry code under HTTP 200, and malformed bodies submit nothing.
func TestSubmitBatch(t *testing.T) {
	e := newEnv(t, api.Options{})
	k := mustKey(t)
	e.fund(t, k, 0, 1000)
	to := mustKey(t).Address()
	var txs [][]byte
	for nonce := uint64(1); nonce <= 3; nonce++ {
		raw, err := e.b.Sign(k, nonce, 1, apitest.Transfer(to, 10))
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, raw)
	}
	bad := append([]byte(nil), txs[0]...)
	bad[len(bad)-1] ^= 1 // breaks the signature
	post := func(body []byte, ct, query string) (*http.Response, apitype.BatchResult) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.ts.URL+"/v1/txs:batch"+query, bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out apitype.BatchResult
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
		}
		return resp, out
	}

	for _, c := range []struct {
		name, ct, query string
		body            []byte
		wantStatus      int
	}{
		{name: "malformed", body: []byte{5, 1}, wantStatus: 400},
		{name: "json content type", ct: "application/json", body: apitype.EncodeBatch(txs), wantStatus: 415},
		{name: "bad wait", query: "?wait=never", body: apitype.EncodeBatch(txs), wantStatus: 400},
	} {
		if resp, _ := post(c.body, c.ct, c.query); resp.StatusCode != c.wantStatus {
			t.Errorf("%s: HTTP %d, want %d", c.name, resp.StatusCode, c.wantStatus)
		}
	}
	if acc, err := e.b.Account(t.Context(), k.Address(), 0, false); err != nil || acc.Nonce != 1 {
		t.Fatalf("a refused batch changed the account: %+v %v", acc, err)
	}

	resp, out := post(apitype.EncodeBatch([][]byte{txs[0], bad, txs[1], txs[2]}), "application/octet-stream", "?wait=commit")
	if resp.StatusCode != 200 || len(out.Results) != 4 {
		t.Fatalf("HTTP %d, %d results", resp.StatusCode, len(out.Results))
	}
	for i, r := range out.Results {
		wantHash := tx.HashOf([][]byte{txs[0], bad, txs[1], txs[2]}[i]).String()
		if r.Hash != wantHash {
			t.Errorf("result %d hash %s, want %s", i, r.Hash, wantHash)
		}
		if i == 1 {
			if vmerr.Kind(r.Code) != vmerr.Unauthorized || !strings.Contains(r.Log, "signature") {
				t.Errorf("bad entry: %+v", r)
			}
			continue
		}
		if r.Code != 0 || r.Height == 0 {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	acc, err := e.b.Account(t.Context(), k.Address(), 0, false)
	if err != nil || acc.Nonce != 4 {
		t.Fatalf("account after batch: %+v %v (want nonce 4)", acc, err)
	}
}
