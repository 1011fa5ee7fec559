package api_test

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/virtual-machine/vm/internal/api"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// FuzzDecodeJSONTx checks the JSON form of POST /v1/txs never panics,
// fails only with Decode or TooLarge, and that what it accepts is exactly
// the hex it was given: re-encoding the result decodes to the same bytes.
func FuzzDecodeJSONTx(f *testing.F) {
	for _, s := range []string{`{"tx":"0a0b"}`, `{"tx":""}`, `{}`, `{"tx":"zz"}`, `{"tx":"00"} {}`,
		`{"tx":"00","x":1}`, `[]`, `null`, `{"tx":null}`, `{"TX":"0A"}`, `{"tx":"0"}`, " \n{\"tx\":\"ff\"}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		raw, err := api.DecodeJSONTx(in)
		if err != nil {
			if k := vmerr.KindOf(err); k != vmerr.Decode && k != vmerr.TooLarge {
				t.Fatalf("error kind %v: %v", k, err)
			}
			return
		}
		if len(raw) == 0 || len(raw) > tx.MaxDeployTxSize {
			t.Fatalf("accepted %d bytes", len(raw))
		}
		again, _ := json.Marshal(map[string]string{"tx": hex.EncodeToString(raw)})
		raw2, err := api.DecodeJSONTx(again)
		if err != nil || hex.EncodeToString(raw2) != hex.EncodeToString(raw) {
			t.Fatalf("round trip: %x vs %x (%v)", raw, raw2, err)
		}
	})
}
