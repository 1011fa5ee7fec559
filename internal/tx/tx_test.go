package tx_test

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

const chain = "vm-test"

func key(t testing.TB) crypto.PrivKey {
	k, err := crypto.KeyFromSeed(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func transfer(to []byte, amount uint64) *txpb.Msg {
	return &txpb.Msg{Sum: &txpb.Msg_Transfer{Transfer: &txpb.Transfer{To: to, Amount: amount}}}
}

func TestSignDecode(t *testing.T) {
	k := key(t)
	to := make([]byte, 20)
	b, err := tx.Sign(&txpb.TxBody{ChainId: chain, Nonce: 3, Fee: 1, Msgs: []*txpb.Msg{transfer(to, 5)}}, k)
	if err != nil {
		t.Fatal(err)
	}
	s, err := tx.Decode(b, chain)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(); err != nil {
		t.Fatal(err)
	}
	if s.Signer != k.Address() || s.Body.Nonce != 3 || s.Hash != tx.HashOf(b) {
		t.Fatalf("decoded %+v", s)
	}
	h, err := tx.ParseHash(s.Hash.String())
	if err != nil || h != s.Hash {
		t.Fatalf("hash round trip: %v %v", h, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	k := key(t)
	to := make([]byte, 20)
	sign := func(body *txpb.TxBody) []byte {
		b, err := tx.Sign(body, k)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(to, 1)}})
	many := make([]*txpb.Msg, tx.MaxMsgs+1)
	for i := range many {
		many[i] = transfer(to, 1)
	}
	tests := []struct {
		name string
		in   []byte
		want vmerr.Kind
	}{
		{"empty", nil, vmerr.Decode},
		{"garbage", []byte{0xff, 0xff, 0xff}, vmerr.Decode},
		{"truncated", good[:len(good)-10], vmerr.Decode},
		{"oversized", make([]byte, tx.MaxDeployTxSize+1), vmerr.TooLarge},
		{"wrong chain", sign(&txpb.TxBody{ChainId: "other", Msgs: []*txpb.Msg{transfer(to, 1)}}), vmerr.WrongChain},
		{"no messages", sign(&txpb.TxBody{ChainId: chain}), vmerr.Invalid},
		{"too many messages", sign(&txpb.TxBody{ChainId: chain, Msgs: many}), vmerr.TooLarge},
		{"unknown message", sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{{}}}), vmerr.Invalid},
		{"zero amount", sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(to, 0)}}), vmerr.Invalid},
		{"huge amount", sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(to, tx.MaxAmount+1)}}), vmerr.Overflow},
		{"short recipient", sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(to[:19], 1)}}), vmerr.Invalid},
		{"no signature", mustMarshal(t, &txpb.Tx{Body: []byte{}, PubKey: k.PubKey()}), vmerr.Unauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tx.Decode(tt.in, chain)
			if got := vmerr.KindOf(err); got != tt.want {
				t.Fatalf("kind = %v (%v), want %v", got, err, tt.want)
			}
		})
	}
}

func deployMsg(d *txpb.Deploy) *txpb.Msg { return &txpb.Msg{Sum: &txpb.Msg_Deploy{Deploy: d}} }

