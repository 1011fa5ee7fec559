package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// MaxJSONTxBody bounds a JSON-form POST /v1/txs body: the hex of a
// maximum-size tx plus room for the envelope and whitespace.
const MaxJSONTxBody = 2*tx.MaxDeployTxSize + 1024

// route is one API endpoint.
type route struct {
	method, path string
	h            handlerFunc
}

// handlerFunc is an API handler: it writes a 2xx answer itself or returns
// an error that the wrapper maps to a status and an apitype.Error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// table lists the API's routes; the OpenAPI test checks each is documented.
func (s *Server) table() []route {
	return []route{
		{"POST", "/v1/txs", s.submitTx},
		{"POST", "/v1/txs:batch", s.submitBatch},
		{"GET", "/v1/txs/{hash}", s.getTx},
		{"GET", "/v1/accounts/{addr}", s.getAccount},
		{"GET", "/v1/accounts/{addr}/txs", s.getAccountTxs},
		{"GET", "/v1/blocks/{height}", s.getBlock},
		{"GET", "/v1/commits/{height}", s.getCommit},
		{"GET", "/v1/genesis", s.getGenesis},
		{"GET", "/v1/status", s.getStatus},
		{"GET", "/v1/contracts", s.listContracts},
		{"GET", "/v1/contracts/{ref}", s.getContract},
		{"GET", "/v1/contracts/{name}/versions", s.getContractVersions},
		{"GET", "/v1/contracts/{ref}/code", s.getContractCode},
		{"GET", "/v1/contracts/{name}/stats", s.getContractStats},
		{"GET", "/v1/contracts/{name}/results", s.getContractResults},
		{"GET", "/v1/miners", s.listMiners},
		{"GET", "/v1/miners/{id}", s.getMiner},
		{"GET", "/v1/miners/{id}/stats", s.getMinerStats},
		{"GET", "/v1/requests", s.listRequests},
		{"GET", "/v1/requests/{id}", s.getRequest},
		{"GET", "/v1/results/{id}", s.getResult},
		{"GET", "/v1/memos/{code}/{fn}/{input}", s.getMemo},
		{"GET", "/v1/state/{contract}", s.getDataRange},
		{"GET", "/v1/state/{contract}/{key}", s.getData},
		{"GET", "/v1/ids/{id}", s.getID},
		{"GET", "/v1/ids/{id}/records", s.listIDRecords},
		{"GET", "/v1/ids/{id}/records/{key...}", s.getIDRecord},
		{"GET", "/v1/ids/{id}/did.json", s.getDID},
		{"GET", "/v1/events", s.events},
		{"GET", "/v1/openapi.yaml", s.openAPI},
	}
}

// routes builds the mux: each route under its method pattern, a fallback
// per path answering 405 with Allow, and a /v1/ fallback answering 404 —
// all with JSON error bodies.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	allow := map[string][]string{}
	var paths []string
	for _, rt := range s.table() {
		pattern := rt.method + " " + rt.path
		mux.Handle(pattern, s.metrics.observe(pattern, s.wrap(rt.h)))
		if _, ok := allow[rt.path]; !ok {
			paths = append(paths, rt.path)
		}
		allow[rt.path] = append(allow[rt.path], rt.method)
		if rt.method == "GET" {
			allow[rt.path] = append(allow[rt.path], "HEAD")
		}
	}
	for _, p := range paths {
		methods := strings.Join(allow[p], ", ")
		mux.Handle(p, s.metrics.observe("other "+p, s.wrap(func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", methods)
			return &httpError{status: http.StatusMethodNotAllowed,
				err: vmerr.E("api", vmerr.Invalid, "method %s not allowed on %s; allowed: %s", r.Method, r.URL.Path, methods)}
		})))
	}
	mux.Handle("/", s.metrics.observe("unmatched", s.wrap(func(_ http.ResponseWriter, r *http.Request) error {
		return vmerr.E("api", vmerr.NotFound, "no route %s %s", r.Method, r.URL.Path)
	})))
	return mux
}

// wrap turns a handlerFunc into an http.Handler that writes its error.
func (s *Server) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// submitTx is POST /v1/txs. The body is the encoded tx, either raw
// (application/octet-stream, the default when no Content-Type is sent) or
// JSON {"tx": "<hex>"} (application/json). ?wait=commit waits for the
// block. A tx the node rejects answers the status of its code's kind with
// the SubmitResult as body (code and log readable either way).
func (s *Server) submitTx(w http.ResponseWriter, r *http.Request) error {
	const op = "api.submit_tx"
	ctx, wait, cancel, err := s.waitParam(op, r)
	if err != nil {
		return err
	}
	defer cancel()
	raw, err := readTx(w, r)
	if err != nil {
		return err
	}
	res, err := s.b.SubmitTx(ctx, raw, wait)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && vmerr.KindOf(err) == vmerr.Internal {
			err = vmerr.E(op, vmerr.Timeout, "no commit within %s: %w", s.opts.WaitTimeout, err)
		}
		return err
	}
	writeJSON(w, StatusOf(vmerr.Kind(res.Code)), res)
	return nil
}

