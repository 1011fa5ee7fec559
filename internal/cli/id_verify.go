package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/virtual-machine/vm/internal/apitype"
	"github.com/virtual-machine/vm/internal/idchain"
	"github.com/virtual-machine/vm/internal/lightproof"
	"github.com/virtual-machine/vm/internal/state"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// idVerifyView is `vm id verify --output json`.
type idVerifyView struct {
	Verified bool   `json:"verified"`
	ChainID  string `json:"chain_id"`
	Height   int64  `json:"height"`
	ID       string `json:"id"`
	Record   string `json:"record,omitempty"` // the record's key, for a record's location
	Present  bool   `json:"present"`
	AppHash  string `json:"app_hash"`
	// Trusted is the hex validator-set hash of the genesis trusted: the
	// value the portal's Verify shows as the genesis it pinned.
	Trusted string `json:"trusted_validators_hash"`
}

func newIDVerifyCmd(g *globals) *cobra.Command {
	var genesis string
	cmd := &cobra.Command{
		Use:   "verify FILE|-",
		Short: "Check an ID's or record's location without trusting the node",
		Long: "FILE is the JSON `vm id create`, `vm id show` or `vm id get` printed, or its location object.\n" +
			"Checks the Merkle proof against the location's app hash, that the header of the next block\n" +
			"carries that app hash on this chain, and that the header's commit is signed by more than 2/3 of\n" +
			"its validator set, which must hold at least 1/3 of the genesis validators' power (CometBFT's\n" +
			"light client rules). The genesis is --genesis, by default the node home's config/genesis.json.\n" +
			"The node is only asked for the signed header; exits 1 when anything does not verify.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readLimited(args[0], g.stdin)
			if err != nil {
				return err
			}
			loc, claimed, err := parseIDLocation(raw)
			if err != nil {
				return err
			}
			view, err := idLocationView(loc)
			if err != nil {
				return err
			}
			if claimed != "" && claimed != view.ID {
				return vmerr.E("vm.id_verify", vmerr.Unauthorized, "the JSON names id %q but its location is about %q", claimed, view.ID)
			}
			trust, err := loadTrust(g.home, genesis)
			if err != nil {
				return err
			}
			if err := g.client().VerifyLocation(cmd.Context(), loc, trust); err != nil {
				return err
			}
			view.Verified = true
			view.Trusted = hex.EncodeToString(trust.Validators.Hash())
			return g.print(view, func(w io.Writer) {
				what := "id " + view.ID
				if view.Record != "" {
					what = "record " + view.ID + "/" + view.Record
				}
				state := "present"
				if !view.Present {
					state = "absent"
				}
				fmt.Fprintf(w, "verified: %s is %s on %s at height %d (app hash %s)\ntrusted genesis validators: %s\n",
					what, state, view.ChainID, view.Height, view.AppHash, view.Trusted)
			})
		},
	}
	cmd.Flags().StringVar(&genesis, "genesis", "", "CometBFT genesis file whose validators to trust (default: <home>/config/genesis.json)")
	return cmd
}

func loadTrust(home, genesis string) (lightproof.Trust, error) {
	if genesis != "" {
		return lightproof.LoadGenesis(genesis)
	}
	return lightproof.LoadHome(home)
}

// parseIDLocation takes a location from the JSON a `vm id` command
// printed (its "location" and "id") or a bare location object.
func parseIDLocation(raw []byte) (*apitype.Location, string, error) {
	const op = "vm.id_verify"
	var wrap struct {
		ID       string            `json:"id"`
		Location *apitype.Location `json:"location"`
	}
	if err := json.Unmarshal(raw, &wrap); err != nil {
		return nil, "", vmerr.E(op, vmerr.Decode, "not JSON: %v", err)
	}
	if wrap.Location != nil {
		return wrap.Location, wrap.ID, nil
	}
	var loc apitype.Location
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&loc); err != nil || loc.Key == "" {
		return nil, "", vmerr.E(op, vmerr.Invalid, "neither a location nor JSON with a \"location\" (%v)", err)
	}
	return &loc, "", nil
}

// idLocationView checks that loc is about an ID or an ID's record (its
// namespace and key) and names it; the proof is checked later.
func idLocationView(loc *apitype.Location) (idVerifyView, error) {
	const op = "vm.id_verify"
	v := idVerifyView{ChainID: loc.ChainID, Height: loc.Height, AppHash: loc.AppHash, Present: loc.Value != ""}
	if loc.Namespace != state.NamespaceData {
		return v, vmerr.E(op, vmerr.Unauthorized, "namespace %q: IDs and their records live in %q", loc.Namespace, state.NamespaceData)
	}
	key, err := hex.DecodeString(loc.Key)
	if err != nil {
		return v, vmerr.E(op, vmerr.Decode, "location key: %v", err)
	}
	prefix := state.DataPrefix(idchain.Contract)
	if !bytes.HasPrefix(key, prefix) {
		return v, vmerr.E(op, vmerr.Unauthorized, "key %s is not in the IDChain's namespace", loc.Key)
	}
	k := string(key[len(prefix):])
	switch {
	case strings.HasPrefix(k, "id/"):
		v.ID = k[len("id/"):]
	case strings.HasPrefix(k, "rec/"):
		v.ID, v.Record, _ = strings.Cut(k[len("rec/"):], "/")
	default:
		return v, vmerr.E(op, vmerr.Unauthorized, "key %q is neither an ID nor a record", k)
	}
	if err := idchain.ValidName(v.ID); err != nil {
		return v, vmerr.Wrap(op, vmerr.Unauthorized, err)
	}
	if strings.HasPrefix(k, "rec/") {
		if err := idchain.ValidKey(v.Record); err != nil {
			return v, vmerr.Wrap(op, vmerr.Unauthorized, err)
		}
	}
	return v, nil
}
