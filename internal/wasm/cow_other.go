//go:build !linux

package wasm

import "context"

// cowImage is only implemented on Linux; elsewhere a pooled instance is
// reset by copying the snapshot image (see cow_linux.go).
type cowImage struct{}

func newCowImage([]byte, int) *cowImage { return nil }

func openPagemap() int { return -1 }

func closePagemap(int) {}

func (c *cowImage) close() {}

// cowMemory is never made outside Linux.
type cowMemory struct{}

func (m *cowMemory) reset([]byte) error { return nil }

func (r *Runtime) instantiateCow(ctx context.Context, m *Module, _ *cowImage) (*instance, *cowMemory, error) {
	inst, err := r.instantiate(ctx, m)
	return inst, nil, err
}