// TestRegistryMessages checks the stateless rules of Deploy, Yank and
// ContractOwners.
func TestRegistryMessages(t *testing.T) {
	code := []byte("\x00asm\x01\x00\x00\x00")
	addr := make([]byte, 20)
	owners := func(o *txpb.ContractOwners) *txpb.Msg {
		return &txpb.Msg{Sum: &txpb.Msg_ContractOwners{ContractOwners: o}}
	}
	yank := func(name, v string) *txpb.Msg {
		return &txpb.Msg{Sum: &txpb.Msg_Yank{Yank: &txpb.Yank{Name: name, Version: v}}}
	}
	tests := []struct {
		name string
		in   *txpb.Msg
		want vmerr.Kind
	}{
		{"deploy", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code}), vmerr.OK},
		{"composite", deployMsg(&txpb.Deploy{Name: "c3", Version: "1.0.0", Manifest: []byte("{}")}), vmerr.OK},
		{"bad name", deployMsg(&txpb.Deploy{Name: "Hello", Version: "1.0.0", Code: code}), vmerr.Invalid},
		{"bad version", deployMsg(&txpb.Deploy{Name: "hello", Version: "v1", Code: code}), vmerr.Invalid},
		{"neither code nor manifest", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0"}), vmerr.Invalid},
		{"both", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code, Manifest: []byte("{}")}), vmerr.Invalid},
		{"code too large", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: make([]byte, tx.MaxCodeSize+1)}), vmerr.TooLarge},
		{"manifest too large", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Manifest: make([]byte, tx.MaxManifestSize+1)}), vmerr.TooLarge},
		{"interface too large", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code, Interface: make([]byte, tx.MaxInterfaceSize+1)}), vmerr.TooLarge},
		{"bad tag", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code, Tags: []string{"Nope!"}}), vmerr.Invalid},
		{"control character in description", deployMsg(&txpb.Deploy{Name: "hello", Version: "1.0.0", Code: code, Description: "a\x01b"}), vmerr.Invalid},
		{"yank", yank("hello", "1.0.0"), vmerr.OK},
		{"yank a range", yank("hello", "^1"), vmerr.Invalid},
		{"owners", owners(&txpb.ContractOwners{Name: "hello", Add: [][]byte{addr}}), vmerr.OK},
		{"owners changing nothing", owners(&txpb.ContractOwners{Name: "hello"}), vmerr.Invalid},
		{"owners short address", owners(&txpb.ContractOwners{Name: "hello", Remove: [][]byte{addr[:19]}}), vmerr.Invalid},
		{"owners duplicate address", owners(&txpb.ContractOwners{Name: "hello", Add: [][]byte{addr}, Remove: [][]byte{addr}}), vmerr.Invalid},
		{"owners bad new owner", owners(&txpb.ContractOwners{Name: "hello", NewOwner: addr[:3]}), vmerr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := vmerr.KindOf(tx.ValidateMsg(tt.in)); got != tt.want {
				t.Fatalf("kind = %v (%v), want %v", got, tx.ValidateMsg(tt.in), tt.want)
			}
		})
	}
}

func TestBadSignature(t *testing.T) {
	k := key(t)
	b, _ := tx.Sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(make([]byte, 20), 1)}}, k)
	var raw txpb.Tx
	if err := proto.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	raw.Signature[0] ^= 1
	s, err := tx.Decode(mustMarshal(t, &raw), chain)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifySignature(); vmerr.KindOf(err) != vmerr.Unauthorized {
		t.Fatalf("VerifySignature = %v", err)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejectsNonCanonicalWrapper(t *testing.T) {
	k := key(t)
	b, _ := tx.Sign(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(make([]byte, 20), 1)}}, k)
	tests := []struct {
		name string
		in   []byte
	}{
		{"unknown field appended", append(append([]byte(nil), b...), 0x20, 0x01)},                          // field 4, varint 1
		{"pubkey repeated", append(append([]byte(nil), b...), append([]byte{0x12, 32}, k.PubKey()...)...)}, // field 2 again
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tx.Decode(tt.in, chain); vmerr.KindOf(err) != vmerr.Decode {
				t.Fatalf("Decode = %v, want a decode error", err)
			}
		})
	}
}

func TestDecodeRejectsNonCanonicalBody(t *testing.T) {
	k := key(t)
	body, _ := proto.Marshal(&txpb.TxBody{ChainId: chain, Msgs: []*txpb.Msg{transfer(make([]byte, 20), 1)}})
	body = append(body, 0x28, 0x01) // field 5 varint: unknown to this node
	b := mustMarshal(t, &txpb.Tx{Body: body, PubKey: k.PubKey(), Signature: k.Sign(body)})
	if _, err := tx.Decode(b, chain); vmerr.KindOf(err) != vmerr.Decode {
		t.Fatalf("Decode = %v, want a decode error", err)
	}
}
