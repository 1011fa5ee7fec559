// The browser's trust root: the chain's genesis validator set, pinned on
// first use (trust on first use) in localStorage under the chain id, and
// compared with the node's GET /v1/genesis on every later use. The set is
// checked here as lightproof.ParseGenesis checks a genesis file, and its
// addresses and hash are recomputed from the keys, never taken from the
// node. See docs/rationale-verify.md for what pinning protects against.

import { fromHex, toHex } from "../bytes";
import { address, MaxTotalVotingPower, validatorSetHash, type Validator } from "./light";
import type { Commit, Trust } from "./verify";

// Genesis is the JSON of apitype.Genesis.
export interface Genesis {
  chain_id: string;
  validators: { address: string; pub_key: string; power: string }[];
  hash: string;
}

// Pinned is a Trust as stored, with when it was first seen.
export interface Pinned extends Trust {
  pinnedAt: string; // ISO time
  firstUse: boolean; // pinned by this call
}

const storeKey = (chainID: string) => `vm-genesis:${chainID}`;

// parseGenesis checks g and returns it as a Trust: a chain id, at least
// one validator, Ed25519 keys of 32 bytes, positive powers whose sum is
// within CometBFT's limit, no address twice, each address the key's, and
// the hash the set's.
export async function parseGenesis(g: Genesis): Promise<Trust> {
  if (!g || typeof g.chain_id !== "string" || g.chain_id === "") throw new Error("genesis has no chain id");
  if (!Array.isArray(g.validators) || g.validators.length === 0) throw new Error(`genesis of "${g.chain_id}" names no validators`);
  const seen = new Set<string>();
  let total = 0n;
  const validators: Validator[] = [];
  for (const [i, v] of g.validators.entries()) {
    const pubKey = fromHex(String(v.pub_key), `genesis validator ${i} pub_key`);
    if (pubKey.length !== 32) throw new Error(`genesis validator ${i}: an Ed25519 key is 32 bytes, not ${pubKey.length}`);
    if (!/^[0-9]+$/.test(String(v.power))) throw new Error(`genesis validator ${i}: power "${v.power}" is not a decimal`);
    const power = BigInt(v.power);
    if (power <= 0n || power > MaxTotalVotingPower - total) {
      throw new Error(`genesis validator ${i} has power ${power} (must be positive, total at most ${MaxTotalVotingPower})`);
    }
    total += power;
    const addr = await address(pubKey);
    if (toHex(addr) !== String(v.address).toLowerCase()) throw new Error(`genesis validator ${i}: address ${v.address} is not its key's`);
    if (seen.has(toHex(addr))) throw new Error(`genesis validator ${toHex(addr)} is listed twice`);
    seen.add(toHex(addr));
    validators.push({ address: addr, pubKey, power });
  }
  const hash = toHex(await validatorSetHash(validators));
  if (hash !== String(g.hash).toLowerCase()) throw new Error(`the node's genesis hash ${g.hash} is not its validators' (${hash})`);
  return { chainID: g.chain_id, validators, hash };
}

function serialize(t: Trust, pinnedAt: string): string {
  return JSON.stringify({
    chain_id: t.chainID,
    hash: t.hash,
    pinned_at: pinnedAt,
    validators: t.validators.map((v) => ({ address: toHex(v.address), pub_key: toHex(v.pubKey), power: String(v.power) })),
  });
}

// pinnedTrust returns the pinned genesis of the node's chain, pinning the
// node's on first use. It refuses when the node's genesis is not the one
// pinned (a different chain behind the same id, or a node that changed
// it), and when the stored pin itself is damaged.
export async function pinnedTrust(
  fetchGenesis: () => Promise<Genesis>,
  storage: Storage = localStorage,
): Promise<Pinned> {
  const node = await parseGenesis(await fetchGenesis());
  const saved = storage.getItem(storeKey(node.chainID));
  if (saved === null) {
    const at = new Date().toISOString();
    storage.setItem(storeKey(node.chainID), serialize(node, at));
    return { ...node, pinnedAt: at, firstUse: true };
  }
  let pin: Trust;
  let at: string;
  try {
    const s = JSON.parse(saved) as Genesis & { pinned_at: string };
    pin = await parseGenesis(s);
    at = String(s.pinned_at);
  } catch (e) {
    throw new Error(`the genesis pinned for "${node.chainID}" in this browser is damaged (${(e as Error).message}); clear it to pin again`);
  }
  if (pin.hash !== node.hash) {
    throw new Error(
      `the node's genesis validators of "${node.chainID}" (hash ${node.hash}) are not the ones this browser pinned on ${at} ` +
        `(hash ${pin.hash}): this node serves another chain, or changed its genesis`,
    );
  }
  return { ...pin, pinnedAt: at, firstUse: false };
}

// getJSON fetches a same-origin API path; a non-2xx answer throws its
// {code, message} (code is on the error as .code).
export async function getJSON<T>(path: string): Promise<T> {
  const r = await fetch(path);
  const body = (await r.json().catch(() => ({}))) as { code?: string; message?: string };
  if (!r.ok) throw Object.assign(new Error(body.message ?? `${path}: HTTP ${r.status}`), { code: body.code ?? "" });
  return body as T;
}

// fetchCommit answers GET /v1/commits/{height}, waiting up to waitMs for a
// block not committed yet (a location at the latest height needs the
// next block), as the CLI's client.VerifyLocation does.
export async function fetchCommit(height: number, waitMs = 15_000): Promise<Commit> {
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      return await getJSON<Commit>(`/v1/commits/${height}`);
    } catch (e) {
      if ((e as { code?: string }).code !== "not_found" || Date.now() > end) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export const fetchGenesis = () => getJSON<Genesis>("/v1/genesis");
