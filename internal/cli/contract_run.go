package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/virtual-machine/vm/internal/composite"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/miner"
	"github.com/virtual-machine/vm/internal/wasm"
)

// stepView is one step of a composite in `contract run NAME@RANGE`.
type stepView struct {
	ID       string      `json:"id"`
	Contract string      `json:"contract"`
	Version  string      `json:"version"`
	Fn       string      `json:"fn"`
	Input    string      `json:"input"`
	Status   wasm.Status `json:"status"`
	GasUsed  uint64      `json:"gas_used"`
	Output   string      `json:"output"`
	Error    string      `json:"error,omitempty"`
}

// isDeployedRef reports whether the run argument names a deployed
// contract rather than a module file: it is not a file here and parses as
// NAME or NAME@RANGE.
func isDeployedRef(arg string) bool {
	if arg == "-" || strings.HasSuffix(arg, ".wasm") {
		return false
	}
	if _, err := os.Stat(arg); err == nil {
		return false
	}
	_, err := contract.ParseRef(arg)
	return err == nil
}

// runDeployed resolves ref on the node and runs it locally against empty
// chain's state of its namespace at the resolving height: a contract's metered module, or a composite's steps, each the pinned version's metered module, as one call
// with one gas budget (composite.Run). Every version used (and so the
// manifest and each module's CID) is checked against its proof and a block
// header, and each module against its CID, before it runs. It returns the result, the
// composite's steps (nil for a plain contract) and the exact version run.
func runDeployed(ctx context.Context, g *globals, rt *wasm.Runtime, ref string, req wasm.Request) (*wasm.Result, []stepView, string, error) {
	r, err := contract.ParseRef(ref)
	if err != nil {
		return nil, nil, "", err
	}
	c := g.client()
	v, err := c.ContractVersion(ctx, r.Name, r.Range.String(), 0)
	if err != nil {
		return nil, nil, "", err
	}
	if err := verifyVersion(ctx, c, v, r.Range.String()); err != nil {
		return nil, nil, "", fmt.Errorf("%s@%s not verified: %w", r.Name, v.Version, err)
	}
	label := r.Name + "@" + v.Version
	load := func(ctx context.Context, name, version string) (*wasm.Module, wasm.State, error) {
		code, cv, err := c.ContractCode(ctx, name, version, true)
		if err != nil {
			return nil, nil, err
		}
		// The client checked the bytes against the CID in cv; the proof of
		// cv's record makes that CID the chain's.
		if err := verifyVersion(ctx, c, cv, version); err != nil {
			return nil, nil, fmt.Errorf("%s@%s not verified: %w", name, version, err)
		}
		m, err := rt.Compile(ctx, code)
		if err != nil {
			return nil, nil, err
		}
		// The contract's namespace on the chain, as of the height the
		// version was resolved at: the state a miner would run on.
		return m, miner.StateAt(ctx, c, name, v.Height), nil
	}
	req.Contract = r.Name
	if len(v.Manifest) == 0 {
		m, st, err := load(ctx, r.Name, v.Version)
		if err != nil {
			return nil, nil, "", err
		}
		req.State = st
		res, err := rt.Call(ctx, m, req)
		return res, nil, label, err
	}
	if req.Fn != composite.RunFn {
		return nil, nil, "", fmt.Errorf("%s is a composite: its one function is %q, not %q", label, composite.RunFn, req.Fn)
	}
	man, err := composite.ParseManifest(v.Manifest)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s: stored manifest: %w", label, err)
	}
	out, err := composite.Run(ctx, rt, man, load, req)
	if err != nil {
		return nil, nil, "", err
	}
	steps := make([]stepView, 0, len(out.Steps))
	for _, s := range out.Steps {
		steps = append(steps, stepView{ID: s.ID, Contract: s.Contract, Version: s.Version, Fn: s.Fn,
			Input: string(s.Input), Status: s.Result.Status, GasUsed: s.Result.GasUsed,
			Output: string(s.Result.Output), Error: s.Result.Error})
	}
	return out.Result, steps, label, nil
}
