// ICS23 membership proofs against the IAVL spec, as cosmos/ics23's Go
// VerifyMembership(IavlSpec, ...) checks them (state.VerifyLocation): the
// CommitmentProof is decoded, its leaf and inner ops are held to the
// spec (hash functions, length prefix, leaf prefix, IAVL's height/size/
// version prefix per layer, inner prefix and suffix lengths), and only
// then is the hash chain run from (key, value) up to the app hash.

import { concat, equal, sha256 } from "../bytes";
import { bytesOf, DecodeError, fields, markRepeated, uvarint64 } from "./pb";

// HashOp and LengthOp values of cosmos.ics23.v1.
const NO_HASH = 0;
const SHA256 = 1;
const VAR_PROTO = 1;

// The IAVL spec (ics23.IavlSpec).
const iavl = {
  leaf: { hash: SHA256, prehashKey: NO_HASH, prehashValue: SHA256, length: VAR_PROTO, prefix: new Uint8Array([0]) },
  inner: { childOrderLen: 2, minPrefixLength: 4, maxPrefixLength: 12, childSize: 33, hash: SHA256 },
};

// MaxDepth bounds the inner ops of a proof. IavlSpec sets none; an IAVL
// node's height is an int8, so a real path has fewer than 128 steps.
export const MaxDepth = 256;

export interface LeafOp {
  hash: number;
  prehashKey: number;
  prehashValue: number;
  length: number;
  prefix: Uint8Array;
}
export interface InnerOp {
  hash: number;
  prefix: Uint8Array;
  suffix: Uint8Array;
}
export interface ExistenceProof {
  key: Uint8Array;
  value: Uint8Array;
  leaf?: LeafOp;
  path: InnerOp[];
}
export interface NonExistenceProof {
  key: Uint8Array;
  left?: ExistenceProof;
  right?: ExistenceProof;
}
export type CommitmentProof =
  | { kind: "exist"; exist: ExistenceProof }
  | { kind: "nonexist"; nonexist: NonExistenceProof }
  | { kind: "batch" | "compressed" };

markRepeated("ExistenceProof", 4);

// The enums are int32 in Go: a varint is cut to its low 32 bits.
function enumOf(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

function leafOp(b: Uint8Array): LeafOp {
  const op: LeafOp = { hash: 0, prehashKey: 0, prehashValue: 0, length: 0, prefix: new Uint8Array() };
  fields(b, "LeafOp", (f) => {
    switch (f.no) {
      case 1: op.hash = enumOf(uvarint64(f, "LeafOp")); break;
      case 2: op.prehashKey = enumOf(uvarint64(f, "LeafOp")); break;
      case 3: op.prehashValue = enumOf(uvarint64(f, "LeafOp")); break;
      case 4: op.length = enumOf(uvarint64(f, "LeafOp")); break;
      case 5: op.prefix = bytesOf(f, "LeafOp"); break;
      default: return false;
    }
    return true;
  });
  return op;
}

function innerOp(b: Uint8Array): InnerOp {
  const op: InnerOp = { hash: 0, prefix: new Uint8Array(), suffix: new Uint8Array() };
  fields(b, "InnerOp", (f) => {
    switch (f.no) {
      case 1: op.hash = enumOf(uvarint64(f, "InnerOp")); break;
      case 2: op.prefix = bytesOf(f, "InnerOp"); break;
      case 3: op.suffix = bytesOf(f, "InnerOp"); break;
      default: return false;
    }
    return true;
  });
  return op;
}

function existenceProof(b: Uint8Array): ExistenceProof {
  const p: ExistenceProof = { key: new Uint8Array(), value: new Uint8Array(), path: [] };
  fields(b, "ExistenceProof", (f) => {
    switch (f.no) {
      case 1: p.key = bytesOf(f, "ExistenceProof"); break;
      case 2: p.value = bytesOf(f, "ExistenceProof"); break;
      case 3: p.leaf = leafOp(bytesOf(f, "ExistenceProof")); break;
      case 4:
        if (p.path.length >= MaxDepth) throw new DecodeError(`ExistenceProof: more than ${MaxDepth} inner ops`);
        p.path.push(innerOp(bytesOf(f, "ExistenceProof")));
        break;
      default: return false;
    }
    return true;
  });
  return p;
}

function nonExistenceProof(b: Uint8Array): NonExistenceProof {
  const p: NonExistenceProof = { key: new Uint8Array() };
  fields(b, "NonExistenceProof", (f) => {
    switch (f.no) {
      case 1: p.key = bytesOf(f, "NonExistenceProof"); break;
      case 2: p.left = existenceProof(bytesOf(f, "NonExistenceProof")); break;
      case 3: p.right = existenceProof(bytesOf(f, "NonExistenceProof")); break;
      default: return false;
    }
    return true;
  });
  return p;
}

// decodeProof decodes a cosmos.ics23.v1.CommitmentProof. Existence and
// non-existence proofs are decoded further; batches are only named.
export function decodeProof(b: Uint8Array): CommitmentProof {
  let out: CommitmentProof | undefined;
  const kinds = ["", "exist", "nonexist", "batch", "compressed"] as const;
  fields(b, "CommitmentProof", (f) => {
    if (f.no < 1 || f.no > 4) return false;
    const body = bytesOf(f, "CommitmentProof");
    if (out) throw new DecodeError("CommitmentProof: more than one proof in its oneof");
    out =
      f.no === 1 ? { kind: "exist", exist: existenceProof(body) }
      : f.no === 2 ? { kind: "nonexist", nonexist: nonExistenceProof(body) }
      : { kind: kinds[f.no] as "batch" | "compressed" };
    return true;
  });
  if (!out) throw new DecodeError("CommitmentProof is empty");
  return out;
}

// readVarint is Go's binary.ReadVarint over b from off: a zigzag varint
// of at most 10 bytes. It returns the value and the next offset, or
// throws as Go returns an error (EOF, overflow).
function readVarint(b: Uint8Array, off: number): [bigint, number] {
  let x = 0n;
  let s = 0n;
  for (let i = 0; i < 10; i++) {
    if (off >= b.length) throw new Error("EOF");
    const c = b[off++];
    if (c < 0x80) {
      if (i === 9 && c > 1) throw new Error("varint overflows a 64-bit integer");
      const ux = x | (BigInt(c) << s);
      const v = BigInt.asIntN(64, ux >> 1n);
      return [ux & 1n ? ~v : v, off];
    }
    x |= BigInt(c & 0x7f) << s;
    s += 7n;
  }
  throw new Error("varint overflows a 64-bit integer");
}

// validateIavlOps is ics23's check of an IAVL op's prefix: height, size
// and version as non-negative varints, the height at least the layer b,
// then nothing more for a leaf (b = 0); for an inner op either the
// child's length byte (1 byte: the child is on the left) or the left
// sibling and the child's length byte (34 bytes), and SHA-256.
function validateIavlOps(prefix: Uint8Array, hash: number, b: number): void {
  let off = 0;
  const values: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    let v: bigint;
    [v, off] = readVarint(prefix, off);
    // Go: int(varInt) < 0, on 64-bit int.
    if (v < 0n) throw new Error("wrong value in IAVL leaf op");
    values.push(v);
  }
  if (values[0] < BigInt(b)) throw new Error("wrong value in IAVL leaf op");
  const rest = prefix.length - off;
  if (b === 0) {
    if (rest !== 0) throw new Error("invalid op");
  } else {
    if (!(rest === 1 || rest === 34)) throw new Error("invalid op");
    if (hash !== SHA256) throw new Error("invalid op");
  }
}

