// CometBFT light blocks, checked as internal/lightproof checks them with
// CometBFT's Go code: the protobuf cometbft.types.v1.LightBlock decoded,
// the header hashed as Header.Hash does (a Merkle root over the fields'
// proto encodings), the validator set hashed as ValidatorSet.Hash does,
// and the commit's precommit signatures verified over CometBFT's
// canonical vote sign bytes with WebCrypto Ed25519.

import { concat, sha256 } from "../bytes";
import {
  BinaryWriter,
  bytesOf,
  DecodeError,
  encodeTimestamp,
  fields,
  GoZero,
  int32,
  markRepeated,
  timestamp,
  uint32,
  uvarint64,
  varint64,
  WireType,
  type Timestamp,
} from "./pb";

// Limits of CometBFT (types/params.go, types/validator_set.go).
export const MaxChainIDLen = 50;
export const MaxVotesCount = 10000;
export const MaxTotalVotingPower = (1n << 63n) / 8n - 1n;
export const BlockProtocol = 11n;
const MaxSignatureSize = 64;

export interface BlockID {
  hash: Uint8Array;
  total: number;
  partsHash: Uint8Array;
}
export interface Header {
  versionBlock: bigint;
  versionApp: bigint;
  chainID: Uint8Array; // the raw bytes, as hashed
  height: bigint;
  time: Timestamp;
  lastBlockID: BlockID;
  lastCommitHash: Uint8Array;
  dataHash: Uint8Array;
  validatorsHash: Uint8Array;
  nextValidatorsHash: Uint8Array;
  consensusHash: Uint8Array;
  appHash: Uint8Array;
  lastResultsHash: Uint8Array;
  evidenceHash: Uint8Array;
  proposerAddress: Uint8Array;
}
export interface CommitSig {
  flag: number; // 1 absent, 2 commit, 3 nil
  address: Uint8Array;
  timestamp: Timestamp;
  signature: Uint8Array;
}
export interface Commit {
  height: bigint;
  round: number;
  blockID: BlockID;
  signatures: CommitSig[];
}
export interface Validator {
  address: Uint8Array;
  pubKey: Uint8Array; // Ed25519, 32 bytes
  power: bigint;
}
export interface LightBlock {
  header: Header;
  commit: Commit;
  validators: Validator[];
  proposer: Validator;
}

const empty = () => new Uint8Array();
const LEN = WireType.LengthDelimited;

markRepeated("Commit", 4);
markRepeated("ValidatorSet", 1);

function blockID(b: Uint8Array | undefined, what: string): BlockID {
  const id: BlockID = { hash: empty(), total: 0, partsHash: empty() };
  if (!b) return id;
  fields(b, what, (f) => {
    if (f.no === 1) id.hash = bytesOf(f, what);
    else if (f.no === 2) {
      fields(bytesOf(f, what), what + ".part_set_header", (g) => {
        if (g.no === 1) id.total = uint32(g, what);
        else if (g.no === 2) id.partsHash = bytesOf(g, what);
        else return false;
        return true;
      });
    } else return false;
    return true;
  });
  return id;
}

function header(b: Uint8Array): Header {
  const h: Header = {
    versionBlock: 0n, versionApp: 0n, chainID: empty(), height: 0n, time: GoZero,
    lastBlockID: blockID(undefined, ""), lastCommitHash: empty(), dataHash: empty(), validatorsHash: empty(),
    nextValidatorsHash: empty(), consensusHash: empty(), appHash: empty(), lastResultsHash: empty(),
    evidenceHash: empty(), proposerAddress: empty(),
  };
  const w = "Header";
  const hashes: Record<number, keyof Header> = {
    6: "lastCommitHash", 7: "dataHash", 8: "validatorsHash", 9: "nextValidatorsHash", 10: "consensusHash",
    11: "appHash", 12: "lastResultsHash", 13: "evidenceHash", 14: "proposerAddress",
  };
  fields(b, w, (f) => {
    switch (f.no) {
      case 1:
        fields(bytesOf(f, w), "Consensus", (g) => {
          if (g.no === 1) h.versionBlock = uvarint64(g, "Consensus");
          else if (g.no === 2) h.versionApp = uvarint64(g, "Consensus");
          else return false;
          return true;
        });
        break;
      case 2: h.chainID = bytesOf(f, w); break;
      case 3: h.height = varint64(f, w); break;
      case 4: h.time = timestamp(bytesOf(f, w), "Header.time"); break;
      case 5: h.lastBlockID = blockID(bytesOf(f, w), "Header.last_block_id"); break;
      default: {
        const k = hashes[f.no];
        if (!k) return false;
        (h as unknown as Record<string, Uint8Array>)[k] = bytesOf(f, w);
      }
    }
    return true;
  });
  return h;
}

