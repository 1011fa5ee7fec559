// Keys live in this browser only: Ed25519 keys made by WebCrypto, kept in
// IndexedDB as CryptoKey objects. Export writes the CLI's key file format
// (internal/crypto.KeyFile: PBKDF2-SHA256 and AES-256-GCM over the 32-byte
// seed), so `vm keys import` reads it, and import reads the CLI's export.

import { concat, equal, fromHex, sha256, toHex, utf8 } from "./bytes";

export interface Key {
  name: string;
  address: string; // hex, 20 bytes
  pub: string; // hex, 32 bytes
  priv: CryptoKey;
}

export interface KeyFile {
  version: number;
  name: string;
  address: string;
  pub_key: string;
  kdf: string;
  iterations: number;
  salt: string;
  nonce: string;
  ciphertext: string;
}

export const DefaultIterations = 600_000; // internal/crypto.DefaultIterations
export const MinIterations = 100_000; // internal/crypto.MinIterations

const nameRE = /^[a-z0-9][a-z0-9._-]{0,63}$/;

// checkName applies internal/crypto's key name rule.
export function checkName(name: string): void {
  if (!nameRE.test(name) || /^[0-9a-f]{40}$/.test(name)) {
    throw new Error("a key name is 1-64 characters of a-z, 0-9, '-', '_' and '.', and is not an address");
  }
}

// The PKCS#8 prefix of an Ed25519 private key (RFC 8410): the seed follows.
const pkcs8Prefix = fromHex("302e020100300506032b657004220420");

export async function addressOf(pub: Uint8Array<ArrayBuffer>): Promise<string> {
  return toHex((await sha256(pub)).slice(0, 20));
}

async function fromPriv(name: string, priv: CryptoKey, pub: Uint8Array<ArrayBuffer>): Promise<Key> {
  return { name, priv, pub: toHex(pub), address: await addressOf(pub) };
}

async function importSeed(seed: Uint8Array): Promise<{ priv: CryptoKey; pub: Uint8Array<ArrayBuffer> }> {
  const priv = await crypto.subtle.importKey("pkcs8", concat(pkcs8Prefix, seed), "Ed25519", true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", priv);
  return { priv, pub: b64url(jwk.x ?? "") };
}

function b64url(s: string): Uint8Array<ArrayBuffer> {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

export async function generate(name: string): Promise<Key> {
  checkName(name);
  const kp = (await crypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
  return fromPriv(name, kp.privateKey, pub);
}

export async function seedOf(k: Key): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", k.priv)).slice(pkcs8Prefix.length);
}

async function aesKey(pass: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", utf8.encode(pass), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

// exportFile seals k under pass in the CLI's key file format.
export async function exportFile(k: Key, pass: string, iterations = DefaultIterations): Promise<KeyFile> {
  if (pass === "") throw new Error("choose a passphrase to protect the file");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ak = await aesKey(pass, salt, iterations);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8.encode("vm-key-v1:" + k.address) },
    ak,
    await seedOf(k),
  );
  return {
    version: 1, name: k.name, address: k.address, pub_key: k.pub, kdf: "pbkdf2-sha256",
    iterations, salt: toHex(salt), nonce: toHex(nonce), ciphertext: toHex(new Uint8Array(ct)),
  };
}

// importFile opens a key file with pass; name overrides the file's name.
export async function importFile(text: string, pass: string, name?: string): Promise<Key> {
  let f: KeyFile;
  try {
    f = JSON.parse(text) as KeyFile;
  } catch {
    throw new Error("this is not a key file (not JSON)");
  }
  if (f === null || typeof f !== "object" || f.version !== 1 || f.kdf !== "pbkdf2-sha256") {
    throw new Error("this is not a version 1 pbkdf2-sha256 key file");
  }
  if (!Number.isInteger(f.iterations) || f.iterations < MinIterations || f.iterations > 100_000_000) {
    throw new Error(`the key file's work factor ${f.iterations} is outside ${MinIterations}..100000000`);
  }
  name = name || f.name;
  checkName(name);
  const salt = fromHex(String(f.salt), "salt");
  const nonce = fromHex(String(f.nonce), "nonce");
  const ct = fromHex(String(f.ciphertext), "ciphertext");
  if (nonce.length !== 12) throw new Error("malformed key file");
  let seed: Uint8Array;
  try {
    const ak = await aesKey(pass, salt, f.iterations);
    seed = new Uint8Array(
      await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: utf8.encode("vm-key-v1:" + f.address) }, ak, ct),
    );
  } catch {
    throw new Error("wrong passphrase, or the file was altered");
  }
  const { priv, pub } = await importSeed(seed);
  const k = await fromPriv(name, priv, pub);
  if (k.address !== f.address || !equal(pub, fromHex(String(f.pub_key), "pub_key"))) {
    throw new Error("wrong passphrase, or the file was altered");
  }
  return k;
}

// Store is the browser's key list (IndexedDB "vm-portal", store "keys").
export class Store {
  private constructor(private readonly db: IDBDatabase) {}

  static open(): Promise<Store> {
    return new Promise((resolve, reject) => {
      const r = indexedDB.open("vm-portal", 1);
      r.onupgradeneeded = () => r.result.createObjectStore("keys", { keyPath: "name" });
      r.onsuccess = () => resolve(new Store(r.result));
      r.onerror = () => reject(new Error("this browser refused local storage for keys: " + r.error?.message));
    });
  }

  private run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      const t = this.db.transaction("keys", mode);
      const req = fn(t.objectStore("keys"));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error ?? new Error("key storage failed"));
    });
  }

  list(): Promise<Key[]> {
    return this.run("readonly", (s) => s.getAll() as IDBRequest<Key[]>);
  }

  // add stores k; a name in use is refused.
  async add(k: Key): Promise<void> {
    if ((await this.list()).some((x) => x.name === k.name)) throw new Error(`a key named ${k.name} exists`);
    await this.run("readwrite", (s) => s.add(k));
  }

  async remove(name: string): Promise<void> {
    await this.run("readwrite", (s) => s.delete(name));
  }
}
