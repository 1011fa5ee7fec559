// Package apitype owns the JSON wire types of the HTTP API (/v1), shared by
// the server (internal/api) and its clients (internal/client, the CLI, the
// miners), so a client never imports the engine. Amounts are decimal
// strings; hashes and binary values are hex unless a field says otherwise.
package apitype

import (
	"encoding/binary"
	"encoding/json"
)

// Error is the body of every non-2xx answer.
type Error struct {
	Code    string `json:"code"` // stable kind name, e.g. "invalid", "not_found"
	Message string `json:"message"`
}

// BatchResult is POST /v1/txs:batch: one SubmitResult per submitted
// transaction, in body order.
type BatchResult struct {
	Results []SubmitResult `json:"results"`
}

// Account is GET /v1/accounts/{addr}.
type Account struct {
	Address  string    `json:"address"`
	Balance  string    `json:"balance"` // decimal GAS
	Nonce    uint64    `json:"nonce"`
	Height   int64     `json:"height"` // state height the answer is from
	Location *Location `json:"location,omitempty"`
}

// Location is where a record lives on the GlobalChain, verifiable offline:
// the ICS23 proof of (key, value) against the app hash of state at Height,
// which is committed in the header of block Height+1.
type Location struct {
	ChainID   string `json:"chain_id"`
	Height    int64  `json:"height"`
	Namespace string `json:"namespace"`
	Key       string `json:"key"`      // hex of the full store key
	Value     string `json:"value"`    // hex of the stored value ("" for an absence proof)
	AppHash   string `json:"app_hash"` // hex root the proof verifies against
	Proof     string `json:"proof"`    // hex of the encoded ics23.CommitmentProof
}

// Commit is GET /v1/commits/{height}: the signed header of block Height
// (the header and the commit of its validators' precommit signatures)
// with the validator set that signed it, as CometBFT's LightBlock. The
// header's AppHash is the app hash of the state after block Height-1, so
// a Location at height H is proved by the Commit of height H+1; package
// internal/lightproof checks the pair. ChainID, Height, Hash, AppHash and
// Time repeat what LightBlock holds, for display; a verifier rejects a
// Commit whose copies disagree with LightBlock.
type Commit struct {
	ChainID string `json:"chain_id"`
	Height  int64  `json:"height"`
	Hash    string `json:"hash"`     // hex block hash (the header's hash)
	AppHash string `json:"app_hash"` // hex app hash in the header: state after block Height-1
	Time    string `json:"time"`     // RFC 3339, the header's time
	// Canonical is true when the commit is the one block Height+1
	// carries; false for the node's own seen commit of its latest block
	// (a different, equally valid set of +2/3 signatures).
	Canonical bool `json:"canonical"`
	// LightBlock is the hex of the protobuf cometbft.types.v1.LightBlock
	// (signed header and validator set).
	LightBlock string `json:"light_block"`
}

// SubmitResult is POST /v1/txs.
type SubmitResult struct {
	Hash   string `json:"hash"`
	Code   uint32 `json:"code"` // 0 = accepted (and committed with ?wait=commit)
	Log    string `json:"log,omitempty"`
	Height int64  `json:"height,omitempty"` // set when committed
}

// Tx is GET /v1/txs/{hash}.
type Tx struct {
	Hash   string          `json:"hash"`
	Height int64           `json:"height"`
	Index  uint32          `json:"index"`
	Code   uint32          `json:"code"`
	Log    string          `json:"log,omitempty"`
	Events []Event         `json:"events,omitempty"`
	Tx     string          `json:"tx"` // hex of the encoded Tx
	Body   json.RawMessage `json:"body,omitempty"`
}

