// verifyLocation checks an apitype.Location in the browser as `vm id
// verify` does in Go (state.VerifyLocation, then lightproof.Verify): the
// ICS23 proof against the location's app hash, then block height+1's
// signed header — its chain, height and app hash, its hash, the commit
// that signs it, its validator set, +2/3 of that set's power and more
// than 1/3 of the trusted (genesis) set's power among the signatures.

import { equal, fromHex, toHex } from "../bytes";
import { decodeProof, verifyMembership, verifyNonMembership } from "./ics23";
import {
  address,
  BlockProtocol,
  decodeLightBlock,
  headerHash,
  MaxChainIDLen,
  MaxSignatureSize,
  validatorSetHash,
  verifySig,
  voteSignBytes,
  type CommitSig,
  type LightBlock,
  type Validator,
} from "./light";
import { GoZero, rfc3339Nano, utf8 } from "./pb";

// Location and Commit are the JSON of apitype.Location and apitype.Commit.
export interface Location {
  chain_id: string;
  height: number;
  namespace: string;
  key: string;
  value: string;
  app_hash: string;
  proof: string;
}
export interface Commit {
  chain_id: string;
  height: number;
  hash: string;
  app_hash: string;
  time: string;
  canonical: boolean;
  light_block: string;
}

// Trust is what the browser takes on faith: a chain id and its genesis
// validator set (checked by trust.ts before use), with the set's hash.
export interface Trust {
  chainID: string;
  validators: Validator[];
  hash: string; // hex validator-set hash of validators
}

// Check is one step of a verification and what it established.
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

// VerifyError is the first check that failed, with the ones that passed
// before it.
export class VerifyError extends Error {
  constructor(
    readonly check: string,
    message: string,
    readonly passed: Check[],
  ) {
    super(`${check}: ${message}`);
  }
}

// MaxLightBlockSize is lightproof.MaxLightBlockSize (bytes before hex).
export const MaxLightBlockSize = 4 << 20;

// TrustNumerator/TrustDenominator are lightproof.TrustLevel: 1/3.
const trustNum = 1n;
const trustDen = 3n;

type Step = (name: string, fn: () => Promise<string> | string) => Promise<void>;

function hexUp(b: Uint8Array): string {
  return toHex(b).toUpperCase();
}

// verifyLocation runs every check in order and returns them all (each
// ok), or throws a VerifyError naming the first that failed.
// fetchCommit(h) answers GET /v1/commits/h.
//
// subject, when given, is a check of what the location is about, run
// right after the location's shape: a page showing a record checks that
// the location's key is that record's and its value is what the page
// shows (else a node could show made-up data beside a genuine location
// of something else). It throws to refuse, or returns the check's detail.
export interface Subject {
  name: string;
  check: (key: Uint8Array, value: Uint8Array) => string;
}