function commitSig(b: Uint8Array): CommitSig {
  const s: CommitSig = { flag: 0, address: empty(), timestamp: GoZero, signature: empty() };
  fields(b, "CommitSig", (f) => {
    switch (f.no) {
      case 1: s.flag = int32(f, "CommitSig"); break;
      case 2: s.address = bytesOf(f, "CommitSig"); break;
      case 3: s.timestamp = timestamp(bytesOf(f, "CommitSig"), "CommitSig.timestamp"); break;
      case 4: s.signature = bytesOf(f, "CommitSig"); break;
      default: return false;
    }
    return true;
  });
  return s;
}

function commit(b: Uint8Array): Commit {
  const c: Commit = { height: 0n, round: 0, blockID: blockID(undefined, ""), signatures: [] };
  fields(b, "Commit", (f) => {
    switch (f.no) {
      case 1: c.height = varint64(f, "Commit"); break;
      case 2: c.round = int32(f, "Commit"); break;
      case 3: c.blockID = blockID(bytesOf(f, "Commit"), "Commit.block_id"); break;
      case 4:
        if (c.signatures.length >= MaxVotesCount) throw new DecodeError(`Commit: more than ${MaxVotesCount} signatures`);
        c.signatures.push(commitSig(bytesOf(f, "Commit")));
        break;
      default: return false;
    }
    return true;
  });
  return c;
}

// publicKey reads cometbft.crypto.v1.PublicKey: only Ed25519 (field 1)
// is supported here.
function publicKey(b: Uint8Array): Uint8Array {
  let key: Uint8Array | undefined;
  fields(b, "PublicKey", (f) => {
    if (f.no === 1) key = bytesOf(f, "PublicKey");
    else if (f.no === 2 || f.no === 3) throw new DecodeError("validator key is not Ed25519 (the browser checks Ed25519 only)");
    else return false;
    return true;
  });
  if (!key) throw new DecodeError("PublicKey is empty");
  return key;
}

// validator reads cometbft.types.v1.Validator as ValidatorFromProto does:
// pub_key_type/pub_key_bytes when they make a key, else pub_key.
function validator(b: Uint8Array): Validator {
  const v: Validator = { address: empty(), pubKey: empty(), power: 0n };
  let pkType = "";
  let pkBytes: Uint8Array = empty();
  let pk: Uint8Array | undefined;
  fields(b, "Validator", (f) => {
    switch (f.no) {
      case 1: v.address = bytesOf(f, "Validator"); break;
      case 2: pk = bytesOf(f, "Validator"); break;
      case 3: v.power = varint64(f, "Validator"); break;
      case 4: varint64(f, "Validator"); break; // proposer priority: not hashed, not used
      case 5: pkBytes = bytesOf(f, "Validator"); break;
      case 6: pkType = new TextDecoder().decode(bytesOf(f, "Validator")); break;
      default: return false;
    }
    return true;
  });
  if (pkType === "ed25519" && pkBytes.length === 32) v.pubKey = pkBytes;
  else if (pkType !== "" && pkType !== "ed25519") throw new DecodeError(`validator key type ${pkType} is not Ed25519 (the browser checks Ed25519 only)`);
  else if (pk) v.pubKey = publicKey(pk);
  else throw new DecodeError("validator has no public key");
  if (v.pubKey.length !== 32) throw new DecodeError(`validator Ed25519 key is ${v.pubKey.length} bytes, want 32`);
  return v;
}

// decodeLightBlock decodes a cometbft.types.v1.LightBlock, refusing what
// lightproof.Decode refuses (a missing part; more validators, or more
// power, than CometBFT allows).
export function decodeLightBlock(b: Uint8Array): LightBlock {
  let sh: Uint8Array | undefined;
  let vs: Uint8Array | undefined;
  fields(b, "LightBlock", (f) => {
    if (f.no === 1) sh = bytesOf(f, "LightBlock");
    else if (f.no === 2) vs = bytesOf(f, "LightBlock");
    else return false;
    return true;
  });
  let hb: Uint8Array | undefined;
  let cb: Uint8Array | undefined;
  if (sh) {
    fields(sh, "SignedHeader", (f) => {
      if (f.no === 1) hb = bytesOf(f, "SignedHeader");
      else if (f.no === 2) cb = bytesOf(f, "SignedHeader");
      else return false;
      return true;
    });
  }
  if (!hb || !cb || !vs) throw new DecodeError("light block lacks a header, commit or validator set");
  const validators: Validator[] = [];
  let proposer: Validator | undefined;
  fields(vs, "ValidatorSet", (f) => {
    if (f.no === 1) {
      if (validators.length >= MaxVotesCount) throw new DecodeError(`validator set has more than ${MaxVotesCount} validators`);
      validators.push(validator(bytesOf(f, "ValidatorSet")));
    } else if (f.no === 2) proposer = validator(bytesOf(f, "ValidatorSet"));
    else if (f.no === 3) varint64(f, "ValidatorSet"); // total power: recomputed, as CometBFT does
    else return false;
    return true;
  });
  let total = 0n;
  validators.forEach((v, i) => {
    if (v.power < 0n || v.power > MaxTotalVotingPower - total) {
      throw new DecodeError(`validator ${i} has power ${v.power}: the set's total passes ${MaxTotalVotingPower}`);
    }
    total += v.power;
  });
  if (!proposer) throw new DecodeError("validator set has no proposer");
  return { header: header(hb), commit: commit(cb), validators, proposer };
}

