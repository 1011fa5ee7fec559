// Transactions, encoded exactly as the CLI encodes them (Go's
// deterministic protobuf: fields in number order, zero values left out;
// proto/vm/tx/v1/tx.proto) and signed with the key's Ed25519 in WebCrypto.
// A Go test signs the same bodies with internal/tx and compares bytes.

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { concat, fromHex, sha256, toHex, utf8 } from "./bytes";
import type { Key } from "./keys";

export type Msg =
  | { transfer: { to: string; amount: bigint } }
  | { faucet: { to: string; amount: bigint } }
  | { request: Request };

export interface Request {
  contract: string; // name@range
  fn: string;
  input: Uint8Array;
  gasLimit: bigint;
  price: bigint;
  reward: bigint;
  replicas: number;
  quorum: number;
  deadline: bigint; // blocks after inclusion
}

export interface Body {
  chainID: string;
  nonce: bigint;
  fee: bigint;
  msgs: Msg[];
}

// MaxAmount is internal/tx.MaxAmount: the largest GAS amount a message
// may carry.
export const MaxAmount = 1n << 62n;

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;

function str(w: BinaryWriter, n: number, v: string): void {
  if (v !== "") w.tag(n, LEN).string(v);
}
function bytes(w: BinaryWriter, n: number, v: Uint8Array): void {
  if (v.length > 0) w.tag(n, LEN).bytes(v);
}
function u64(w: BinaryWriter, n: number, v: bigint): void {
  if (v !== 0n) w.tag(n, VARINT).uint64(v);
}
function i64(w: BinaryWriter, n: number, v: bigint): void {
  if (v !== 0n) w.tag(n, VARINT).int64(v);
}
function u32(w: BinaryWriter, n: number, v: number): void {
  if (v !== 0) w.tag(n, VARINT).uint32(v);
}

function address(a: string): Uint8Array {
  const b = fromHex(a, "address");
  if (b.length !== 20) throw new Error("an address is 40 hex digits");
  return b;
}

function encodeMsg(w: BinaryWriter, m: Msg): void {
  if ("transfer" in m || "faucet" in m) {
    const [field, p] = "transfer" in m ? [1, m.transfer] : [2, m.faucet];
    w.tag(field, LEN).fork();
    bytes(w, 1, address(p.to));
    u64(w, 2, p.amount);
    w.join();
    return;
  }
  const r = m.request;
  w.tag(7, LEN).fork();
  str(w, 1, r.contract);
  str(w, 2, r.fn);
  bytes(w, 3, r.input);
  u64(w, 4, r.gasLimit);
  u64(w, 5, r.price);
  u64(w, 6, r.reward);
  u32(w, 7, r.replicas);
  u32(w, 8, r.quorum);
  i64(w, 9, r.deadline);
  w.join();
}

export function encodeBody(b: Body): Uint8Array<ArrayBuffer> {
  const w = new BinaryWriter();
  str(w, 1, b.chainID);
  u64(w, 2, b.nonce);
  u64(w, 3, b.fee);
  for (const m of b.msgs) {
    w.tag(4, LEN).fork();
    encodeMsg(w, m);
    w.join();
  }
  return w.finish();
}

// sign encodes body, signs the exact bytes and returns the encoded Tx and
// its hash (SHA-256 of the Tx bytes, as GET /v1/txs/{hash} names it).
export async function sign(body: Body, key: Key): Promise<{ tx: Uint8Array<ArrayBuffer>; hash: string }> {
  const bb = encodeBody(body);
  const sig = new Uint8Array(await crypto.subtle.sign("Ed25519", key.priv, bb));
  const w = new BinaryWriter();
  bytes(w, 1, bb);
  bytes(w, 2, fromHex(key.pub));
  bytes(w, 3, sig);
  const tx = w.finish();
  return { tx, hash: toHex(await sha256(tx)) };
}

// requestID is internal/market.RequestID: the id of the i-th message of
// the tx with hash txHash, when that message is a Request.
export async function requestID(txHash: string, i = 0): Promise<string> {
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, i);
  return toHex(await sha256(concat(utf8.encode("vm/market/request/v1\x00"), fromHex(txHash), idx)));
}

// parseAmount reads a whole GAS amount typed by a person.
export function parseAmount(s: string, what = "amount"): bigint {
  const t = s.trim().replace(/[_,\s]/g, "");
  if (!/^[0-9]+$/.test(t)) throw new Error(`${what}: a whole number of GAS, like 1000`);
  const v = BigInt(t);
  if (v <= 0n) throw new Error(`${what}: more than 0 GAS`);
  if (v > MaxAmount) throw new Error(`${what}: at most ${MaxAmount} GAS`);
  return v;
}
