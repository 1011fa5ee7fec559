package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/virtual-machine/vm/internal/vmerr"
)

// Defaults.
const (
	DefaultHTTPAddr = "127.0.0.1:8080"
	// ConfigFile is the node's own settings file inside the home, beside
	// CometBFT's config/: written by InitTestnet so that
	// `vm node --home out/node2` needs no flags.
	ConfigFile = "vm.toml"
	// DevnetChainID is the chain id of `vm devnet`.
	DevnetChainID = "vm-devnet"
)

// Config configures a Node. Build it with Default (or TestConfig), adjust,
// and Validate; New copies it.
type Config struct {
	Home     string       // node home: config/ and data/ (CometBFT) and data/app (ledger)
	HTTPAddr string       // API listen address; port 0 picks a free port
	Logger   *slog.Logger // nil discards
	// CometMetrics exports CometBFT's own Prometheus metrics on /metrics.
	// CometBFT keeps them in the process-global registry, so only one node
	// per process can have them; tests turn this off.
	CometMetrics bool
	// LedgerCache is the ledger's iavl node cache; 0 = the ledger default.
	LedgerCache int
	// ShutdownTimeout bounds Close when its ctx has no deadline.
	ShutdownTimeout time.Duration
	// CommitTimeout bounds a submit's wait for its block.
	CommitTimeout time.Duration
	// Baseline runs the chain over internal/ledger/sigonly — an app that
	// only decodes transactions and verifies their signatures, with no
	// accounts — instead of the ledger. It exists for `vm bench
	// transfers --baseline`; account queries fail on such a node.
	Baseline bool
}

// Default is the configuration of `vm devnet`: the API on 127.0.0.1:8080,
// CometBFT metrics on.
func Default() Config {
	return Config{HTTPAddr: DefaultHTTPAddr, CometMetrics: true, ShutdownTimeout: 10 * time.Second,
		CommitTimeout: 30 * time.Second}
}

// TestConfig is Default for tests: home as given, the API on a free
// loopback port, CometBFT metrics off (see CometMetrics), a small ledger
// cache.
func TestConfig(home string) Config {
	c := Default()
	c.Home = home
	c.HTTPAddr = "127.0.0.1:0"
	c.CometMetrics = false
	c.LedgerCache = 10_000
	return c
}

// Validate checks c. Errors are Invalid.
func (c Config) Validate() error {
	const op = "node.config"
	if c.Home == "" {
		return vmerr.E(op, vmerr.Invalid, "home is required")
	}
	host, _, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return vmerr.E(op, vmerr.Invalid, "http address %q: %w", c.HTTPAddr, err)
	}
	if host == "" {
		return vmerr.E(op, vmerr.Invalid, "http address %q has no host; give 127.0.0.1 (or 0.0.0.0 to listen on every interface)", c.HTTPAddr)
	}
	if c.LedgerCache < 0 || c.ShutdownTimeout < 0 || c.CommitTimeout < 0 {
		return vmerr.E(op, vmerr.Invalid, "negative cache size or timeout")
	}
	return nil
}

// fileConfig is the TOML of ConfigFile.
type fileConfig struct {
	HTTPAddr string `toml:"http_addr"`
}

// LoadFile overlays home/vm.toml, when it exists, on c. A file that does
// not parse is an Invalid error.
func LoadFile(c Config, home string) (Config, error) {
	b, err := os.ReadFile(filepath.Join(home, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, vmerr.Wrap("node.load_file", vmerr.Internal, err)
	}
	var f fileConfig
	if err := toml.Unmarshal(b, &f); err != nil {
		return c, vmerr.E("node.load_file", vmerr.Invalid, "%s: %w", ConfigFile, err)
	}
	if f.HTTPAddr != "" {
		c.HTTPAddr = f.HTTPAddr
	}
	return c, nil
}

// writeFile writes home/vm.toml.
func writeFile(home string, f fileConfig) error {
	s := fmt.Sprintf("# Virtual-Machine node settings (CometBFT's are in config/config.toml).\n"+
		"# HTTP API listen address.\nhttp_addr = %q\n", f.HTTPAddr)
	return os.WriteFile(filepath.Join(home, ConfigFile), []byte(s), 0o600)
}