// Event is an ABCI event with string attributes.
type Event struct {
	Type       string            `json:"type"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Block is GET /v1/blocks/{h}.
type Block struct {
	Height   int64    `json:"height"`
	Hash     string   `json:"hash"`
	Time     string   `json:"time"` // RFC 3339
	AppHash  string   `json:"app_hash"`
	Proposer string   `json:"proposer"`
	NumTxs   int      `json:"num_txs"`
	TxHashes []string `json:"tx_hashes"`
}

// Status is GET /v1/status.
type Status struct {
	ChainID         string `json:"chain_id"`
	NodeVersion     string `json:"node_version"`
	LatestHeight    int64  `json:"latest_height"`
	LatestBlockHash string `json:"latest_block_hash"`
	LatestAppHash   string `json:"latest_app_hash"`
	LatestBlockTime string `json:"latest_block_time"`
	CatchingUp      bool   `json:"catching_up"`
	Validators      int    `json:"validators"`
	FaucetEnabled   bool   `json:"faucet_enabled"`
	FaucetAddress   string `json:"faucet_address,omitempty"`
	MinFee          string `json:"min_fee"`
	DeployFeePerKiB string `json:"deploy_fee_per_kib"`      // GAS per started KiB of a Deploy's payload, on top of MinFee
	IDCreateFee     string `json:"id_create_fee,omitempty"` // GAS per Request to create an ID, on top of MinFee
	MaxCodeSize     int    `json:"max_code_size"`           // largest contract module a Deploy may carry, bytes
	MempoolSize     int    `json:"mempool_size"`
}

// StreamEvent is one message on the GET /v1/events WebSocket: a "block"
// event (Block set) followed by one "tx" event (Tx set) per transaction
// of that block, in block order. With ?batch=block the stream sends one
// "block_txs" event per block instead: Block (unless filtered out by
// ?types) and Txs, the block's tx results that pass the filters.
type StreamEvent struct {
	Type  string     `json:"type"` // "block", "tx" or "block_txs"
	Block *Block     `json:"block,omitempty"`
	Tx    *TxResult  `json:"tx,omitempty"`
	Txs   []TxResult `json:"txs,omitempty"` // "block_txs" only
	// Events are the block's own events (BlockEvents.Events), on "block"
	// and "block_txs" events that carry the block.
	Events []Event `json:"events,omitempty"`
}

// BlockEvents is one committed block with the results of all its
// transactions, Txs[i] being the result of Block.TxHashes[i]: what a node
// delivers to a subscriber, one per block, and what the event stream
// expands into StreamEvents. Receivers share it and must not modify it.
type BlockEvents struct {
	Block Block      `json:"block"`
	Txs   []TxResult `json:"txs"`
	// Events are the block's own events (FinalizeBlock's, not of a tx):
	// the market's start-of-block work, e.g. request_reopened.
	Events []Event `json:"events,omitempty"`
}

// TxResult is a committed transaction's outcome on the event stream.
type TxResult struct {
	Hash   string  `json:"hash"`
	Height int64   `json:"height"`
	Index  uint32  `json:"index"`
	Code   uint32  `json:"code"`
	Log    string  `json:"log,omitempty"`
	Events []Event `json:"events,omitempty"`
}

// EncodeBatch builds the body of POST /v1/txs:batch: each encoded tx
// preceded by its length as an unsigned LEB128 (uvarint).
func EncodeBatch(txs [][]byte) []byte {
	n := 0
	for _, t := range txs {
		n += len(t) + binary.MaxVarintLen64
	}
	b := make([]byte, 0, n)
	for _, t := range txs {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

// Contract is the registry entry of a contract chain: GET
// /v1/contracts/{name}, and one item of GET /v1/contracts.
type Contract struct {
	Name        string    `json:"name"`
	Owner       string    `json:"owner"`       // address
	Maintainers []string  `json:"maintainers"` // addresses, sorted
	Root        string    `json:"root"`        // hex record hash of the first version
	Head        string    `json:"head"`        // hex record hash of the latest published version
	Latest      string    `json:"latest"`      // the latest published version (publish order, not semver)
	Versions    uint64    `json:"versions"`    // versions published
	Created     int64     `json:"created"`     // height of the first publish
	Updated     int64     `json:"updated"`     // height of the latest change
	Description string    `json:"description,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
	Composite   bool      `json:"composite"`
	Height      int64     `json:"height"` // state height the answer is from
	Location    *Location `json:"location,omitempty"`
}

// ContractVersion is one version of a contract chain: GET
// /v1/contracts/{name}@{range} (the highest non-yanked match, or the exact
// version even if yanked) and one item of .../versions.
type ContractVersion struct {
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	CodeHash    string          `json:"code_hash"`    // CIDv1 of the original module ("" for a composite)
	MeteredHash string          `json:"metered_hash"` // CIDv1 of the metered module ("" for a composite)
	Owner       string          `json:"owner"`        // the chain's owner now
	Publisher   string          `json:"publisher"`
	Seq         uint64          `json:"seq"`  // publish order, from 1
	Prev        string          `json:"prev"` // hex record hash of version seq-1, "" for the root
	RecordHash  string          `json:"record_hash"`
	CodeSize    uint64          `json:"code_size"`
	MeteredSize uint64          `json:"metered_size"`
	Exports     []string        `json:"exports,omitempty"`
	Interface   json.RawMessage `json:"interface,omitempty"`
	Manifest    json.RawMessage `json:"manifest,omitempty"` // composites: the pinned manifest
	Description string          `json:"description,omitempty"`
	Tags        []string        `json:"tags,omitempty"`
	Published   int64           `json:"published"` // height of the publishing block
	Yanked      bool            `json:"yanked"`
	Height      int64           `json:"height"` // state height the answer is from
	Location    *Location       `json:"location,omitempty"`
}

