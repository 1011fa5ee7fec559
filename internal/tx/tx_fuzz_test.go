package tx_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// FuzzDecodeTx: Decode never panics; every error has a kind; a tx that
// decodes re-encodes (body signed again by nobody: the same fields) to
// bytes that decode to the same body, signer and signature.
func FuzzDecodeTx(f *testing.F) {
	k := key(f)
	for _, body := range []*txpb.TxBody{
		{ChainId: chain, Nonce: 1, Fee: 2, Msgs: []*txpb.Msg{transfer(make([]byte, 20), 5)}},
		{ChainId: chain, Msgs: []*txpb.Msg{{Sum: &txpb.Msg_Faucet{Faucet: &txpb.Faucet{To: make([]byte, 20), Amount: 1}}}}},
		{ChainId: chain, Msgs: []*txpb.Msg{{}}},
		{ChainId: "other"},
		{ChainId: chain, Fee: 3, Msgs: []*txpb.Msg{deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: []byte("\x00asm\x01\x00\x00\x00"), Tags: []string{"demo"}})}},
		{ChainId: chain, Msgs: []*txpb.Msg{deployMsg(&txpb.Deploy{Name: "c3", Version: "1.0.0-rc.1", Manifest: []byte(`{"steps":[]}`)})}},
		{ChainId: chain, Msgs: []*txpb.Msg{{Sum: &txpb.Msg_Yank{Yank: &txpb.Yank{Name: "hello", Version: "1.0.0", Undo: true}}}}},
		{ChainId: chain, Msgs: []*txpb.Msg{{Sum: &txpb.Msg_ContractOwners{ContractOwners: &txpb.ContractOwners{Name: "hello", Add: [][]byte{make([]byte, 20)}}}}}},
	} {
		b, err := tx.Sign(body, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := tx.Decode(b, chain)
		if err != nil {
			if s != nil {
				t.Fatal("error with a result")
			}
			if k := vmerr.KindOf(err); k == vmerr.OK || k == vmerr.Internal {
				t.Fatalf("error without a proper kind: %v", err)
			}
			return
		}
		if s.Hash != tx.HashOf(b) || s.Size != len(b) || s.Signer != s.PubKey.Address() {
			t.Fatal("derived fields do not match the input")
		}
		again, err := proto.MarshalOptions{Deterministic: true}.Marshal(&txpb.Tx{Body: s.BodyBytes, PubKey: s.PubKey, Signature: s.Signature})
		if err != nil {
			t.Fatal(err)
		}
		s2, err := tx.Decode(again, chain)
		if err != nil {
			t.Fatalf("re-encoded tx does not decode: %v", err)
		}
		if !proto.Equal(s.Body, s2.Body) || !bytes.Equal(s.BodyBytes, s2.BodyBytes) || s.Signer != s2.Signer || !bytes.Equal(s.Signature, s2.Signature) {
			t.Fatal("round trip changed the transaction")
		}
		if (s.VerifySignature() == nil) != (s2.VerifySignature() == nil) {
			t.Fatal("round trip changed the signature check")
		}
	})
}
