package composite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// Loader returns the compiled metered module and the namespace State of an
// exact contract version. Its errors are host failures: Run returns them.
type Loader func(ctx context.Context, name, version string) (*wasm.Module, wasm.State, error)

// StepResult is what one step of a run did: the input Run built for it and
// the step's own call result, kept separately so it can be memoized. In
// Result.ReadSet, a key the composite had already written was served by the
// overlay and shows version 0; such a step depends on earlier steps, not
// only on stored versions.
type StepResult struct {
	ID       string
	Contract string // the contract name (without the range)
	Version  string // the pinned exact version
	Fn       string
	Input    []byte
	Result   *wasm.Result
	CodeHash [32]byte // the step's metered module
	Hit      bool     // a memo answered the step (Result is the memo's)
}

// Memos answers a step from a memo: the stored result of fn of the metered
// module whose hash is code, on an input whose SHA-256 is input, provided
// every read it records still holds in the state the run reads (the
// implementation checks that; Run refuses on its own a memo that read a key
// the composite wrote earlier). nil, nil means no memo. Its errors are host
// failures: Run returns them.
type Memos func(ctx context.Context, code [32]byte, fn string, input [32]byte) (*wasm.Result, error)

// Result is the outcome of a composite run: Result is the composite as one
// call result, Steps the steps that ran, in execution order.
type Result struct {
	Result *wasm.Result
	Steps  []StepResult
}

// Run executes the pinned manifest m as one call and returns its result.
//
// req.Input is the call input; it must be JSON (empty means null) of at most
// the runtime's MaxInputSize bytes, else the result has status bad_input and
// no step runs. req.GasLimit is the budget
// shared by all steps: step i runs with what the steps before it left.
// req.Contract is the composite's name: steps see it as their caller (like a
// contract-to-contract call). Steps run in m.Order(); each gets the compact
// JSON its Source builds, with Height, Time and Contracts from req, Depth
// req.Depth, and the seed SHA-256(req.Seed || "composite/" || id). A pointer
// into a step's output needs that output to be JSON and the pointed-to value
// to exist; otherwise the run stops with status abort and an error naming the
// step being fed (or "output"). Later steps, and contracts they call, see
// earlier steps' writes through an overlay over the States the Loader and
// req.Contracts return (Get and Range both merge).
//
// The first step whose status is not ok ends the run: the composite has that
// status, the error names the step ("step <id> (<name>@<version>.<fn>):
// <step error>"), and no writes, events or output are kept (gas, reads and
// logs are). On success the Result has: Output the manifest's output source
// evaluated (default: the last step's output bytes, verbatim), status
// output_too_large if that exceeds the runtime's MaxOutputSize; GasUsed the
// sum over steps; ReadSet the reads that reached the States (not served by
// the composite's own earlier writes), first read of each key kept; WriteSet
// the final write per (contract, key) sorted by contract then key; Logs and
// Events concatenated in step order. Equal inputs give byte-identical results
// (wasm.Result.MarshalBinary).
//
// The Go error is non-nil only for host failures: the Loader failed (its
// error wrapped, with the step named, kind kept), wasm.Runtime.Call failed,
// or m is not pinned (vmerr.Invalid); there is then no result. m must be a
// manifest ParseManifest returned and Pin pinned; Run does not check it again.
func Run(ctx context.Context, rt *wasm.Runtime, m *Manifest, load Loader, req wasm.Request) (*Result, error) {
	return RunMemos(ctx, rt, m, load, req, nil)
}