function startsWith(b: Uint8Array, prefix: Uint8Array): boolean {
  return b.length >= prefix.length && prefix.every((x, i) => b[i] === x);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
}

// checkAgainstSpec is ExistenceProof.CheckAgainstSpec(IavlSpec).
export function checkAgainstSpec(p: ExistenceProof): void {
  const leaf = p.leaf;
  if (!leaf) throw new Error("existence proof needs a leaf op");
  const ls = iavl.leaf;
  try {
    validateIavlOps(leaf.prefix, leaf.hash, 0);
    if (leaf.hash !== ls.hash) throw new Error(`unexpected HashOp: ${leaf.hash}`);
    if (leaf.prehashKey !== ls.prehashKey) throw new Error(`unexpected PrehashKey: ${leaf.prehashKey}`);
    if (leaf.prehashValue !== ls.prehashValue) throw new Error(`unexpected PrehashValue: ${leaf.prehashValue}`);
    if (leaf.length !== ls.length) throw new Error(`unexpected LengthOp: ${leaf.length}`);
    if (!startsWith(leaf.prefix, ls.prefix)) throw new Error(`leaf Prefix doesn't start with ${hex(ls.prefix)}`);
  } catch (e) {
    throw new Error(`leaf, ${(e as Error).message}`);
  }
  if (p.path.length > MaxDepth) throw new Error(`innerOps depth too long: ${p.path.length}`);
  const is = iavl.inner;
  p.path.forEach((op, i) => {
    try {
      if (op.hash !== is.hash) throw new Error(`unexpected HashOp: ${op.hash}`);
      validateIavlOps(op.prefix, op.hash, i + 1);
      if (startsWith(op.prefix, ls.prefix)) throw new Error(`inner Prefix starts with ${hex(ls.prefix)}`);
      if (op.prefix.length < is.minPrefixLength) throw new Error(`innerOp prefix too short (${op.prefix.length})`);
      const maxLeft = (is.childOrderLen - 1) * is.childSize;
      if (op.prefix.length > is.maxPrefixLength + maxLeft) throw new Error(`innerOp prefix too long (${op.prefix.length})`);
      if (op.suffix.length % is.childSize !== 0) throw new Error("InnerOp suffix malformed");
    } catch (e) {
      throw new Error(`inner, ${(e as Error).message}`);
    }
  });
}

function varProto(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return new Uint8Array(out);
}