// ContractList is GET /v1/contracts: entries in name order after the
// query's `after`; Next, when set, is the `after` of the next page.
type ContractList struct {
	Contracts []Contract `json:"contracts"`
	Next      string     `json:"next,omitempty"`
	Height    int64      `json:"height"`
}

// VersionList is GET /v1/contracts/{name}/versions: every version in
// ascending semver order.
type VersionList struct {
	Name     string            `json:"name"`
	Versions []ContractVersion `json:"versions"`
	Height   int64             `json:"height"`
}

// ContractQuery filters GET /v1/contracts (its query parameters query,
// tag, after and limit).
type ContractQuery struct {
	Query string `json:"query,omitempty"` // case-insensitive substring of the name or the description; "" = all
	Tag   string `json:"tag,omitempty"`   // exact tag; "" = any
	After string `json:"after,omitempty"` // names strictly after this one (paging)
	Limit int    `json:"limit,omitempty"` // 1..100; 0 = 50
}

// Miner is the registry record of a miner: GET /v1/miners/{id}, and one
// item of GET /v1/miners. A miner is identified by its account address.
// The attributes are those of its latest registration; the counters are
// kept by settlement and never reset by a registration.
type Miner struct {
	Address         string    `json:"address"`
	Kind            string    `json:"kind"` // cpu, gpu, storage, browser or relay
	Capacity        uint32    `json:"capacity"`
	Endpoint        string    `json:"endpoint,omitempty"` // reachability URL
	MinGas          string    `json:"min_gas"`            // decimal GAS: the least per job it accepts
	SoftwareVersion string    `json:"software_version,omitempty"`
	Active          bool      `json:"active"`     // false: listed, but not offered work
	Registered      int64     `json:"registered"` // height of the first registration
	Updated         int64     `json:"updated"`    // height of the latest registration
	JobsTaken       uint64    `json:"jobs_taken"`
	Agreed          uint64    `json:"agreed"`
	Disagreed       uint64    `json:"disagreed"`
	TimedOut        uint64    `json:"timed_out"`
	Earned          string    `json:"earned"` // decimal GAS earned in total
	Height          int64     `json:"height"` // state height the answer is from
	Location        *Location `json:"location,omitempty"`
}

// MinerList is GET /v1/miners: miners in address order after the query's
// `after`; Next, when set, is the `after` of the next page.
type MinerList struct {
	Miners []Miner `json:"miners"`
	Next   string  `json:"next,omitempty"`
	Height int64   `json:"height"`
}

// MinerQuery filters GET /v1/miners (its query parameters kind, after and
// limit).
type MinerQuery struct {
	Kind  string `json:"kind,omitempty"`  // exact kind; "" = any
	After string `json:"after,omitempty"` // addresses strictly after this one (paging)
	Limit int    `json:"limit,omitempty"` // 1..100; 0 = 50
}

// Seal is one miner's seal in a request's current round.
type Seal struct {
	Miner    string `json:"miner"`
	Height   int64  `json:"height"`
	Revealed bool   `json:"revealed"`
}