export async function verifyLocation(
  loc: Location,
  trust: Trust,
  fetchCommit: (height: number) => Promise<Commit>,
  subject?: Subject,
): Promise<Check[]> {
  const passed: Check[] = [];
  const step: Step = async (name, fn) => {
    let detail: string;
    try {
      detail = await fn();
    } catch (e) {
      throw new VerifyError(name, e instanceof Error ? e.message : String(e), passed);
    }
    passed.push({ name, ok: true, detail });
  };

  let key: Uint8Array = new Uint8Array(), value: Uint8Array = new Uint8Array();
  let root: Uint8Array = new Uint8Array(), raw: Uint8Array = new Uint8Array();
  await step("location is well formed", () => {
    [key, value, root, raw] = [loc.key, loc.value, loc.app_hash, loc.proof].map((s, i) =>
      fromHex(typeof s === "string" ? s : "", ["key", "value", "app_hash", "proof"][i]),
    );
    if (key.length === 0 || root.length !== 32 || raw.length === 0) throw new Error("location is missing its key, app hash or proof");
    if (!Number.isSafeInteger(loc.height) || loc.height < 1) throw new Error(`location height ${loc.height} is not positive`);
    return `key ${shorten(loc.key)}, ${value.length ? `${value.length}-byte value` : "absent (no value)"}, height ${loc.height}`;
  });
  if (subject) await step(subject.name, () => subject.check(key, value));
  await step("Merkle proof verifies against the app hash (ICS23, IAVL spec)", async () => {
    const proof = decodeProof(raw);
    try {
      if (value.length) await verifyMembership(proof, root, key, value);
      else await verifyNonMembership(proof, root, key);
    } catch (e) {
      throw new Error(`proof does not verify key ${loc.key} against app hash ${loc.app_hash}: ${(e as Error).message}`);
    }
    return `${value.length ? "(key, value) hash" : "the key's neighbours hash"} up to app hash ${shorten(loc.app_hash)}`;
  });
  await step("location is on the trusted chain", () => {
    if (loc.chain_id !== trust.chainID) throw new Error(`location is on chain "${loc.chain_id}", the trusted chain is "${trust.chainID}"`);
    return trust.chainID;
  });

  const want = loc.height + 1;
  let c: Commit | undefined;
  let lb: LightBlock | undefined;
  let hh: Uint8Array = new Uint8Array();
  await step(`signed header of block ${want} decodes`, async () => {
    c = await fetchCommit(want);
    if (typeof c.light_block !== "string" || c.light_block.length > 2 * MaxLightBlockSize) {
      throw new Error(`light block is over the limit of ${MaxLightBlockSize} bytes`);
    }
    lb = decodeLightBlock(fromHex(c.light_block, "light_block"));
    const h = lb.header;
    hh = await headerHash(h);
    // lightproof.Decode: the display copies agree with the header.
    const cid = utf8(h.chainID, "header chain id");
    const bad =
      c.chain_id !== cid ? `chain_id "${c.chain_id}", header says "${cid}"`
      : BigInt(c.height) !== h.height ? `height ${c.height}, header is block ${h.height}`
      : c.hash !== toHex(hh) ? `hash ${c.hash}, header hashes to ${hexUp(hh)}`
      : c.app_hash !== toHex(h.appHash) ? `app_hash ${c.app_hash}, header says ${hexUp(h.appHash)}`
      : c.time !== rfc3339Nano(h.time) ? `time ${c.time}, header says ${rfc3339Nano(h.time)}`
      : "";
    if (bad) throw new Error(`commit display fields disagree with its header: ${bad}`);
    return `block ${h.height}, ${lb.validators.length} validator(s), ${lb.commit.signatures.length} signature(s)`;
  });
  const { header: h, commit, validators: vals } = lb!;
  const chainID = utf8(h.chainID, "header chain id");
  await step("header is of the trusted chain", () => {
    if (chainID !== trust.chainID) throw new Error(`header is of chain "${chainID}", the trusted chain is "${trust.chainID}"`);
    return chainID;
  });
  await step(`header is block ${want}`, () => {
    if (h.height !== BigInt(want)) throw new Error(`header is block ${h.height}; a location at height ${loc.height} needs block ${want}`);
    return `block ${h.height}`;
  });
  await step("header carries the location's app hash", () => {
    if (!equal(h.appHash, root)) throw new Error(`header ${h.height} has app hash ${hexUp(h.appHash)}, the location claims ${loc.app_hash}`);
    return shorten(loc.app_hash);
  });
  await step("header and commit are well formed", () => wellFormed(lb!));
  await step("commit signs this header", () => {
    if (!equal(hh, commit.blockID.hash)) {
      throw new Error(`commit signs block ${hexUp(commit.blockID.hash)}, the header hashes to ${hexUp(hh)}`);
    }
    return `block hash ${shorten(toHex(hh))}`;
  });
  let vh: Uint8Array = new Uint8Array();
  await step("validator set is the header's", async () => {
    await validSet(vals, lb!.proposer);
    vh = await validatorSetHash(vals);
    if (!equal(vh, h.validatorsHash)) {
      throw new Error(`validator set hashes to ${hexUp(vh)}, header ${h.height} names ${hexUp(h.validatorsHash)}`);
    }
    return `validators hash ${shorten(toHex(vh))}`;
  });

  // Each signature is verified at most once, as lightproof does when the
  // block's set is the trusted one; CometBFT's early exit is kept: once
  // the power needed is passed, later signatures are not looked at.
  const verified = new Map<number, boolean>();
  const sigOK = async (idx: number, pub: Uint8Array, sig: CommitSig) => {
    let ok = verified.get(idx);
    if (ok === undefined) {
      ok = await verifySig(pub, sig.signature, voteSignBytes(chainID, commit, sig));
      verified.set(idx, ok);
    }
    if (!ok) throw new Error(`wrong signature (#${idx}): ${hexUp(sig.signature)}`);
  };
  const sameSet = toHex(vh) === trust.hash.toLowerCase();
  const block23 = async (): Promise<string> => {
    // VerifyCommitLight: one signature per validator, by index.
    if (vals.length !== commit.signatures.length) {
      throw new Error(`the set has ${vals.length} validators, the commit ${commit.signatures.length} signatures`);
    }
    const total = vals.reduce((n, v) => n + v.power, 0n);
    const needed = (total * 2n) / 3n;
    let got = 0n;
    for (const [idx, sig] of commit.signatures.entries()) {
      if (sig.flag !== 2) continue;
      await sigOK(idx, vals[idx].pubKey, sig);
      got += vals[idx].power;
      if (got > needed) return `${got} of ${total} power signed (more than 2/3)`;
    }
    throw new Error(`${sameSet ? "genesis validators" : `block ${h.height}'s validators`} did not sign block ${h.height} with +2/3 of their power: got ${got}, needed more than ${needed}`);
  };
  const trusted13 = async (): Promise<string> => {
    // VerifyCommitLightTrusting: trusted validators by address.
    const total = trust.validators.reduce((n, v) => n + v.power, 0n);
    const needed = (total * trustNum) / trustDen;
    const byAddr = new Map(trust.validators.map((v, i) => [toHex(v.address), i]));
    const seen = new Map<number, number>();
    let got = 0n;
    for (const [idx, sig] of commit.signatures.entries()) {
      if (sig.flag !== 2) continue;
      const vi = byAddr.get(toHex(sig.address));
      if (vi === undefined) continue;
      if (seen.has(vi)) throw new Error(`double vote from validator ${hexUp(sig.address)} (${seen.get(vi)} and ${idx})`);
      seen.set(vi, idx);
      const v = trust.validators[vi];
      await sigOK(idx, v.pubKey, sig);
      got += v.power;
      if (got > needed) return `${got} of the genesis set's ${total} power signed (more than 1/3)`;
    }
    throw new Error(`genesis validators did not sign block ${h.height} with ${trustNum}/${trustDen} of their power: got ${got}, needed more than ${needed}`);
  };
  const t23 = `+2/3 of block ${want}'s validators signed it`;
  const t13 = "more than 1/3 of the trusted genesis validators signed it";
  if (sameSet) {
    await step(t23, block23);
    await step(t13, () => `the block's set is the genesis set (hash ${shorten(trust.hash)}): +2/3 of it signed`);
  } else {
    await step(t13, trusted13);
    await step(t23, block23);
  }
  return passed;
}

function shorten(s: string): string {
  return s.length > 20 ? s.slice(0, 10) + "…" + s.slice(-6) : s;
}

function hashOK(b: Uint8Array): boolean {
  return b.length === 0 || b.length === 32;
}

// wellFormed is Header.ValidateBasic, Commit.ValidateBasic (with its
// BlockID's) and the commit's height against the header's.
function wellFormed(lb: LightBlock): string {
  const { header: h, commit: c } = lb;
  if (h.versionBlock !== BlockProtocol) throw new Error(`header: block protocol is ${h.versionBlock}, want ${BlockProtocol}`);
  if (h.chainID.length > MaxChainIDLen) throw new Error(`header: chain id is longer than ${MaxChainIDLen}`);
  if (h.height <= 0n) throw new Error("header: height is not positive");
  if (!hashOK(h.lastBlockID.hash) || !hashOK(h.lastBlockID.partsHash)) throw new Error("header: wrong LastBlockID");
  const hashes: [string, Uint8Array][] = [
    ["LastCommitHash", h.lastCommitHash], ["DataHash", h.dataHash], ["EvidenceHash", h.evidenceHash],
    ["ValidatorsHash", h.validatorsHash], ["NextValidatorsHash", h.nextValidatorsHash],
    ["ConsensusHash", h.consensusHash], ["LastResultsHash", h.lastResultsHash],
  ];
  for (const [n, b] of hashes) if (!hashOK(b)) throw new Error(`header: wrong ${n}: ${b.length} bytes`);
  if (h.proposerAddress.length !== 20) throw new Error("header: proposer address is not 20 bytes");
  if (!hashOK(c.blockID.hash) || !hashOK(c.blockID.partsHash)) throw new Error("commit: wrong BlockID");
  if (c.height < 0n || c.round < 0) throw new Error("commit: negative height or round");
  if (c.height >= 1n) {
    if (c.blockID.hash.length === 0 && c.blockID.total === 0 && c.blockID.partsHash.length === 0) {
      throw new Error("commit: commit cannot be for nil block");
    }
    if (c.signatures.length === 0) throw new Error("commit: no signatures in commit");
    c.signatures.forEach((s, i) => {
      const bad =
        s.flag < 1 || s.flag > 3 ? `unknown BlockIDFlag: ${s.flag}`
        : s.flag === 1 ? (s.address.length ? "validator address is present"
          : s.timestamp.seconds !== GoZero.seconds || s.timestamp.nanos !== 0 ? "time is present"
          : s.signature.length ? "signature is present" : "")
        : s.address.length !== 20 ? `expected ValidatorAddress size to be 20 bytes, got ${s.address.length} bytes`
        : s.signature.length === 0 ? "signature is missing"
        : s.signature.length > MaxSignatureSize ? `signature is too big (max: ${MaxSignatureSize})` : "";
      if (bad) throw new Error(`commit: wrong CommitSig #${i}: ${bad}`);
    });
  }
  if (c.height !== h.height) throw new Error(`commit is for height ${c.height}, header is block ${h.height}`);
  return `block protocol ${h.versionBlock}, round ${c.round}`;
}

// validSet is ValidatorSet.ValidateBasic: non-empty, each validator's
// power non-negative and address its key's, the proposer one of them.
async function validSet(vals: Validator[], proposer: Validator): Promise<void> {
  if (vals.length === 0) throw new Error("validator set: validator set is nil or empty");
  for (const [i, v] of [...vals, proposer].entries()) {
    const what = i < vals.length ? `invalid validator #${i}` : "proposer failed validate basic";
    if (v.power < 0n) throw new Error(`validator set: ${what}: validator has negative voting power`);
    if (!equal(v.address, await address(v.pubKey))) throw new Error(`validator set: ${what}: validator address is incorrectly derived from pubkey`);
  }
  if (!vals.some((v) => equal(v.address, proposer.address))) throw new Error("validator set: proposer not in the set");
}
