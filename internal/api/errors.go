package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// StatusOf maps an error kind to the HTTP status of an answer that fails
// that way. It is also the status of a SubmitResult whose Code is k.
//
//	invalid, decode, wrong_chain, overflow  400
//	unauthorized                            403
//	not_found                               404
//	bad_nonce, exists                       409
//	too_large                               413
//	insufficient_funds                      422
//	disabled                                403
//	limit                                   429
//	unavailable                             503
//	timeout                                 504
//	internal and unknown kinds              500
func StatusOf(k vmerr.Kind) int {
	switch k {
	case vmerr.OK:
		return http.StatusOK
	case vmerr.Invalid, vmerr.Decode, vmerr.WrongChain, vmerr.Overflow:
		return http.StatusBadRequest
	case vmerr.Unauthorized, vmerr.Disabled:
		return http.StatusForbidden
	case vmerr.NotFound:
		return http.StatusNotFound
	case vmerr.BadNonce, vmerr.Exists:
		return http.StatusConflict
	case vmerr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case vmerr.InsufficientFunds:
		return http.StatusUnprocessableEntity
	case vmerr.Limit:
		return http.StatusTooManyRequests
	case vmerr.Unavailable:
		return http.StatusServiceUnavailable
	case vmerr.Timeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// httpError carries an explicit status for the few answers no kind maps to
// (405 wrong method, 415 wrong content type).
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// writeError writes err as an apitype.Error with the status of its kind.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := vmerr.KindOf(err)
	status := StatusOf(kind)
	var he *httpError
	if errors.As(err, &he) {
		status = he.status
	}
	msg := err.Error()
	if kind == vmerr.Internal {
		s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	writeJSON(w, status, apitype.Error{Code: kind.String(), Message: msg})
}

// writeJSON writes v as the JSON body of a status answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"internal","message":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