// RunMemos is Run where memos (when not nil) may answer steps. A step a
// memo answers does not run and uses no gas; its output, reads, logs and
// events are the memo's. The result's Steps records every step that ran
// or hit, in order (wasm.Step): code hash, function and input hash, Hit,
// and the step's own result when it ran and may become a memo
// (wasm.StepMemoizable, at most wasm.MaxStepResult bytes encoded). Result
// is Context when a step's result is. Every miner reads the same state, so
// every honest miner hits the same memos and the results agree.
func RunMemos(ctx context.Context, rt *wasm.Runtime, m *Manifest, load Loader, req wasm.Request, memos Memos) (*Result, error) {
	const op = "composite.run"
	names := make([]string, len(m.Steps))
	for i, s := range m.Steps {
		if s.Version == "" {
			return nil, vmerr.E(op, vmerr.Invalid, "step %q is not pinned", s.ID)
		}
		// Pin parsed the reference; the name is what precedes "@" (parsing
		// the range again costs more than the rest of Run's own work).
		names[i], _, _ = strings.Cut(s.Contract, "@")
	}
	cfg := rt.Config()
	r := &run{
		out:     &Result{Result: &wasm.Result{Status: wasm.StatusOK}},
		ov:      overlay{},
		reads:   map[ckey]int{},
		outputs: map[string][]byte{},
		isJSON:  map[string]bool{},
		maxErr:  cfg.MaxErrorSize,
	}
	input := req.Input
	if len(bytes.TrimSpace(input)) == 0 {
		input = []byte("null")
	}
	if cfg.MaxInputSize > 0 && len(req.Input) > cfg.MaxInputSize {
		return r.fail(wasm.StatusBadInput, fmt.Sprintf("the composite's input is %d bytes; at most %d are allowed", len(req.Input), cfg.MaxInputSize)), nil
	}
	if !json.Valid(input) {
		return r.fail(wasm.StatusBadInput, "the composite's input is not JSON"), nil
	}
	r.input = input

	var resolver wasm.Resolver
	if req.Contracts != nil {
		resolver = overlayResolver{inner: req.Contracts, ov: r.ov}
	}
	var last []byte
	for _, i := range m.Order() {
		s := m.Steps[i]
		in, why := r.eval(&s.Input)
		if why != "" {
			return r.fail(wasm.StatusAbort, fmt.Sprintf("step %s: input: %s", s.ID, why)), nil
		}
		mod, st, err := load(ctx, names[i], s.Version)
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.KindOf(err), fmt.Errorf("step %q: load %s@%s: %w", s.ID, names[i], s.Version, err))
		}
		left := req.GasLimit - min(r.out.Result.GasUsed, req.GasLimit)
		res, hit, err := r.memo(ctx, memos, mod.Hash(), s.Fn, in, left)
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.KindOf(err), fmt.Errorf("step %q: memo: %w", s.ID, err))
		}
		if !hit {
			sub := wasm.Request{
				Fn: s.Fn, Input: in, GasLimit: left,
				Caller: req.Contract, Contract: names[i], Height: req.Height, Time: req.Time,
				Seed:  stepSeed(req.Seed, s.ID),
				State: r.ov.state(names[i], st), Contracts: resolver, Depth: req.Depth,
			}
			if res, err = rt.Call(ctx, mod, sub); err != nil {
				return nil, vmerr.Wrap(op, vmerr.KindOf(err), fmt.Errorf("step %q: %w", s.ID, err))
			}
			r.out.Result.GasUsed += res.GasUsed
		}
		r.out.Steps = append(r.out.Steps, StepResult{ID: s.ID, Contract: names[i], Version: s.Version, Fn: s.Fn, Input: in,
			Result: res, CodeHash: mod.Hash(), Hit: hit})
		r.out.Result.Context = r.out.Result.Context || res.Context
		r.addReads(res.ReadSet)
		r.out.Result.Logs = append(r.out.Result.Logs, res.Logs...)
		if res.Status != wasm.StatusOK {
			why := res.Error
			if why == "" {
				why = res.Status.String()
			}
			return r.fail(res.Status, fmt.Sprintf("step %s (%s@%s.%s): %s", s.ID, names[i], s.Version, s.Fn, why)), nil
		}
		r.out.Result.Events = append(r.out.Result.Events, res.Events...)
		r.ov.apply(res.WriteSet)
		r.outputs[s.ID] = res.Output
		last = res.Output
	}
	output := last
	if m.Output != nil {
		o, why := r.eval(m.Output)
		if why != "" {
			return r.fail(wasm.StatusAbort, "output: "+why), nil
		}
		output = o
	}
	if cfg.MaxOutputSize > 0 && len(output) > cfg.MaxOutputSize {
		return r.fail(wasm.StatusOutputTooLarge, fmt.Sprintf("output: %d bytes; at most %d are allowed", len(output), cfg.MaxOutputSize)), nil
	}
	res := r.out.Result
	res.Output = bytes.Clone(output)
	if res.Output == nil {
		res.Output = []byte{}
	}
	res.WriteSet = r.ov.writeSet()
	r.sortReads()
	r.recordSteps()
	return r.out, nil
}

// memo asks memos for a memo of the step (code, fn, input) and keeps it
// unless it used more gas than the step's budget (run, the step would
// have run out of gas) or read a key the composite wrote earlier (its
// reads would then not be of stored state).
func (r *run) memo(ctx context.Context, memos Memos, code [32]byte, fn string, input []byte, budget uint64) (*wasm.Result, bool, error) {
	if memos == nil {
		return nil, false, nil
	}
	res, err := memos(ctx, code, fn, sha256.Sum256(input))
	if err != nil || res == nil || res.GasUsed > budget {
		return nil, false, err
	}
	for _, rd := range res.ReadSet {
		if r.ov.has(ckey{rd.Contract, string(rd.Key)}) {
			return nil, false, nil
		}
	}
	return res, true, nil
}

