package chain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	cmtcrypto "github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	cmttime "github.com/cometbft/cometbft/types/time"
	"github.com/spf13/viper"

	"github.com/virtual-machine/vm/internal/tx"
	"github.com/virtual-machine/vm/internal/vmerr"
)

// Profiles select the consensus timeouts written into a new home.
const (
	// ProfileDevnet is one validator: blocks only when there are
	// transactions, a short commit pause so a burst shares a block.
	ProfileDevnet = "devnet"
	// ProfileTestnet is several validators on a LAN or loopback: timeouts
	// short enough that a dead proposer costs well under 2 s.
	ProfileTestnet = "testnet"
)

// DefaultP2PPort is the first P2P port of a testnet and the devnet's port.
const DefaultP2PPort = 26656

// InitOptions tune a new home. The zero value is a devnet on
// 127.0.0.1:26656.
type InitOptions struct {
	Moniker string // node name; "vm" when empty
	// P2PListen is the CometBFT P2P listen address, "tcp://127.0.0.1:26656"
	// when empty. Use port 0 for a node that never has peers.
	P2PListen string
	Profile   string // ProfileDevnet (default) or ProfileTestnet
	// PersistentPeers is CometBFT's comma-separated id@host:port list.
	PersistentPeers string
}

// InitHome makes home a CometBFT home for chainID if it is not one yet:
// config/config.toml, config/genesis.json (one validator, this node, with
// appState as app_state), config/priv_validator_key.json,
// config/node_key.json and data/. Files that exist are left alone, so a
// second call is a no-op and a half-written home is completed. Errors are
// Invalid for bad arguments and Internal for file-system failures.
func InitHome(home, chainID string, appState json.RawMessage, opts InitOptions) error {
	const op = "chain.init_home"
	if home == "" || chainID == "" {
		return vmerr.E(op, vmerr.Invalid, "home and chain id are required")
	}
	if len(appState) > 0 && !json.Valid(appState) {
		return vmerr.E(op, vmerr.Invalid, "app state is not valid JSON")
	}
	cfg, err := writeConfig(home, opts)
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	var pv *privval.FilePV
	keyFile, stateFile := cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile()
	switch {
	case !exists(keyFile):
		if pv, err = privval.GenFilePV(keyFile, stateFile, genKey); err != nil {
			return vmerr.Wrap(op, vmerr.Internal, err)
		}
		pv.Save()
	case !exists(stateFile):
		if err := checkPVKey(keyFile); err != nil {
			return vmerr.Wrap(op, vmerr.Invalid, err)
		}
		pv = privval.LoadFilePVEmptyState(keyFile, stateFile)
		pv.Save()
	default:
		if pv, err = loadPV(keyFile, stateFile); err != nil {
			return vmerr.Wrap(op, vmerr.Invalid, err)
		}
	}
	if _, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile()); err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	if exists(cfg.GenesisFile()) {
		return nil
	}
	pub, err := pv.GetPubKey()
	if err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	gen := genesis(chainID, appState, []cmttypes.GenesisValidator{{Address: pub.Address(), PubKey: pub, Power: 10, Name: cfg.Moniker}})
	if err := gen.SaveAs(cfg.GenesisFile()); err != nil {
		return vmerr.Wrap(op, vmerr.Internal, err)
	}
	return nil
}

// WriteTestnet writes n validator homes out/node0 … out/node{n-1} for
// chainID with equal voting power. Node i listens for P2P on
// 127.0.0.1:basePort+i and lists every other node as a persistent peer.
// It returns the homes. Existing homes are an Exists error; bad arguments
// are Invalid.
func WriteTestnet(out string, n int, chainID string, appState json.RawMessage, basePort int) ([]string, error) {
	const op = "chain.write_testnet"
	if n < 1 || n > 64 {
		return nil, vmerr.E(op, vmerr.Invalid, "validators must be 1..64, not %d", n)
	}
	if basePort < 1 || basePort+n > 65535 {
		return nil, vmerr.E(op, vmerr.Invalid, "base port %d out of range", basePort)
	}
	if out == "" || chainID == "" {
		return nil, vmerr.E(op, vmerr.Invalid, "out dir and chain id are required")
	}
	if len(appState) > 0 && !json.Valid(appState) {
		return nil, vmerr.E(op, vmerr.Invalid, "app state is not valid JSON")
	}
	homes := make([]string, n)
	ids := make([]string, n)
	vals := make([]cmttypes.GenesisValidator, n)
	for i := range homes {
		homes[i] = filepath.Join(out, fmt.Sprintf("node%d", i))
		if exists(homes[i]) {
			return nil, vmerr.E(op, vmerr.Exists, "%s already exists", homes[i])
		}
	}
	cfgs := make([]*cmtcfg.Config, n)
	for i, home := range homes {
		cfg, err := writeConfig(home, InitOptions{Moniker: fmt.Sprintf("node%d", i),
			P2PListen: fmt.Sprintf("tcp://127.0.0.1:%d", basePort+i), Profile: ProfileTestnet})
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Internal, err)
		}
		cfgs[i] = cfg
		pv, err := privval.GenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile(), genKey)
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Internal, err)
		}
		pv.Save()
		nk, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Internal, err)
		}
		ids[i] = string(nk.ID())
		pub, err := pv.GetPubKey()
		if err != nil {
			return nil, vmerr.Wrap(op, vmerr.Internal, err)
		}
		vals[i] = cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: cfg.Moniker}
	}
	gen := genesis(chainID, appState, vals)
	for i, cfg := range cfgs {
		var peers []string
		for j := range homes {
			if j != i {
				peers = append(peers, fmt.Sprintf("%s@127.0.0.1:%d", ids[j], basePort+j))
			}
		}
		cfg.P2P.PersistentPeers = strings.Join(peers, ",")
		cmtcfg.WriteConfigFile(filepath.Join(cfg.RootDir, "config", "config.toml"), cfg)
		if err := gen.SaveAs(cfg.GenesisFile()); err != nil {
			return nil, vmerr.Wrap(op, vmerr.Internal, err)
		}
	}
	return homes, nil
}

