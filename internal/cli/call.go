package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/client"
	"github.com/virtual-machine/vm/internal/crypto"
	"github.com/virtual-machine/vm/internal/market"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/tx/txpb"
	"github.com/virtual-machine/vm/internal/vmerr"
	"github.com/virtual-machine/vm/internal/wasm"
)

// callView is `vm call --output json` and `vm result show --output json`:
// a request's outcome as the verified resultChain entry tells it.
type callView struct {
	RequestID  string            `json:"request_id"`
	Status     string            `json:"status"` // open, settled, memo, expired
	Contract   string            `json:"contract,omitempty"`
	Fn         string            `json:"fn,omitempty"`
	ExecStatus string            `json:"exec_status,omitempty"`
	Output     json.RawMessage   `json:"output,omitempty"` // the output as JSON, or as a JSON string
	Error      string            `json:"error,omitempty"`
	GasUsed    uint64            `json:"gas_used"`
	Memo       bool              `json:"memo"`
	Applied    bool              `json:"applied"`
	Cost       string            `json:"cost,omitempty"` // GAS the request cost, fees excluded
	Fee        string            `json:"fee,omitempty"`  // the tx fee paid (refunded on a memo hit)
	Miners     []apitype.Payment `json:"miners"`
	Rounds     uint32            `json:"rounds,omitempty"`
	Tx         string            `json:"tx,omitempty"`
	Height     int64             `json:"height,omitempty"` // block that settled it
	Location   *apitype.Location `json:"location,omitempty"`
}

func newCallCmd(g *globals) *cobra.Command {
	var fn, input, from, gas, price, reward, fee string
	var replicas, quorum uint32
	var deadline int64
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call NAME@RANGE --fn F --from KEY [--input IN] [--gas N] [--price N] [--reward N] [--replicas K] [--quorum Q] [--deadline BLOCKS] [--wait]",
		Short: "Ask the network's miners to run a contract function, paying GAS",
		Long: "Submits a signed Request: the including block resolves NAME@RANGE to an exact version and moves\n" +
			"reward + replicas × gas × price into escrow. Miners run it; when `quorum` results agree the\n" +
			"request settles: the fastest agreeing miners are paid by tier, the rest is refunded. A call\n" +
			"whose (code, fn, input) has a still-valid memo settles in its own block for 1 GAS in total.\n" +
			"--input is the input bytes as given, @FILE to read a file, or - for stdin. With --wait the\n" +
			"command waits for the result, checks its proof against a block header and prints it; it\n" +
			"exits 1 unless the call settled with status ok.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := contractInput(input, g.stdin)
			if err != nil {
				return err
			}
			amounts := make([]uint64, 3)
			for i, s := range []string{gas, price, reward} {
				if amounts[i], err = strconv.ParseUint(s, 10, 64); err != nil {
					return fmt.Errorf("--gas, --price and --reward take whole GAS amounts: %q", s)
				}
			}
			req := &txpb.Request{Contract: args[0], Fn: fn, Input: in, GasLimit: amounts[0], Price: amounts[1],
				Reward: amounts[2], Replicas: replicas, Quorum: quorum, Deadline: deadline}
			if _, err := market.Escrow(market.Request{GasLimit: req.GasLimit, Price: req.Price, Reward: req.Reward, Replicas: replicas}); err != nil {
				return err
			}
			key, err := g.loadKey(from)
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			f, err := minFee(ctx, c, fee)
			if err != nil {
				return err
			}
			return g.call(ctx, c, key, req, f, wait, timeout)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&fn, "fn", "", "function to call (a composite's is \"run\")")
	fl.StringVar(&input, "input", "", "input: the bytes as given, @FILE, or - for stdin")
	fl.StringVar(&from, "from", "", "key (in the keystore) that signs and pays")
	fl.StringVar(&gas, "gas", "5000000", "gas limit per replica (a Go contract call takes about 2,000,000)")
	fl.StringVar(&price, "price", "1", "GAS per unit of gas used")
	fl.StringVar(&reward, "reward", "100", "reward in GAS, split among the paid miners by tier")
	fl.Uint32Var(&replicas, "replicas", 1, "miners that may seal and be paid (k)")
	fl.Uint32Var(&quorum, "quorum", 1, "results that must agree (q)")
	fl.Int64Var(&deadline, "deadline", 20, "blocks after inclusion before an unsettled request is refunded")
	fl.BoolVar(&wait, "wait", false, "wait for the result and print it")
	fl.DurationVar(&timeout, "timeout", 2*time.Minute, "with --wait: how long to wait")
	fl.StringVar(&fee, "fee", "", "fee in GAS (default: the chain's min_fee)")
	_ = cmd.MarkFlagRequired("fn")
	_ = cmd.MarkFlagRequired("from")
	return cmd
}