// Request is an included request and its market state: GET
// /v1/requests/{id}, one item of GET /v1/requests, and the offer a miner
// takes. Miners run Name@Version.Fn(Input) with gas limit GasLimit against
// the state at height Start, with block time StartTime and seed Seed.
type Request struct {
	ID         string `json:"id"`
	Requester  string `json:"requester"`
	Contract   string `json:"contract"` // as asked: name@range
	Name       string `json:"name"`
	Version    string `json:"version"` // resolved at inclusion
	CodeHash   string `json:"code_hash"`
	MeteredCID string `json:"metered_cid,omitempty"` // empty for a composite
	Composite  bool   `json:"composite"`
	Fn         string `json:"fn"`
	Input      []byte `json:"input"`
	GasLimit   string `json:"gas_limit"`
	Price      string `json:"price"`
	Reward     string `json:"reward"`
	Replicas   uint32 `json:"replicas"`
	Quorum     uint32 `json:"quorum"`
	Included   int64  `json:"included"`
	Deadline   int64  `json:"deadline"` // last height at which it may settle
	Escrow     string `json:"escrow"`
	Offer      string `json:"offer"` // the most one miner can earn (market.Offer)
	Start      int64  `json:"start"` // the current round's state height
	StartTime  int64  `json:"start_time"`
	Seed       string `json:"seed"` // hex
	ClosedAt   int64  `json:"closed_at,omitempty"`
	// CommitWindow and RevealWindow are the request's windows in blocks
	// (the chain's at inclusion): seals are accepted from Start until
	// CommitWindow blocks after the round's first seal (until Replicas
	// are in; a round nobody sealed waits until the deadline), reveals
	// for RevealWindow blocks after the commit phase closed.
	CommitWindow int64     `json:"commit_window"`
	RevealWindow int64     `json:"reveal_window"`
	Round        uint32    `json:"round"`
	Status       string    `json:"status"` // open, settled, memo, expired
	Phase        string    `json:"phase"`  // at Height: commit, reveal, lapsed, settled, expired
	Seals        []Seal    `json:"seals"`
	TxHash       string    `json:"tx_hash"`
	Height       int64     `json:"height"`
	Location     *Location `json:"location,omitempty"`
}

// RequestList is GET /v1/requests?open=true: open requests in
// deadline-index order (due height, then id: the most urgent first) after
// the query's `after`; Next is the cursor of the following page.
type RequestList struct {
	Requests []Request `json:"requests"`
	Next     string    `json:"next,omitempty"`
	Height   int64     `json:"height"`
}

// RequestQuery filters GET /v1/requests.
type RequestQuery struct {
	Open  bool   `json:"open"`            // only open requests (the only listing today)
	After string `json:"after,omitempty"` // a previous page's Next: list strictly after it (paging)
	Limit int    `json:"limit,omitempty"` // 1..1000; 0 = 100
}

// Payment is what one miner was paid for a settled request.
type Payment struct {
	Miner  string `json:"miner"`
	Reward string `json:"reward"`
	Gas    string `json:"gas"`
}

// DataRead is one key a result read, with the version it saw.
type DataRead struct {
	Contract string `json:"contract"`
	Key      []byte `json:"key"`
	Found    bool   `json:"found"`
	Version  uint64 `json:"version"`
}

// DataWrite is one key a result wrote.
type DataWrite struct {
	Contract string `json:"contract"`
	Key      []byte `json:"key"`
	Value    []byte `json:"value,omitempty"`
	Delete   bool   `json:"delete,omitempty"`
}

// Result is a request's resultChain entry: GET /v1/results/{id}. Status
// is settled, memo or expired; the execution fields are empty when
// expired. Raw is the canonical result encoding its hash covers.
type Result struct {
	RequestID  string      `json:"request_id"`
	Status     string      `json:"status"`
	Contract   string      `json:"contract"` // name@version
	Fn         string      `json:"fn"`
	Requester  string      `json:"requester"`
	ExecStatus string      `json:"exec_status,omitempty"` // ok, out_of_gas, trap, ...
	Output     []byte      `json:"output"`
	GasUsed    uint64      `json:"gas_used"`
	Error      string      `json:"error,omitempty"`
	Logs       []string    `json:"logs,omitempty"`
	Reads      []DataRead  `json:"reads,omitempty"`
	Writes     []DataWrite `json:"writes,omitempty"`
	Applied    bool        `json:"applied"`
	Memo       bool        `json:"memo"`
	ResultHash string      `json:"result_hash,omitempty"`
	Raw        []byte      `json:"raw,omitempty"`
	Paid       []Payment   `json:"paid"`
	Disagreed  []string    `json:"disagreed,omitempty"`
	Unrevealed []string    `json:"unrevealed,omitempty"`
	Refund     string      `json:"refund"`
	Cost       string      `json:"cost"`
	MemoFees   string      `json:"memo_fees,omitempty"` // of Cost, paid for composite steps memos answered
	Rounds     uint32      `json:"rounds"`
	Seq        uint64      `json:"seq"`
	Prev       string      `json:"prev,omitempty"`
	Settled    int64       `json:"settled"` // height of the settling (or expiring) block
	Height     int64       `json:"height"`
	Location   *Location   `json:"location,omitempty"`
}

