package state

import (
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/state/statepb"
)

// MinerKey is the store key of the miner registered by addr.
func MinerKey(addr crypto.Address) []byte {
	return append([]byte{PrefixMiner}, addr[:]...)
}

// DecodeMiner parses a stored miner record. Errors: Decode.
func DecodeMiner(b []byte) (*statepb.Miner, error) {
	return decodeRecord[statepb.Miner]("miner", b)
}

// MinerView is the API form of a miner record: amounts as decimal
// strings.
func MinerView(m *statepb.Miner, height int64) apitype.Miner {
	return apitype.Miner{Address: AddrText(m.Address), Kind: m.Kind, Capacity: m.Capacity, Endpoint: m.Endpoint,
		MinGas: strconv.FormatUint(m.MinGas, 10), SoftwareVersion: m.SoftwareVersion, Active: m.Active,
		Registered: m.Registered, Updated: m.Updated, JobsTaken: m.JobsTaken, Agreed: m.Agreed,
		Disagreed: m.Disagreed, TimedOut: m.TimedOut, Earned: strconv.FormatUint(m.Earned, 10), Height: height}
}