// call submits the request and, with wait, follows it to its result.
func (g *globals) call(ctx context.Context, c *client.Client, key crypto.PrivKey, req *txpb.Request, fee uint64, wait bool, timeout time.Duration) error {
	if wait {
		s, err := g.request(ctx, c, key, req, fee, timeout)
		if err != nil {
			return err
		}
		return g.printCall(s.id, s.result, s.view)
	}
	res, err := g.commitTx(ctx, c, key, &txpb.Msg{Sum: &txpb.Msg_Request{Request: req}}, fee)
	if err != nil {
		return err
	}
	id, view, err := requestView(res, fee)
	if err != nil {
		return err
	}
	if r, err := c.Result(ctx, view.RequestID, 0); err == nil { // a memo hit settles at once
		if err := verifyResult(ctx, c, id, r); err != nil {
			return err
		}
		return g.printCall(id, r, view)
	}
	return g.print(view, func(w io.Writer) {
		fmt.Fprintf(w, "request: %s\nstatus:  open\ntx:      %s\n", view.RequestID, res.Hash)
	})
}

// settled is a request followed to its verified result.
type settled struct {
	id     [32]byte
	result apitype.Result
	exec   *wasm.Result // the verified result bytes decoded; nil for an expired request
	view   callView     // the request's part of the view: id, tx, fee
}

// request submits req, waits up to timeout for its result on the
// resultChain and verifies it against a block header.
func (g *globals) request(ctx context.Context, c *client.Client, key crypto.PrivKey, req *txpb.Request, fee uint64, timeout time.Duration) (settled, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	blocks, err := c.Blocks(wctx) // subscribe first, so no block is missed
	if err != nil {
		return settled{}, err
	}
	res, err := g.commitTx(ctx, c, key, &txpb.Msg{Sum: &txpb.Msg_Request{Request: req}}, fee)
	if err != nil {
		return settled{}, err
	}
	id, view, err := requestView(res, fee)
	if err != nil {
		return settled{}, err
	}
	for {
		r, err := c.Result(wctx, view.RequestID, 0)
		if err == nil {
			if err := verifyResult(ctx, c, id, r); err != nil {
				return settled{}, err
			}
			s := settled{id: id, result: r, view: view}
			if len(r.Raw) > 0 { // the verified bytes, not the node's decoded fields
				s.exec = new(wasm.Result)
				if err := s.exec.UnmarshalBinary(r.Raw); err != nil {
					return settled{}, fmt.Errorf("result %x: %w", id, err)
				}
			}
			return s, nil
		}
		if vmerr.KindOf(err) != vmerr.NotFound {
			return settled{}, err
		}
		select {
		case _, ok := <-blocks:
			if !ok {
				return settled{}, fmt.Errorf("request %s: no result within %s (the block stream ended)", view.RequestID, timeout)
			}
		case <-wctx.Done():
			return settled{}, fmt.Errorf("request %s: no result within %s", view.RequestID, timeout)
		}
	}
}

