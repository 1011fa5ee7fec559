package contract

import (
	"math/bits"

	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// DeployPayload is the number of bytes a Deploy stores on every node:
// len(name) + len(version) + len(code) + len(manifest) + len(interface) +
// len(description) + the lengths of the tags. A nil d has payload 0.
func DeployPayload(d *txpb.Deploy) int {
	n := len(d.GetName()) + len(d.GetVersion()) + len(d.GetCode()) + len(d.GetManifest()) +
		len(d.GetInterface()) + len(d.GetDescription())
	for _, t := range d.GetTags() {
		n += len(t)
	}
	return n
}

// DeployFee returns perKiB GAS per started KiB of DeployPayload(d):
// perKiB * ceil(payload/1024). A product above 2^64-1 is an error of kind
// vmerr.Overflow.
func DeployFee(perKiB uint64, d *txpb.Deploy) (uint64, error) {
	kib := (uint64(DeployPayload(d)) + 1023) / 1024
	hi, lo := bits.Mul64(perKiB, kib)
	if hi != 0 {
		return 0, vmerr.E("contract.deploy_fee", vmerr.Overflow, "deploy fee %d GAS/KiB * %d KiB overflows", perKiB, kib)
	}
	return lo, nil
}
