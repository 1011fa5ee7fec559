package contract_test

import (
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multihash"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/vmerr"
)

func TestCIDKnownVectors(t *testing.T) {
	// Computed independently: "b" + base32(0x01 0x55 0x12 0x20 || sha256(data)),
	// and what `ipfs add --raw-leaves --cid-version 1` prints for these bytes.
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello", "hello", "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := contract.CID([]byte(tt.in))
			if c.String() != tt.want {
				t.Fatalf("CID(%q) = %s, want %s", tt.in, c, tt.want)
			}
			back, err := contract.ParseCID(tt.want)
			if err != nil || !back.Equals(c) {
				t.Fatalf("ParseCID(%s) = %v, %v", tt.want, back, err)
			}
			if err := contract.VerifyCID(back, []byte(tt.in)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCIDRoundTripAndTamper(t *testing.T) {
	data := []byte("\x00asm\x01\x00\x00\x00 some module bytes")
	c := contract.CID(data)
	for _, s := range []string{c.String(), mustEncode(t, c, multibase.Base58BTC), mustEncode(t, c, multibase.Base16)} {
		back, err := contract.ParseCID(s)
		if err != nil || !back.Equals(c) {
			t.Fatalf("ParseCID(%s) = %v, %v", s, back, err)
		}
	}
	tampered := []byte(string(data))
	tampered[len(tampered)-1] ^= 1
	for _, d := range [][]byte{tampered, data[:len(data)-1], append([]byte(string(data)), 0), nil} {
		err := contract.VerifyCID(c, d)
		checkErr(t, err, vmerr.Unauthorized, "hashes to")
	}
}

func mustEncode(t *testing.T, c cid.Cid, base multibase.Encoding) string {
	t.Helper()
	s, err := c.StringOfBase(base)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestParseCIDRefuses(t *testing.T) {
	sum := func(code uint64, data string) multihash.Multihash {
		mh, err := multihash.Sum([]byte(data), code, -1)
		if err != nil {
			t.Fatal(err)
		}
		return mh
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"empty", "", "bad CID"},
		{"garbage", "hello", "bad CID"},
		{"truncated", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", "bad CID"},
		{"cidv0", cid.NewCidV0(sum(multihash.SHA2_256, "x")).String(), "only CIDv1"},
		{"dag-pb codec", cid.NewCidV1(cid.DagProtobuf, sum(multihash.SHA2_256, "x")).String(), "only the raw codec"},
		{"sha2-512", cid.NewCidV1(cid.Raw, sum(multihash.SHA2_512, "x")).String(), "only sha2-256"},
		{"identity hash", cid.NewCidV1(cid.Raw, sum(multihash.IDENTITY, "x")).String(), "only sha2-256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := contract.ParseCID(tt.in)
			checkErr(t, err, vmerr.Invalid, tt.wantErr)
		})
	}
	other := cid.NewCidV1(cid.DagProtobuf, sum(multihash.SHA2_256, "x"))
	checkErr(t, contract.VerifyCID(other, []byte("x")), vmerr.Invalid, "only the raw codec")
	checkErr(t, contract.VerifyCID(cid.Undef, nil), vmerr.Invalid, "undefined CID")
}

func FuzzParseCID(f *testing.F) {
	f.Add("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
	f.Add("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")
	f.Add("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := contract.ParseCID(s)
		if err != nil {
			if vmerr.KindOf(err) != vmerr.Invalid {
				t.Fatalf("error of kind %s: %v", vmerr.KindOf(err), err)
			}
			return
		}
		if back, err := contract.ParseCID(c.String()); err != nil || !back.Equals(c) {
			t.Fatalf("canonical form %s of %q does not parse back: %v", c, s, err)
		}
	})
}