// readTx reads the encoded tx from a POST /v1/txs body.
func readTx(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	const op = "api.submit_tx"
	ct := r.Header.Get("Content-Type")
	mt := "application/octet-stream"
	if ct != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(ct); err != nil {
			return nil, &httpError{status: http.StatusUnsupportedMediaType, err: vmerr.E(op, vmerr.Invalid, "content type %q: %w", ct, err)}
		}
	}
	switch mt {
	case "application/octet-stream":
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, tx.MaxDeployTxSize))
		if err != nil {
			return nil, bodyError(op, err, tx.MaxDeployTxSize)
		}
		if len(b) == 0 {
			return nil, vmerr.E(op, vmerr.Decode, "empty transaction")
		}
		return b, nil
	case "application/json":
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxJSONTxBody))
		if err != nil {
			return nil, bodyError(op, err, MaxJSONTxBody)
		}
		return DecodeJSONTx(b)
	}
	return nil, &httpError{status: http.StatusUnsupportedMediaType,
		err: vmerr.E(op, vmerr.Invalid, "content type %q: want application/octet-stream or application/json", mt)}
}

// DecodeJSONTx decodes the JSON form of a POST /v1/txs body,
// {"tx": "<hex of the encoded tx>"}. Unknown fields, trailing data, an
// empty or non-hex tx fail with kind Decode; a tx over tx.MaxDeployTxSize with
// TooLarge.
func DecodeJSONTx(b []byte) ([]byte, error) {
	const op = "api.decode_json_tx"
	var body struct {
		Tx *string `json:"tx"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "JSON body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, vmerr.E(op, vmerr.Decode, "JSON body: trailing data after the object")
	}
	if body.Tx == nil || *body.Tx == "" {
		return nil, vmerr.E(op, vmerr.Decode, `JSON body: want {"tx": "<hex>"}`)
	}
	if len(*body.Tx) > 2*tx.MaxDeployTxSize {
		return nil, vmerr.E(op, vmerr.TooLarge, "transaction is %d bytes, limit %d", len(*body.Tx)/2, tx.MaxDeployTxSize)
	}
	raw, err := hex.DecodeString(*body.Tx)
	if err != nil {
		return nil, vmerr.E(op, vmerr.Decode, "tx is not hex: %w", err)
	}
	return raw, nil
}

func bodyError(op string, err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return vmerr.E(op, vmerr.TooLarge, "request body over the limit of %d bytes", limit)
	}
	return vmerr.E(op, vmerr.Invalid, "read body: %w", err)
}

// getTx is GET /v1/txs/{hash}.
func (s *Server) getTx(w http.ResponseWriter, r *http.Request) error {
	h, err := tx.ParseHash(r.PathValue("hash"))
	if err != nil {
		return err
	}
	t, err := s.b.Tx(r.Context(), h)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// getAccount is GET /v1/accounts/{addr}?height=H&prove=true|false.
// height defaults to 0 (latest), prove to true.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	const op = "api.account"
	addr, err := crypto.ParseAddress(r.PathValue("addr"))
	if err != nil {
		return vmerr.Wrap(op, vmerr.Invalid, err)
	}
	q := r.URL.Query()
	var height int64
	if v := q.Get("height"); v != "" && v != "latest" && v != "0" {
		if height, err = parseHeight(v); err != nil {
			return err
		}
	}
	prove := true
	if v := q.Get("prove"); v != "" {
		if prove, err = strconv.ParseBool(v); err != nil {
			return vmerr.E(op, vmerr.Invalid, "prove=%q: want true or false", v)
		}
	}
	a, err := s.b.Account(r.Context(), addr, height, prove)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// getBlock is GET /v1/blocks/{height}; height is a positive integer or
// "latest".
func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) error {
	var height int64
	if v := r.PathValue("height"); v != "latest" {
		var err error
		if height, err = parseHeight(v); err != nil {
			return err
		}
	}
	b, err := s.b.Block(r.Context(), height)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// getStatus is GET /v1/status.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.b.Status(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// openAPI is GET /v1/openapi.yaml.
func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPI)
	return nil
}

// parseHeight parses a block height: a decimal integer ≥ 1.
func parseHeight(v string) (int64, error) {
	h, err := strconv.ParseInt(v, 10, 64)
	if err != nil || h < 1 {
		return 0, vmerr.E("api.height", vmerr.Invalid, "height %q: want a positive integer or \"latest\"", v)
	}
	return h, nil
}

// waitParam reads ?wait=: "commit" waits for the block, bounded by
// WaitTimeout in the returned context; "" or "sync" answers after CheckTx;
// anything else is Invalid. cancel is never nil.
func (s *Server) waitParam(op string, r *http.Request) (ctx context.Context, wait bool, cancel context.CancelFunc, err error) {
	switch v := r.URL.Query().Get("wait"); v {
	case "", "sync":
		return r.Context(), false, func() {}, nil
	case "commit":
		ctx, cancel = context.WithTimeout(r.Context(), s.opts.WaitTimeout)
		return ctx, true, cancel, nil
	default:
		return nil, false, func() {}, vmerr.E(op, vmerr.Invalid, "wait=%q: want commit or sync", v)
	}
}