// calculate runs the hash chain: the leaf op over (key, value), then each
// inner op over the result (ExistenceProof.calculate with the spec).
export async function calculate(p: ExistenceProof): Promise<Uint8Array<ArrayBuffer>> {
  const leaf = p.leaf!;
  if (p.key.length === 0) throw new Error("leaf, leaf op needs key");
  if (p.value.length === 0) throw new Error("leaf, leaf op needs value");
  const hv = await sha256(concat(p.value));
  let res = await sha256(concat(leaf.prefix, varProto(p.key.length), p.key, varProto(hv.length), hv));
  for (const op of p.path) {
    res = await sha256(concat(op.prefix, res, op.suffix));
  }
  return res;
}

// verifyMembership is ics23.VerifyMembership(IavlSpec, root, proof, key,
// value) for an existence proof, throwing what failed: the spec check,
// the key or value, or the root.
export async function verifyMembership(
  proof: CommitmentProof,
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
): Promise<void> {
  if (proof.kind !== "exist") throw new Error(`the proof is a ${proof.kind} proof, not an existence proof`);
  const p = proof.exist;
  if (!equal(p.key, key)) throw new Error("the proof is for another key");
  checkAgainstSpec(p);
  if (!equal(p.value, value)) throw new Error("provided value doesn't match proof");
  const calc = await calculate(p);
  if (!equal(calc, root)) throw new Error(`the proof computes root ${hex(calc)}, not the app hash`);
}

// verifyExistence is ExistenceProof.Verify(IavlSpec, root, p.key, p.value).
async function verifyExistence(p: ExistenceProof, root: Uint8Array): Promise<void> {
  checkAgainstSpec(p);
  const calc = await calculate(p);
  if (!equal(calc, root)) throw new Error("calculated root doesn't match provided root");
}

// compare is bytes.Compare.
function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// The IAVL spec's paddings (ics23 getPadding): a step whose child is the
// left branch has a 4..12-byte prefix and a 33-byte suffix (the right
// sibling); a right-branch step has a 37..45-byte prefix and no suffix.
// IavlSpec's empty child is nil, so no step is a placeholder.
function hasPadding(op: InnerOp, min: number, max: number, suffix: number): boolean {
  return op.prefix.length >= min && op.prefix.length <= max && op.suffix.length === suffix;
}
const leftStep = (op: InnerOp) => hasPadding(op, 4, 12, 33);
const rightStep = (op: InnerOp) => hasPadding(op, 37, 45, 0);
const isLeftMost = (path: InnerOp[]) => path.every(leftStep);
const isRightMost = (path: InnerOp[]) => path.every(rightStep);

// isLeftNeighbor is ics23's IsLeftNeighbor: below the paths' common top,
// left turns left where right turns right, and from there left is the
// right-most path and right the left-most. Where Go would panic (empty
// or identical paths, a step of no known padding), this refuses.
function isLeftNeighbor(left: InnerOp[], right: InnerOp[]): boolean {
  let li = left.length - 1;
  let ri = right.length - 1;
  if (li < 0 || ri < 0) throw new Error("a neighbour's path is empty");
  while (equal(left[li].prefix, right[ri].prefix) && equal(left[li].suffix, right[ri].suffix)) {
    li--;
    ri--;
    if (li < 0 || ri < 0) throw new Error("the neighbours' paths do not diverge");
  }
  const order = (op: InnerOp) => {
    if (leftStep(op)) return 0;
    if (rightStep(op)) return 1;
    throw new Error("cannot find any valid spacing for this node");
  };
  if (!(order(left[li]) === 0 && order(right[ri]) === 1)) return false;
  return isRightMost(left.slice(0, li)) && isLeftMost(right.slice(0, ri));
}

// verifyNonMembership is ics23.VerifyNonMembership(IavlSpec, root, proof,
// key): the neighbours surround key, each is a valid existence proof
// against root, and they are adjacent in the tree (or the one present is
// the left-most or right-most leaf).
export async function verifyNonMembership(proof: CommitmentProof, root: Uint8Array, key: Uint8Array): Promise<void> {
  if (proof.kind !== "nonexist") throw new Error(`the proof is a ${proof.kind} proof, not a non-existence proof`);
  const { left, right } = proof.nonexist;
  if ((left && compare(left.key, key) >= 0) || (right && compare(right.key, key) <= 0)) {
    throw new Error("the proof's neighbours do not surround the key");
  }
  try {
    if (left) await verifyExistence(left, root);
  } catch (e) {
    throw new Error(`left proof, ${(e as Error).message}`);
  }
  try {
    if (right) await verifyExistence(right, root);
  } catch (e) {
    throw new Error(`right proof, ${(e as Error).message}`);
  }
  if (!left && !right) throw new Error("both left and right proofs missing");
  if (!left) {
    if (!isLeftMost(right!.path)) throw new Error("left proof missing, right proof must be left-most");
  } else if (!right) {
    if (!isRightMost(left.path)) throw new Error("right proof missing, left proof must be right-most");
  } else if (!isLeftNeighbor(left.path, right.path)) {
    throw new Error("the left and right proofs are not neighbours");
  }
}
