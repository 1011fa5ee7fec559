package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/contract"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxMeteredSize bounds a metered module ContractCode accepts: metering
// adds a gas charge per basic block, so a metered module outgrows its
// original (a 3.3 MB Go contract meters to 4.8 MB); the chain refuses a
// metered form over 2x the original plus 256 KiB (meter.MaxMeteredSize),
// so 4x the largest original is ample.
const MaxMeteredSize = 4 * tx.MaxCodeSize

// Headers of GET /v1/contracts/{ref}/code (internal/api defines them; the
// client does not import the server).
const (
	headerVersion = "X-Vm-Version"
	headerCID     = "X-Vm-Cid"
	headerHeight  = "X-Vm-Height"
)

// Contracts lists the contract registry: GET /v1/contracts with q's
// query, tag, after and limit (0 = the node's default, 50). Follow Next
// (as q.After) for the following page.
func (c *Client) Contracts(ctx context.Context, q apitype.ContractQuery) (apitype.ContractList, error) {
	v := url.Values{}
	for _, p := range [...]struct{ k, v string }{{"query", q.Query}, {"tag", q.Tag}, {"after", q.After}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	path := "/v1/contracts"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var l apitype.ContractList
	return l, c.do(ctx, c.timeout, "client.contracts", http.MethodGet, path, nil, &l)
}

// Contract returns the registry entry of name at height (0 = latest) with
// its Location (check it with state.VerifyLocation). Errors: NotFound for
// no such contract, Invalid for a bad name.
func (c *Client) Contract(ctx context.Context, name string, height int64) (apitype.Contract, error) {
	var out apitype.Contract
	return out, c.do(ctx, c.timeout, "client.contract", http.MethodGet, contractPath(name, "", false, "", height), nil, &out)
}

// ContractVersions returns every version of name, in ascending semver
// order, at the latest height.
func (c *Client) ContractVersions(ctx context.Context, name string) (apitype.VersionList, error) {
	var out apitype.VersionList
	return out, c.do(ctx, c.timeout, "client.contract_versions", http.MethodGet, contractPath(name, "", false, "/versions", 0), nil, &out)
}

// ContractVersion resolves name@rng ("" = "*") at height (0 = latest): the
// highest non-yanked version rng matches, or the exact version (yanked or
// not) when rng names one. The answer carries its Location. Errors:
// Invalid for a bad name or range, NotFound when nothing matches.
func (c *Client) ContractVersion(ctx context.Context, name, rng string, height int64) (apitype.ContractVersion, error) {
	var out apitype.ContractVersion
	return out, c.do(ctx, c.timeout, "client.contract_version", http.MethodGet, contractPath(name, rng, true, "", height), nil, &out)
}

// ContractCode downloads the module of name@rng ("" = "*"): the original
// bytes, or the metered ones with metered. It verifies them: the bytes
// must hash to the CID the node sent (X-Vm-Cid), and that CID must be the
// code_hash (metered_hash) of the exact version the node named, read back
// with its Location at the same height. It returns the bytes and that
// version; it does not check the Location (that needs a trusted header:
// the CLI's verifyVersion does it), so until the caller has, the CID is
// only as good as the node. Errors: NotFound for no such contract or version and for a
// composite (no code); Unauthorized when the bytes or the CIDs do not
// match; TooLarge for an answer over tx.MaxCodeSize (MaxMeteredSize
// for a metered module); Decode for an answer
// without the headers.
func (c *Client) ContractCode(ctx context.Context, name, rng string, metered bool) ([]byte, apitype.ContractVersion, error) {
	const op = "client.contract_code"
	var none apitype.ContractVersion
	if c.baseErr != nil {
		return nil, none, c.baseErr
	}
	path := contractPath(name, rng, true, "/code", 0)
	if metered {
		path += "?metered=true"
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, none, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	req.Header.Set("Accept", "application/wasm")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, none, transportError(op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, none, decodeError(op, resp.StatusCode, readAnswer(resp))
	}
	limit := tx.MaxCodeSize
	if metered {
		limit = MaxMeteredSize
	}
	code, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	resp.Body.Close()
	if err != nil {
		return nil, none, transportError(op, err)
	}
	if len(code) > limit {
		return nil, none, vmerr.E(op, vmerr.TooLarge, "module over %d bytes", limit)
	}
	version, cidText := resp.Header.Get(headerVersion), resp.Header.Get(headerCID)
	height, herr := strconv.ParseInt(resp.Header.Get(headerHeight), 10, 64)
	if version == "" || cidText == "" || herr != nil || height < 1 {
		return nil, none, vmerr.E(op, vmerr.Decode, "code answer without %s, %s or %s headers", headerVersion, headerCID, headerHeight)
	}
	id, err := contract.ParseCID(cidText)
	if err != nil {
		return nil, none, vmerr.E(op, vmerr.Decode, "%s %q: %w", headerCID, cidText, err)
	}
	if err := contract.VerifyCID(id, code); err != nil {
		return nil, none, vmerr.E(op, vmerr.Unauthorized, "the module bytes do not match their CID %s: %w", cidText, err)
	}
	v, err := c.ContractVersion(ctx, name, version, height)
	if err != nil {
		return nil, none, err
	}
	want := v.CodeHash
	if metered {
		want = v.MeteredHash
	}
	wantID, werr := contract.ParseCID(want)
	if v.Version != version || werr != nil || !wantID.Equals(id) {
		return nil, none, vmerr.E(op, vmerr.Unauthorized,
			"%s@%s at height %d records CID %q, the code answer was %s with CID %s", name, v.Version, height, want, version, id)
	}
	return code, v, nil
}

// contractPath builds /v1/contracts/{ref}{suffix}[?height=H], escaping the
// reference (ranges hold ^, ~, spaces and |).
func contractPath(name, rng string, withRange bool, suffix string, height int64) string {
	ref := name
	if withRange {
		if rng == "" {
			rng = "*"
		}
		ref += "@" + rng
	}
	p := "/v1/contracts/" + url.PathEscape(ref) + suffix
	if height != 0 {
		p += "?height=" + strconv.FormatInt(height, 10)
	}
	return p
}