// writeConfig creates home/config and home/data and writes config.toml
// unless it exists; it returns the configuration the file holds.
func writeConfig(home string, opts InitOptions) (*cmtcfg.Config, error) {
	for _, d := range []string{"config", "data"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			return nil, err
		}
	}
	path := filepath.Join(home, "config", "config.toml")
	if exists(path) {
		return loadConfig(home)
	}
	cfg := tunedConfig(home, opts)
	cmtcfg.WriteConfigFile(path, cfg)
	return cfg, nil
}

// tunedConfig is CometBFT's default configuration adjusted for this
// network: loopback only, no CometBFT RPC server (the node answers
// in-process), no CometBFT tx indexer (the chain keeps its own), timeouts
// by profile.
func tunedConfig(home string, opts InitOptions) *cmtcfg.Config {
	cfg := cmtcfg.DefaultConfig()
	cfg.SetRoot(home)
	cfg.Moniker = opts.Moniker
	if cfg.Moniker == "" {
		cfg.Moniker = "vm"
	}
	cfg.P2P.ListenAddress = opts.P2PListen
	if cfg.P2P.ListenAddress == "" {
		cfg.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", DefaultP2PPort)
	}
	cfg.P2P.PersistentPeers = opts.PersistentPeers
	cfg.P2P.AllowDuplicateIP = true
	cfg.P2P.AddrBookStrict = false
	cfg.P2P.PexReactor = false
	cfg.P2P.PersistentPeersMaxDialPeriod = time.Second
	cfg.P2P.DialTimeout = time.Second
	cfg.P2P.HandshakeTimeout = 5 * time.Second
	cfg.P2P.SendRate = 50 << 20
	cfg.P2P.RecvRate = 50 << 20
	cfg.P2P.MaxPacketMsgPayloadSize = 10 << 10
	cfg.RPC.ListenAddress = ""
	cfg.GRPC.ListenAddress = ""
	cfg.Instrumentation.Prometheus = false
	cfg.Instrumentation.PrometheusListenAddr = ""
	cfg.TxIndex.Indexer = "null"
	cfg.Storage.DiscardABCIResponses = false
	cfg.Mempool.Size = 100_000
	cfg.Mempool.CacheSize = 200_000
	cfg.Mempool.MaxTxsBytes = 256 << 20
	cfg.Mempool.MaxTxBytes = tx.MaxDeployTxSize
	cfg.Mempool.Recheck = false
	c := cfg.Consensus
	// An idle chain still makes a block every EmptyBlockInterval: the
	// market's deadlines and rounds advance by height, so a request nobody
	// answers must reach its deadline without other traffic. An empty block
	// keeps the app hash unless a request is due.
	c.CreateEmptyBlocks = true
	c.CreateEmptyBlocksInterval = EmptyBlockInterval
	switch opts.Profile {
	case ProfileTestnet:
		c.TimeoutPropose = 600 * time.Millisecond
		c.TimeoutProposeDelta = 200 * time.Millisecond
		c.TimeoutPrevote = 200 * time.Millisecond
		c.TimeoutPrevoteDelta = 100 * time.Millisecond
		c.TimeoutPrecommit = 200 * time.Millisecond
		c.TimeoutPrecommitDelta = 100 * time.Millisecond
		c.TimeoutCommit = 150 * time.Millisecond
		c.PeerGossipSleepDuration = 20 * time.Millisecond
		c.PeerQueryMaj23SleepDuration = 500 * time.Millisecond
	default:
		c.TimeoutPropose = 500 * time.Millisecond
		c.TimeoutCommit = 50 * time.Millisecond
	}
	return cfg
}

// EmptyBlockInterval is how long an idle chain waits before an empty block.
const EmptyBlockInterval = time.Second

// loadConfig reads home/config/config.toml over CometBFT's defaults, the
// way the cometbft command does.
func loadConfig(home string) (*cmtcfg.Config, error) {
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg := cmtcfg.DefaultConfig()
	if err := v.Unmarshal(cfg); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	cfg.SetRoot(home)
	if err := cfg.ValidateBasic(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return cfg, nil
}

func genesis(chainID string, appState json.RawMessage, vals []cmttypes.GenesisValidator) *cmttypes.GenesisDoc {
	params := cmttypes.DefaultConsensusParams()
	params.Block.MaxBytes = 8 << 20
	return &cmttypes.GenesisDoc{
		GenesisTime:     cmttime.Now(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: params,
		Validators:      vals,
		AppState:        appState,
	}
}

// loadPV loads the validator key and sign state, checking first what
// privval.LoadFilePV would otherwise answer with os.Exit.
func loadPV(keyFile, stateFile string) (*privval.FilePV, error) {
	if err := checkPVKey(keyFile); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(stateFile)
	if err != nil {
		return nil, err
	}
	var st privval.FilePVLastSignState
	if err := cmtjson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile, err)
	}
	return privval.LoadFilePV(keyFile, stateFile), nil
}

func checkPVKey(keyFile string) error {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	var k privval.FilePVKey
	if err := cmtjson.Unmarshal(b, &k); err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	if k.PrivKey == nil {
		return fmt.Errorf("%s: no private key", keyFile)
	}
	return nil
}

func genKey() (cmtcrypto.PrivKey, error) { return ed25519.GenPrivKey(), nil }

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