// recordSteps fills the composite result's Steps (wasm.Step) from the
// steps that ran or hit.
func (r *run) recordSteps() {
	res := r.out.Result
	res.Steps = make([]wasm.Step, len(r.out.Steps))
	for i, s := range r.out.Steps {
		st := wasm.Step{CodeHash: s.CodeHash, Fn: s.Fn, InputHash: sha256.Sum256(s.Input), Hit: s.Hit}
		if !s.Hit && wasm.StepMemoizable(s.Result) {
			if enc, err := s.Result.MarshalBinary(); err == nil && len(enc) <= wasm.MaxStepResult {
				st.Result = enc
			}
		}
		res.Steps[i] = st
	}
}

// ckey identifies a key of a contract namespace.
type ckey struct{ contract, key string }

// run is the state of one Run.
type run struct {
	out     *Result
	ov      overlay
	reads   map[ckey]int // index in out.Result.ReadSet
	input   []byte
	outputs map[string][]byte // step id -> output of finished steps
	isJSON  map[string]bool   // step id -> output checked to be JSON
	maxErr  int
}

// fail ends the run with status st: effects are dropped, gas, reads and logs
// kept.
func (r *run) fail(st wasm.Status, msg string) *Result {
	res := r.out.Result
	res.Status = st
	res.Error = truncate(msg, r.maxErr)
	res.Output, res.WriteSet, res.Events = nil, nil, nil
	r.sortReads()
	r.recordSteps()
	return r.out
}

// addReads keeps the reads of one step that reached a State: reads of keys
// the composite wrote earlier were served by the overlay.
func (r *run) addReads(reads []wasm.Read) {
	for _, rd := range reads {
		k := ckey{rd.Contract, string(rd.Key)}
		if r.ov.has(k) {
			continue
		}
		if _, ok := r.reads[k]; ok {
			continue
		}
		r.reads[k] = len(r.out.Result.ReadSet)
		r.out.Result.ReadSet = append(r.out.Result.ReadSet, rd)
	}
}

func (r *run) sortReads() {
	slices.SortFunc(r.out.Result.ReadSet, func(a, b wasm.Read) int {
		if c := strings.Compare(a.Contract, b.Contract); c != 0 {
			return c
		}
		return bytes.Compare(a.Key, b.Key)
	})
}

