package state

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/ipfs/go-cid"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state/statepb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// TagMark is the value of every tag index key: iavl refuses empty values.
var TagMark = []byte{1}

// ContractKey is the store key of the registry entry of contract name.
func ContractKey(name string) []byte {
	return append([]byte{PrefixContract}, name...)
}

// VersionPrefix is the common prefix of every version key of name: the
// 0x00 separator cannot occur in a name, so no other chain shares it.
func VersionPrefix(name string) []byte {
	k := make([]byte, 0, len(name)+2)
	k = append(k, PrefixVersion)
	k = append(k, name...)
	return append(k, 0)
}

// VersionKey is the store key of one version; sortKey is
// contract.SortKey of the version, so keys iterate in semver order.
func VersionKey(name string, sortKey []byte) []byte {
	return append(VersionPrefix(name), sortKey...)
}

// CodeKey is the store key of a module by its CID.
func CodeKey(c cid.Cid) []byte {
	return append([]byte{PrefixCode}, c.Bytes()...)
}

// TagPrefix is the common prefix of the index keys of tag.
func TagPrefix(tag string) []byte {
	k := append([]byte{PrefixTag}, tag...)
	return append(k, 0)
}

// TagKey is the index key saying contract name carries tag.
func TagKey(tag, name string) []byte {
	return append(TagPrefix(tag), name...)
}

var recordMarshal = proto.MarshalOptions{Deterministic: true}

// EncodeRecord is the stored form of a registry record: deterministic
// protobuf.
func EncodeRecord(m proto.Message) []byte {
	b, err := recordMarshal.Marshal(m)
	if err != nil { // plain fields only: cannot fail
		panic(err)
	}
	return b
}

// DecodeContract parses a stored registry entry.
func DecodeContract(b []byte) (*statepb.Contract, error) {
	return decodeRecord[statepb.Contract]("contract", b)
}

// DecodeVersion parses a stored version record.
func DecodeVersion(b []byte) (*statepb.Version, error) {
	return decodeRecord[statepb.Version]("version", b)
}

// decodeRecord parses the stored protobuf record of one kind ("contract",
// "miner", ...). Errors: Decode, with op state.decode_<kind>.
func decodeRecord[T any, P interface {
	*T
	proto.Message
}](kind string, b []byte) (*T, error) {
	m := P(new(T))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, vmerr.E("state.decode_"+kind, vmerr.Decode, "%s record: %v", kind, err)
	}
	return m, nil
}

// RecordHash is the hash that links a version into its chain: SHA-256 of
// the record encoded with Yanked false, so yanking (the one mutable
// field) never breaks the links.
func RecordHash(v *statepb.Version) [32]byte {
	if !v.Yanked {
		return sha256.Sum256(EncodeRecord(v))
	}
	c := proto.Clone(v).(*statepb.Version)
	c.Yanked = false
	return sha256.Sum256(EncodeRecord(c))
}

// EncodeList and DecodeList frame a list of records in one query value:
// each preceded by its length as a uvarint.
func EncodeList(items [][]byte) []byte {
	return apitype.EncodeBatch(items)
}

// DecodeList is the inverse of EncodeList. Errors: Decode.
func DecodeList(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, vmerr.E("state.decode_list", vmerr.Decode, "record list is truncated")
		}
		out = append(out, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return out, nil
}

// ContractView is the API form of a registry entry.
func ContractView(c *statepb.Contract, height int64) apitype.Contract {
	return apitype.Contract{Name: c.Name, Owner: AddrText(c.Owner), Maintainers: addrStrings(c.Maintainers),
		Root: hex.EncodeToString(c.Root), Head: hex.EncodeToString(c.Head), Latest: c.Latest,
		Versions: c.Versions, Created: c.Created, Updated: c.Updated, Description: c.Description,
		Tags: c.Tags, Composite: c.Composite, Height: height}
}

// VersionView is the API form of a version record; owner is the chain's
// owner now.
func VersionView(v *statepb.Version, owner []byte, height int64) apitype.ContractVersion {
	h := RecordHash(v)
	return apitype.ContractVersion{Name: v.Name, Version: v.Version, CodeHash: CIDText(v.CodeCid),
		MeteredHash: CIDText(v.MeteredCid), Owner: AddrText(owner), Publisher: AddrText(v.Publisher),
		Seq: v.Seq, Prev: hex.EncodeToString(v.Prev), RecordHash: hex.EncodeToString(h[:]),
		CodeSize: v.CodeSize, MeteredSize: v.MeteredSize, Exports: v.Exports,
		Interface: rawJSON(v.Interface), Manifest: rawJSON(v.Manifest), Description: v.Description,
		Tags: v.Tags, Published: v.Height, Yanked: v.Yanked, Height: height}
}

func rawJSON(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// CIDText is the string form of CID bytes ("" for none; hex if they do not parse).
func CIDText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	c, err := cid.Cast(b)
	if err != nil {
		return hex.EncodeToString(b)
	}
	return c.String()
}

// AddrText is a stored 20-byte address as text (hex when malformed).
func AddrText(b []byte) string {
	a, err := crypto.AddressFromBytes(b)
	if err != nil {
		return hex.EncodeToString(b)
	}
	return a.String()
}

func addrStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = AddrText(b)
	}
	return out
}

// VersionHead reads only the version string and the yanked flag of a
// stored version record, skipping (not copying) its large fields: range
// resolution looks at many records and needs nothing else. Errors: Decode.
func VersionHead(b []byte) (version string, yanked bool, err error) {
	const op = "state.version_head"
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false, vmerr.E(op, vmerr.Decode, "version record: bad tag")
		}
		b = b[n:]
		switch {
		case num == 2 && typ == protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return "", false, vmerr.E(op, vmerr.Decode, "version record: bad version field")
			}
			version, n = string(v), m
		case num == 16 && typ == protowire.VarintType:
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return "", false, vmerr.E(op, vmerr.Decode, "version record: bad yanked field")
			}
			yanked, n = v != 0, m
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return "", false, vmerr.E(op, vmerr.Decode, "version record: bad field %d", num)
			}
		}
		b = b[n:]
	}
	return version, yanked, nil
}