// Memo is GET /v1/memos/{code}/{fn}/{input}: the memo of one (metered
// code hash, function, input hash) at Height, with the result it holds.
// A request for that call whose reads all still hold is answered from it
// for 1 GAS, and so is such a step of a composite.
type Memo struct {
	CodeHash    string    `json:"code_hash"`
	Fn          string    `json:"fn"`
	InputHash   string    `json:"input_hash"`
	Key         string    `json:"key"`            // market.MemoKey over its reads
	RequestID   string    `json:"request_id"`     // whose resultChain entry holds the result
	Step        uint32    `json:"step,omitempty"` // 0: the entry's result; i > 0: step i of its composite result
	ResultHash  string    `json:"result_hash"`
	Raw         []byte    `json:"raw"`    // the result (wasm.Result encoding); hashes to ResultHash
	Stored      int64     `json:"stored"` // height it was stored at
	Beneficiary string    `json:"beneficiary"`
	Hits        uint64    `json:"hits"`
	Height      int64     `json:"height"`
	Location    *Location `json:"location,omitempty"` // proves the memo record (not Raw: Raw is checked by its hash)
}

// DataEntry is one key of a contract's namespace at a height: GET
// /v1/state/{contract}/{key} and items of the range form.
type DataEntry struct {
	Contract string    `json:"contract"`
	Key      []byte    `json:"key"`
	Value    []byte    `json:"value,omitempty"`
	Version  uint64    `json:"version"` // 0 when absent
	Found    bool      `json:"found"`
	Height   int64     `json:"height"`
	Location *Location `json:"location,omitempty"`
}

// DataRange is GET /v1/state/{contract}?start=&end=&limit=&height=.
type DataRange struct {
	Contract string      `json:"contract"`
	Entries  []DataEntry `json:"entries"`
	Height   int64       `json:"height"`
}

// ID is GET /v1/ids/{id}: an ID's record on the IDChain (the system
// contract idchain's namespace) at Height, and the Location proving it.
type ID struct {
	ID          string            `json:"id"`
	Owner       string            `json:"owner"`  // account address
	PubKey      string            `json:"pubkey"` // the owner's ed25519 public key, hex
	Controllers []string          `json:"controllers"`
	Attrs       map[string]string `json:"attrs"`
	Created     int64             `json:"created"` // height of the creating request
	Updated     int64             `json:"updated"`
	Version     uint64            `json:"version"` // the stored record's data version
	Height      int64             `json:"height"`
	Location    *Location         `json:"location,omitempty"`
}

// IDRecord is GET /v1/ids/{id}/records/{key}: one record of an ID's "my
// chain". A private record has Ciphertext (an age file, base64 in JSON)
// readable by the listed Readers only.
type IDRecord struct {
	ID         string    `json:"id"`
	Key        string    `json:"key"`
	Value      string    `json:"value,omitempty"`
	Private    bool      `json:"private,omitempty"`
	Ciphertext []byte    `json:"ciphertext,omitempty"`
	Readers    []string  `json:"readers,omitempty"`
	By         string    `json:"by"`      // address that wrote it
	Updated    int64     `json:"updated"` // height of the writing request
	Version    uint64    `json:"version"`
	Height     int64     `json:"height"`
	Location   *Location `json:"location,omitempty"`
}

// IDRecordList is GET /v1/ids/{id}/records: records in key order after
// the query's `after`; Next is the After of the following page.
type IDRecordList struct {
	ID      string     `json:"id"`
	Records []IDRecord `json:"records"`
	Next    string     `json:"next,omitempty"`
	Height  int64      `json:"height"`
}

// Genesis is GET /v1/genesis: the chain's id and its genesis validator
// set, the trust root of a light client (internal/lightproof.Trust). A
// client pins it on first use and compares Hash later; Hash is what a
// user compares with the one `vm` computes from its own genesis file.
type Genesis struct {
	ChainID    string             `json:"chain_id"`
	Validators []GenesisValidator `json:"validators"` // in the set's order (power descending, then address)
	// Hash is the hex CometBFT validator-set hash of Validators (the
	// Merkle root of their SimpleValidator encodings), the value a block
	// header's validators_hash carries while the set is unchanged.
	Hash string `json:"hash"`
}

// GenesisValidator is one validator of a Genesis.
type GenesisValidator struct {
	Address string `json:"address"` // hex, the first 20 bytes of SHA-256(pub_key)
	PubKey  string `json:"pub_key"` // hex Ed25519 public key (32 bytes)
	Power   string `json:"power"`   // decimal voting power (a string: it may pass 2^53)
}
