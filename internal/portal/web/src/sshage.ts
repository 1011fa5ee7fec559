// Private records: age files (typage, the age-encryption package) with
// one "ssh-ed25519" stanza per reader, exactly as internal/idcrypt writes
// them with filippo.io/age/agessh, so the CLI and the portal read each
// other's records. Each reader's X25519 key is derived from the ed25519
// key of their account; the derivation, the tweak and the wrapping follow
// agessh (age-encryption.org/v1/ssh-ed25519). Loaded on demand: it is the
// only part of the portal that needs these libraries.

import { Decrypter, Encrypter, Stanza, type Identity, type Recipient } from "age-encryption";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";

const label = new TextEncoder().encode("age-encryption.org/v1/ssh-ed25519");

// sshKey is the SSH wire form of an ed25519 public key.
function sshKey(pub: Uint8Array): Uint8Array {
  const t = new TextEncoder().encode("ssh-ed25519");
  const out = new Uint8Array(4 + t.length + 4 + pub.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, t.length);
  out.set(t, 4);
  dv.setUint32(4 + t.length, pub.length);
  out.set(pub, 8 + t.length);
  return out;
}

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/=+$/, "");

function unb64(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) throw new Error("ssh-ed25519 stanza: bad base64");
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

const fingerprint = (pub: Uint8Array) => b64(sha256(sshKey(pub)).slice(0, 4));
const tweakOf = (pub: Uint8Array) => hkdf(sha256, new Uint8Array(0), sshKey(pub), label, 32);

function wrappingKey(shared: Uint8Array, pub: Uint8Array, ephemeral: Uint8Array, theirs: Uint8Array): Uint8Array {
  const tweaked = x25519.scalarMult(tweakOf(pub), shared);
  const salt = new Uint8Array(64);
  salt.set(ephemeral);
  salt.set(theirs, 32);
  return hkdf(sha256, tweaked, salt, label, 32);
}

class Ed25519Recipient implements Recipient {
  private readonly mont: Uint8Array;
  constructor(private readonly pub: Uint8Array) {
    this.mont = ed25519.utils.toMontgomery(pub);
  }
  wrapFileKey(fileKey: Uint8Array): Stanza[] {
    const eph = x25519.utils.randomSecretKey();
    const ours = x25519.getPublicKey(eph);
    const key = wrappingKey(x25519.getSharedSecret(eph, this.mont), this.pub, ours, this.mont);
    const body = chacha20poly1305(key, new Uint8Array(12)).encrypt(fileKey);
    return [new Stanza(["ssh-ed25519", fingerprint(this.pub), b64(ours)], body)];
  }
}

class Ed25519Identity implements Identity {
  private readonly secret: Uint8Array;
  private readonly mont: Uint8Array;
  private readonly fp: string;
  constructor(seed: Uint8Array, private readonly pub: Uint8Array) {
    this.secret = sha512(seed).slice(0, 32);
    this.mont = x25519.getPublicKey(this.secret);
    this.fp = fingerprint(pub);
  }
  unwrapFileKey(stanzas: Stanza[]): Uint8Array | null {
    for (const s of stanzas) {
      if (s.args[0] !== "ssh-ed25519" || s.args.length !== 3 || s.args[1] !== this.fp) continue;
      const eph = unb64(s.args[2]!);
      if (eph.length !== 32) throw new Error("ssh-ed25519 stanza: bad share");
      const key = wrappingKey(x25519.getSharedSecret(this.secret, eph), this.pub, eph, this.mont);
      try {
        return chacha20poly1305(key, new Uint8Array(12)).decrypt(s.body);
      } catch {
        continue; // the fingerprint is a 4-byte hint; it can collide
      }
    }
    return null;
  }
}

// encrypt seals plaintext to the ed25519 public keys of readers.
export async function encrypt(plaintext: string, readers: Uint8Array[]): Promise<Uint8Array> {
  if (readers.length === 0) throw new Error("a private record needs at least one reader");
  const e = new Encrypter();
  for (const r of readers) e.addRecipient(new Ed25519Recipient(r));
  return e.encrypt(plaintext);
}

// decrypt opens an age file with the account key (seed, public key); it
// throws when the key is not among the readers.
export async function decrypt(file: Uint8Array, seed: Uint8Array, pub: Uint8Array): Promise<string> {
  const d = new Decrypter();
  d.addIdentity(new Ed25519Identity(seed, pub));
  try {
    return await d.decrypt(file, "text");
  } catch (e) {
    throw new Error(`cannot decrypt: ${e instanceof Error ? e.message : e}`);
  }
}
