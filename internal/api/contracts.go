package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Contract registry limits and headers of GET /v1/contracts/{ref}/code.
const (
	MaxContractLimit = 100 // largest ?limit= of GET /v1/contracts
	// HeaderVersion is the exact version whose module a code answer carries.
	HeaderVersion = "X-Vm-Version"
	// HeaderCID is the CIDv1 of the bytes a code answer carries (the
	// version's code_hash, or its metered_hash with ?metered=true).
	HeaderCID = "X-Vm-Cid"
	// HeaderHeight is the state height a code answer is from.
	HeaderHeight = "X-Vm-Height"
	// maxRef bounds a {ref} path value: a name and a range.
	maxRef = 512
)

// listContracts is GET /v1/contracts?query=Q&tag=T&after=NAME&limit=N.
// limit is 1..100 (default 50).
func (s *Server) listContracts(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contracts"
	cb := s.b
	q := r.URL.Query()
	cq := apitype.ContractQuery{Query: q.Get("query"), Tag: q.Get("tag"), After: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxContractLimit {
			return vmerr.E(op, vmerr.Invalid, "limit=%q: want an integer from 1 to %d", v, MaxContractLimit)
		}
		cq.Limit = n
	}
	for _, p := range [...]struct{ name, v string }{{"query", cq.Query}, {"tag", cq.Tag}, {"after", cq.After}} {
		if len(p.v) > maxRef {
			return vmerr.E(op, vmerr.Invalid, "%s is %d bytes, limit %d", p.name, len(p.v), maxRef)
		}
	}
	list, err := cb.Contracts(r.Context(), cq)
	if err != nil {
		return err
	}
	if list.Contracts == nil {
		list.Contracts = []apitype.Contract{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getContract is GET /v1/contracts/{ref}?height=H&prove=true|false: a ref
// without "@" answers the registry entry (apitype.Contract), name@range
// the resolved version (apitype.ContractVersion). height defaults to 0
// (latest), prove to true.
func (s *Server) getContract(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contract"
	cb := s.b
	name, rng, hasRange, err := parseRef(op, r.PathValue("ref"))
	if err != nil {
		return err
	}
	height, err := heightParam(op, r.URL.Query())
	if err != nil {
		return err
	}
	prove, err := boolParam(op, r.URL.Query(), "prove", true)
	if err != nil {
		return err
	}
	if !hasRange {
		c, err := cb.Contract(r.Context(), name, height, prove)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
	v, err := cb.ContractVersion(r.Context(), name, rng, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// getContractVersions is GET /v1/contracts/{name}/versions?height=H.
func (s *Server) getContractVersions(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contract_versions"
	cb := s.b
	name, _, hasRange, err := parseRef(op, r.PathValue("name"))
	if err != nil {
		return err
	}
	if hasRange {
		return vmerr.E(op, vmerr.Invalid, "%q: versions takes a contract name, not name@range", r.PathValue("name"))
	}
	height, err := heightParam(op, r.URL.Query())
	if err != nil {
		return err
	}
	list, err := cb.ContractVersions(r.Context(), name, height)
	if err != nil {
		return err
	}
	if list.Versions == nil {
		list.Versions = []apitype.ContractVersion{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// getContractCode is GET /v1/contracts/{ref}/code?metered=true|false&height=H:
// the module bytes of the resolved version (a bare name resolves "*"), as
// application/wasm, with the exact version in X-Vm-Version and the CID of
// the bytes in X-Vm-Cid. A composite has no code: 404.
func (s *Server) getContractCode(w http.ResponseWriter, r *http.Request) error {
	const op = "api.contract_code"
	cb := s.b
	name, rng, _, err := parseRef(op, r.PathValue("ref"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	height, err := heightParam(op, q)
	if err != nil {
		return err
	}
	metered, err := boolParam(op, q, "metered", false)
	if err != nil {
		return err
	}
	v, code, err := cb.ContractCode(r.Context(), name, rng, metered, height)
	if err != nil {
		return err
	}
	cid := v.CodeHash
	if metered {
		cid = v.MeteredHash
	}
	if len(code) == 0 || cid == "" {
		return vmerr.E(op, vmerr.NotFound, "%s@%s has no module code (a composite?)", v.Name, v.Version)
	}
	h := w.Header()
	h.Set("Content-Type", "application/wasm")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(code)))
	h.Set(HeaderVersion, v.Version)
	h.Set(HeaderCID, cid)
	h.Set(HeaderHeight, strconv.FormatInt(v.Height, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(code)
	}
	return nil
}

// parseRef splits a {ref} path value, name or name@range, at its first
// "@". The name must be non-empty; a range after "@" must be non-empty.
// Whether they are well formed is the Backend's to judge.
func parseRef(op, ref string) (name, rng string, hasRange bool, err error) {
	if len(ref) > maxRef {
		return "", "", false, vmerr.E(op, vmerr.Invalid, "contract reference is %d bytes, limit %d", len(ref), maxRef)
	}
	name, rng, hasRange = strings.Cut(ref, "@")
	if name == "" {
		return "", "", false, vmerr.E(op, vmerr.Invalid, "contract reference %q: want name or name@range", ref)
	}
	if hasRange && strings.TrimSpace(rng) == "" {
		return "", "", false, vmerr.E(op, vmerr.Invalid, "contract reference %q: empty range after @ (use * for any version)", ref)
	}
	return name, rng, hasRange, nil
}

// heightParam reads ?height=: absent, "0" or "latest" is 0 (latest), else a
// positive integer.
func heightParam(op string, q url.Values) (int64, error) {
	v := q.Get("height")
	if v == "" || v == "latest" || v == "0" {
		return 0, nil
	}
	h, err := parseHeight(v)
	if err != nil {
		return 0, vmerr.Wrap(op, vmerr.Invalid, err)
	}
	return h, nil
}

// boolParam reads ?name=true|false, def when absent.
func boolParam(op string, q url.Values, name string, def bool) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, vmerr.E(op, vmerr.Invalid, "%s=%q: want true or false", name, v)
	}
	return b, nil
}