// Merkle trees as CometBFT's crypto/merkle builds them (RFC 6962).
async function leafHash(b: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return sha256(concat(new Uint8Array([0]), b));
}
export async function merkleRoot(items: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
  if (items.length === 0) return sha256(new Uint8Array());
  if (items.length === 1) return leafHash(items[0]);
  let k = 1;
  while (k * 2 < items.length) k *= 2;
  const [l, r] = await Promise.all([merkleRoot(items.slice(0, k)), merkleRoot(items.slice(k))]);
  return sha256(concat(new Uint8Array([1]), l, r));
}

function encBlockID(id: BlockID): Uint8Array {
  const psh = new BinaryWriter();
  if (id.total !== 0) psh.tag(1, WireType.Varint).uint32(id.total);
  if (id.partsHash.length) psh.tag(2, LEN).bytes(id.partsHash);
  const w = new BinaryWriter();
  if (id.hash.length) w.tag(1, LEN).bytes(id.hash);
  w.tag(2, LEN).bytes(psh.finish()); // non-nullable: always written
  return w.finish();
}

// wrapped is cdcEncode: the value in a gogoproto wrapper (StringValue,
// Int64Value, BytesValue), nothing for an empty value.
function wrappedBytes(b: Uint8Array): Uint8Array {
  return b.length ? new BinaryWriter().tag(1, LEN).bytes(b).finish() : empty();
}

// headerHash is Header.Hash: nil (here: empty) without a validators hash.
export async function headerHash(h: Header): Promise<Uint8Array> {
  if (h.validatorsHash.length === 0) return empty();
  const ver = new BinaryWriter();
  if (h.versionBlock) ver.tag(1, WireType.Varint).uint64(h.versionBlock);
  if (h.versionApp) ver.tag(2, WireType.Varint).uint64(h.versionApp);
  const height = h.height ? new BinaryWriter().tag(1, WireType.Varint).int64(h.height).finish() : empty();
  return merkleRoot([
    ver.finish(),
    wrappedBytes(h.chainID),
    height,
    encodeTimestamp(h.time),
    encBlockID(h.lastBlockID),
    wrappedBytes(h.lastCommitHash),
    wrappedBytes(h.dataHash),
    wrappedBytes(h.validatorsHash),
    wrappedBytes(h.nextValidatorsHash),
    wrappedBytes(h.consensusHash),
    wrappedBytes(h.appHash),
    wrappedBytes(h.lastResultsHash),
    wrappedBytes(h.evidenceHash),
    wrappedBytes(h.proposerAddress),
  ]);
}

// simpleValidator is Validator.Bytes: SimpleValidator{PubKey{ed25519}, power}.
function simpleValidator(v: Validator): Uint8Array {
  const pk = new BinaryWriter().tag(1, LEN).bytes(v.pubKey).finish();
  const w = new BinaryWriter().tag(1, LEN).bytes(pk);
  if (v.power) w.tag(2, WireType.Varint).int64(v.power);
  return w.finish();
}

// validatorSetHash is ValidatorSet.Hash over the validators in order.
export function validatorSetHash(vals: Validator[]): Promise<Uint8Array<ArrayBuffer>> {
  return merkleRoot(vals.map(simpleValidator));
}

// address is an Ed25519 key's CometBFT address: SHA-256(key)[:20].
export async function address(pubKey: Uint8Array): Promise<Uint8Array> {
  return (await sha256(concat(pubKey))).slice(0, 20);
}

// voteSignBytes is Commit.VoteSignBytes(chainID, idx) for a signature
// for the block: the length-delimited CanonicalVote of a precommit.
export function voteSignBytes(chainID: string, c: Commit, sig: CommitSig): Uint8Array<ArrayBuffer> {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int32(2); // SignedMsgType PRECOMMIT
  if (c.height) w.tag(2, WireType.Bit64).sfixed64(c.height);
  if (c.round) w.tag(3, WireType.Bit64).sfixed64(BigInt(c.round));
  const id = c.blockID;
  if (id.hash.length || id.total || id.partsHash.length) w.tag(4, LEN).bytes(encBlockID(id));
  w.tag(5, LEN).bytes(encodeTimestamp(sig.timestamp));
  if (chainID) w.tag(6, LEN).string(chainID);
  const body = w.finish();
  return concat(new BinaryWriter().uint32(body.length).finish(), body);
}

// verifySig checks an Ed25519 signature with WebCrypto; a key WebCrypto
// cannot import, or a signature not 64 bytes, does not verify.
export async function verifySig(pubKey: Uint8Array, sig: Uint8Array, msg: Uint8Array<ArrayBuffer>): Promise<boolean> {
  if (sig.length !== 64 || pubKey.length !== 32) return false;
  try {
    const key = await crypto.subtle.importKey("raw", concat(pubKey), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, concat(sig), msg);
  } catch {
    return false;
  }
}

export { MaxSignatureSize };