// requestView is the start of the view of the single Request in the
// committed tx res.
func requestView(res apitype.SubmitResult, fee uint64) ([32]byte, callView, error) {
	h, err := tx.ParseHash(res.Hash)
	if err != nil {
		return [32]byte{}, callView{}, err
	}
	id := market.RequestID(h, 0)
	return id, callView{RequestID: hex.EncodeToString(id[:]), Status: "open", Tx: res.Hash, Fee: strconv.FormatUint(fee, 10)}, nil
}

// verifyResult checks r is request id's resultChain entry as a block
// header commits it.
func verifyResult(ctx context.Context, c *client.Client, id [32]byte, r apitype.Result) error {
	if err := verifyLocation(ctx, c, r.Location, r.Height); err != nil {
		return fmt.Errorf("result %x not verified: %w", id, err)
	}
	if !state.SameKey(r.Location, state.ResultKey(id)) {
		return fmt.Errorf("result %x not verified: the location is about another key", id)
	}
	return nil
}

// printCall prints r, verified by the caller; the exit status is 1 unless
// the call settled with status ok.
func (g *globals) printCall(id [32]byte, r apitype.Result, view callView) error {
	view.Status, view.Contract, view.Fn, view.Memo, view.Applied = r.Status, r.Contract, r.Fn, r.Memo, r.Applied
	view.Cost, view.Miners, view.Rounds, view.Height, view.Location = r.Cost, r.Paid, r.Rounds, r.Settled, r.Location
	if view.Memo {
		view.Fee = "0"
	}
	ok := false
	if len(r.Raw) > 0 {
		var res wasm.Result
		if err := res.UnmarshalBinary(r.Raw); err != nil {
			return fmt.Errorf("result %x: %w", id, err)
		}
		view.ExecStatus, view.GasUsed, view.Error = res.Status.String(), res.GasUsed, res.Error
		view.Output = outputJSON(res.Output)
		ok = res.Status == wasm.StatusOK
	}
	err := g.print(view, func(w io.Writer) {
		fmt.Fprintf(w, "request:  %s\nstatus:   %s\n", view.RequestID, view.Status)
		if view.ExecStatus != "" {
			fmt.Fprintf(w, "contract: %s.%s\nresult:   %s, gas %d\noutput:   %s\n", view.Contract, view.Fn, view.ExecStatus, view.GasUsed, view.Output)
		}
		if view.Error != "" {
			fmt.Fprintf(w, "error:    %s\n", view.Error)
		}
		fmt.Fprintf(w, "cost:     %s GAS (memo %t), settled at height %d, verified\n", view.Cost, view.Memo, view.Height)
		for _, p := range view.Miners {
			fmt.Fprintf(w, "miner:    %s reward %s gas %s\n", p.Miner, p.Reward, p.Gas)
		}
	})
	if err == nil && !ok {
		return &exitError{code: 1}
	}
	return err
}

// outputJSON is out as JSON when it is JSON, else as a JSON string (hex
// when it is not UTF-8).
func outputJSON(out []byte) json.RawMessage {
	if len(out) > 0 && json.Valid(out) {
		return out
	}
	s := string(out)
	if !utf8.Valid(out) {
		s = "0x" + hex.EncodeToString(out)
	}
	b, _ := json.Marshal(s)
	return b
}

func newResultCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "result", Short: "Read the resultChain"}
	cmd.AddCommand(&cobra.Command{
		Use:   "show REQUEST_ID",
		Short: "Show a request's result, verified against a block header",
		Long:  "Prints the resultChain entry of a settled, memo-answered or expired request; exits 1 unless it settled with status ok.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := state.ParseRequestID(args[0])
			if err != nil {
				return err
			}
			ctx, c := cmd.Context(), g.client()
			r, err := c.Result(ctx, args[0], 0)
			if err != nil {
				return err
			}
			if err := verifyResult(ctx, c, id, r); err != nil {
				return err
			}
			return g.printCall(id, r, callView{RequestID: args[0]})
		},
	})
	return cmd
}