// eval builds the bytes of a source, or says why it cannot.
func (r *run) eval(s *Source) ([]byte, string) {
	switch {
	case s.Pointer != nil:
		return r.pointer(*s.Pointer)
	case len(s.Value) > 0:
		return s.Value, ""
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range sortedKeys(s.Object) {
		f := s.Object[k]
		v, why := r.eval(&f)
		if why != "" {
			return nil, why
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := marshalCompact(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), ""
}

// pointer evaluates a pointer against the call input and finished steps'
// outputs, returning the compact JSON of the selected value.
func (r *run) pointer(p string) ([]byte, string) {
	toks, err := parsePointer(p)
	if err != nil {
		return nil, err.Error()
	}
	doc, rest := r.input, toks[1:]
	if toks[0] == "steps" {
		id := toks[1]
		out, ok := r.outputs[id]
		if !ok {
			return nil, fmt.Sprintf("pointer %q: step %q has not run", p, id)
		}
		if !r.isJSON[id] {
			if !json.Valid(out) {
				return nil, fmt.Sprintf("pointer %q: the output of step %s is not JSON", p, id)
			}
			r.isJSON[id] = true
		}
		doc, rest = out, toks[2:]
	}
	for _, tok := range rest {
		next, ok := child(doc, tok)
		if !ok {
			return nil, fmt.Sprintf("pointer %q selects nothing (no %q)", p, tok)
		}
		doc = next
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return nil, fmt.Sprintf("pointer %q: %v", p, err)
	}
	return buf.Bytes(), ""
}

// child selects member tok of the JSON object or array doc (valid JSON).
func child(doc []byte, tok string) ([]byte, bool) {
	doc = bytes.TrimLeft(doc, " \t\r\n")
	if len(doc) == 0 {
		return nil, false
	}
	switch doc[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(doc, &m) != nil {
			return nil, false
		}
		v, ok := m[tok]
		return v, ok
	case '[':
		i, ok := arrayIndex(tok)
		if !ok {
			return nil, false
		}
		var a []json.RawMessage
		if json.Unmarshal(doc, &a) != nil || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}

// stepSeed derives a step's seed: SHA-256(seed || "composite/" || id).
func stepSeed(seed [32]byte, id string) [32]byte {
	b := make([]byte, 0, len(seed)+len("composite/")+len(id))
	b = append(append(append(b, seed[:]...), "composite/"...), id...)
	return sha256.Sum256(b)
}

// truncate cuts s to at most n bytes at a rune boundary (n <= 0: no limit).
func truncate(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// overlay holds the writes of the finished steps of one run, per contract
// and key. It is changed only between steps.
type overlay map[string]map[string]wasm.Write

func (o overlay) has(k ckey) bool {
	_, ok := o[k.contract][k.key]
	return ok
}

// apply records the writes of a finished step.
func (o overlay) apply(ws []wasm.Write) {
	for _, w := range ws {
		ns := o[w.Contract]
		if ns == nil {
			ns = map[string]wasm.Write{}
			o[w.Contract] = ns
		}
		ns[string(w.Key)] = w
	}
}

// writeSet returns the final writes sorted by contract, then key.
func (o overlay) writeSet() []wasm.Write {
	var out []wasm.Write
	for _, c := range sortedKeys(o) {
		for _, k := range sortedKeys(o[c]) {
			out = append(out, o[c][k])
		}
	}
	return out
}

// state returns the view of contract's namespace a step sees: base (nil:
// empty) under the composite's earlier writes.
func (o overlay) state(contract string, base wasm.State) wasm.State {
	return &overlayState{base: base, contract: contract, o: o}
}

// overlayState is a wasm.State over base with the overlay's writes on top.
type overlayState struct {
	base     wasm.State
	contract string
	o        overlay
}

// Get implements wasm.State. A value from the overlay has version 0; its
// read is not part of the composite's read set.
func (s *overlayState) Get(key []byte) ([]byte, uint64, bool, error) {
	if w, ok := s.writes()[string(key)]; ok {
		if w.Delete {
			return nil, 0, false, nil
		}
		return bytes.Clone(w.Value), 0, true, nil
	}
	if s.base == nil {
		return nil, 0, false, nil
	}
	return s.base.Get(key)
}

// Range implements wasm.State: base entries and overlay writes merged in key
// order, deletes hiding base entries.
func (s *overlayState) Range(start, end []byte, limit int) ([]wasm.Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	ws := s.writes()
	var keys []string
	deletes := 0
	for k, w := range ws {
		kb := []byte(k)
		if bytes.Compare(kb, start) < 0 || (len(end) > 0 && bytes.Compare(kb, end) >= 0) {
			continue
		}
		keys = append(keys, k)
		if w.Delete {
			deletes++
		}
	}
	slices.Sort(keys)
	var base []wasm.Entry
	if s.base != nil {
		n := limit
		if n < int(^uint(0)>>1)-deletes {
			n += deletes // each delete hides at most one base entry
		}
		var err error
		if base, err = s.base.Range(start, end, n); err != nil {
			return nil, err
		}
	}
	out := make([]wasm.Entry, 0, min(limit, len(base)+len(keys)))
	i, j := 0, 0
	for len(out) < limit && (i < len(base) || j < len(keys)) {
		var c int
		switch {
		case i == len(base):
			c = 1
		case j == len(keys):
			c = -1
		default:
			c = bytes.Compare(base[i].Key, []byte(keys[j]))
		}
		if c < 0 {
			out = append(out, base[i])
			i++
			continue
		}
		w := ws[keys[j]]
		j++
		if c == 0 {
			i++ // the overlay's write replaces the base entry
		}
		if !w.Delete {
			out = append(out, wasm.Entry{Key: bytes.Clone(w.Key), Value: bytes.Clone(w.Value)})
		}
	}
	return out, nil
}

// writes returns the overlay's writes to s's contract (nil: none). The
// overlay changes only between steps, never while a step reads.
func (s *overlayState) writes() map[string]wasm.Write { return s.o[s.contract] }

// overlayResolver puts the overlay over the namespaces of contracts that
// steps call.
type overlayResolver struct {
	inner wasm.Resolver
	ov    overlay
}

// Resolve implements wasm.Resolver.
func (r overlayResolver) Resolve(ctx context.Context, name string) (*wasm.Module, wasm.State, error) {
	m, st, err := r.inner.Resolve(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	return m, r.ov.state(name, st), nil
}

var (
	_ wasm.State    = (*overlayState)(nil)
	_ wasm.Resolver = overlayResolver{}
)
