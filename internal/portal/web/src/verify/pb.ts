// Protobuf reading for the verifier: a strict walk over @bufbuild's
// BinaryReader. A known field with the wrong wire type, a singular field
// given twice, or bytes that run out are decode errors (Go's gogoproto
// decoders refuse the first and last; the second only an adversary
// sends, so refusing it is stricter than Go, never looser); unknown
// fields are skipped, as Go does.

import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export { BinaryWriter, WireType };

export class DecodeError extends Error {}

export type Field = { no: number; wt: WireType; r: BinaryReader };

// fields calls fn for each field of msg; fn returns false for a field
// it does not know, which is then skipped.
export function fields(msg: Uint8Array, what: string, fn: (f: Field) => boolean): void {
  const r = new BinaryReader(msg);
  const seen = new Set<number>();
  try {
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no < 1) throw new DecodeError(`${what}: field number ${no}`);
      if (!fn({ no, wt, r })) {
        r.skip(wt, no);
        continue;
      }
      if (seen.has(no) && !repeated.has(`${what}/${no}`)) throw new DecodeError(`${what}: field ${no} given twice`);
      seen.add(no);
    }
    if (r.pos !== r.len) throw new DecodeError(`${what}: trailing bytes`);
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// repeated names the repeated fields ("message/number"), which may occur
// many times.
const repeated = new Set<string>();
export function markRepeated(what: string, no: number): void {
  repeated.add(`${what}/${no}`);
}

function want(f: Field, wt: WireType, what: string): void {
  if (f.wt !== wt) throw new DecodeError(`${what}: field ${f.no} has wire type ${f.wt}, want ${wt}`);
}

export function bytesOf(f: Field, what: string): Uint8Array {
  want(f, WireType.LengthDelimited, what);
  return f.r.bytes().slice();
}

export function varint64(f: Field, what: string): bigint {
  want(f, WireType.Varint, what);
  return BigInt(f.r.int64());
}

export function uvarint64(f: Field, what: string): bigint {
  want(f, WireType.Varint, what);
  return BigInt(f.r.uint64());
}

// int32 reads a varint as Go's (int32) conversion does: the low 32 bits.
export function int32(f: Field, what: string): number {
  want(f, WireType.Varint, what);
  return f.r.int32();
}

export function uint32(f: Field, what: string): number {
  want(f, WireType.Varint, what);
  return f.r.uint32();
}

const strict = new TextDecoder("utf-8", { fatal: true });

// utf8 decodes a string field's bytes, refusing invalid UTF-8.
export function utf8(b: Uint8Array, what: string): string {
  try {
    return strict.decode(b);
  } catch {
    throw new DecodeError(`${what} is not UTF-8`);
  }
}

// Timestamp is google.protobuf.Timestamp. GoZero is Go's zero time.Time,
// what gogoproto's stdtime decodes a missing timestamp to.
export interface Timestamp {
  seconds: bigint;
  nanos: number;
}
export const GoZero: Timestamp = { seconds: -62135596800n, nanos: 0 };
const maxSeconds = 253402300799n; // 9999-12-31T23:59:59Z

export function timestamp(b: Uint8Array, what: string): Timestamp {
  const t: Timestamp = { seconds: 0n, nanos: 0 };
  fields(b, what, (f) => {
    if (f.no === 1) t.seconds = varint64(f, what);
    else if (f.no === 2) t.nanos = int32(f, what);
    else return false;
    return true;
  });
  // gogoproto's StdTimeUnmarshal refuses what time.Time cannot hold.
  if (t.seconds < GoZero.seconds || t.seconds > maxSeconds || t.nanos < 0 || t.nanos >= 1e9) {
    throw new DecodeError(`${what}: timestamp ${t.seconds}s ${t.nanos}ns is out of range`);
  }
  return t;
}

export function encodeTimestamp(t: Timestamp): Uint8Array {
  const w = new BinaryWriter();
  if (t.seconds !== 0n) w.tag(1, WireType.Varint).int64(t.seconds);
  if (t.nanos !== 0) w.tag(2, WireType.Varint).int32(t.nanos);
  return w.finish();
}

// rfc3339Nano formats t as Go's time.RFC3339Nano in UTC.
export function rfc3339Nano(t: Timestamp): string {
  const ms = Number(t.seconds) * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z for years 0..9999
  const frac = t.nanos === 0 ? "" : "." + String(t.nanos).padStart(9, "0").replace(/0+$/, "");
  return iso.slice(0, 19) + frac + "Z";
}
