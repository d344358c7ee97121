// The middleware payload, version 1 (docs/FORMAT-middleware.md, "Payload,
// version 1"; Go: internal/format/payload.go): the plaintext a Manager
// seals.

import { fromHex, toHex, utf8 } from "./bytes.js";
import { fail } from "./errors.js";

export const PAYLOAD_VERSION = 0x01;
const HAS_VALUE = 0x01; // a session value follows the flashes
const HAS_IDENTITY = 0x02; // a session ID, its mint time and a subject follow refreshed
const PERSISTENCE = 0x04; // the session chose its cookie's persistence (RememberMe)
const PERSISTENT = 0x08; // with PERSISTENCE: a persistent cookie (Max-Age)
const KNOWN = HAS_VALUE | HAS_IDENTITY | PERSISTENCE | PERSISTENT;
/** version, flags, issued, deadline, refreshed. */
export const PAYLOAD_HEADER_LEN = 1 + 1 + 8 + 8 + 8;
/** The shortest payload: the header and a zero flash count. */
export const MIN_PAYLOAD_LEN = PAYLOAD_HEADER_LEN + 1;
export const SESSION_ID_LEN = 16;
export const MAX_SUBJECT_LEN = 255;

/** A decoded payload. Times are Unix seconds, but minted, Unix milliseconds. */
export interface Payload {
  issued: number;
  deadline: number;
  refreshed: number;
  /** The session ID, 32 hex digits; null without an identity (a flash-only cookie, or one sealed before identities). */
  id: string | null;
  /** When the ID was drawn, Unix milliseconds; null without an identity. */
  minted: number | null;
  /** The application's user ("" for anonymous); null without an identity. */
  subject: string | null;
  /** The session's own choice of a persistent cookie (RememberMe), or null when it made none. */
  persistent: boolean | null;
  flashes: string[];
  /** The codec's bytes (JSON by default); null when the cookie carries flash messages only. */
  value: Uint8Array | null;
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// The text of b, or null when b is not UTF-8.
function text(b: Uint8Array): string | null {
  try {
    return strict.decode(b);
  } catch {
    return null;
  }
}

function malformed(message: string): never {
  fail("malformed", `session payload: ${message}`);
}

// A minimal uvarint (unsigned LEB128, Go's binary.Uvarint in its shortest
// form): at most 10 bytes and 64 bits, and a multi-byte one never ends in
// 0x00. Returns [value, next position], or null for a truncated, overlong
// or non-minimal one.
function uvarint(b: Uint8Array, pos: number): [bigint, number] | null {
  let x = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= b.length) return null;
    const c = b[pos + i];
    if (c < 0x80) {
      if ((i === 9 && c > 1) || (i > 0 && c === 0)) return null;
      return [x | (BigInt(c) << BigInt(7 * i)), pos + i + 1];
    }
    x |= BigInt(c & 0x7f) << BigInt(7 * i);
  }
  return null;
}

function putUvarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function putInt64(out: number[], n: number | bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(n), false);
  out.push(...b);
}

/**
 * Parses a payload, checking it in the order docs/FORMAT-middleware.md
 * requires; every failure is a SealedError "malformed": shorter than 27
 * bytes, another version, unknown flags (or persistent without
 * persistence), an identity that runs past the end, a subject that is over
 * 255 bytes or not UTF-8, a flash count or length that is not a minimal
 * uvarint or runs past the end, a message that is not UTF-8, and bytes
 * after the flashes without a value.
 */
export function parsePayload(b: Uint8Array): Payload {
  if (b.length < MIN_PAYLOAD_LEN || b[0] !== PAYLOAD_VERSION || (b[1] & ~KNOWN) !== 0 || (b[1] & (PERSISTENCE | PERSISTENT)) === PERSISTENT) {
    malformed("not a version 1 session payload");
  }
  const flags = b[1];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const p: Payload = {
    issued: Number(view.getBigInt64(2, false)),
    deadline: Number(view.getBigInt64(10, false)),
    refreshed: Number(view.getBigInt64(18, false)),
    id: null,
    minted: null,
    subject: null,
    persistent: flags & PERSISTENCE ? (flags & PERSISTENT) !== 0 : null,
    flashes: [],
    value: null,
  };
  let pos = PAYLOAD_HEADER_LEN;
  if (flags & HAS_IDENTITY) {
    if (b.length - pos < SESSION_ID_LEN + 8) malformed("bad session identity");
    p.id = toHex(b.subarray(pos, pos + SESSION_ID_LEN));
    p.minted = Number(view.getBigInt64(pos + SESSION_ID_LEN, false));
    pos += SESSION_ID_LEN + 8;
    const v = uvarint(b, pos);
    if (v === null || v[0] > BigInt(MAX_SUBJECT_LEN) || v[0] > BigInt(b.length - v[1])) malformed("bad session identity");
    const n = Number(v[0]);
    p.subject = text(b.subarray(v[1], v[1] + n));
    if (p.subject === null) malformed("bad session identity: the subject is not UTF-8");
    pos = v[1] + n;
  }
  const count = uvarint(b, pos);
  if (count === null || count[0] > BigInt(b.length - pos)) malformed("bad flash count");
  pos = count[1];
  for (let i = 0n; i < count[0]; i++) {
    const l = uvarint(b, pos);
    if (l === null || l[0] > BigInt(b.length - l[1])) malformed("bad flash message");
    const n = Number(l[0]);
    const m = text(b.subarray(l[1], l[1] + n));
    if (m === null) malformed("bad flash message: not UTF-8");
    p.flashes.push(m);
    pos = l[1] + n;
  }
  if (flags & HAS_VALUE) p.value = b.subarray(pos);
  else if (pos !== b.length) malformed("trailing data after flashes");
  return p;
}

/** What encodePayload writes: a Payload whose optional parts may be left out. */
export interface PayloadInit {
  issued: number;
  deadline: number;
  refreshed: number;
  /** With an identity: the session ID (16 bytes, or 32 hex digits), minted (ms) and subject. */
  id?: Uint8Array | string | null;
  minted?: number | null;
  subject?: string | null;
  persistent?: boolean | null;
  flashes?: readonly string[];
  /** The codec's bytes; absent or null for a flash-only cookie. */
  value?: Uint8Array | null;
}

/**
 * Encodes a payload as Go's format.AppendPayload and the codec do: the
 * identity is written when id is given, the value when it is not null.
 */
export function encodePayload(p: PayloadInit): Uint8Array {
  const hasValue = p.value !== undefined && p.value !== null;
  const hasIdentity = p.id !== undefined && p.id !== null;
  let flags = 0;
  if (hasValue) flags |= HAS_VALUE;
  if (hasIdentity) flags |= HAS_IDENTITY;
  if (p.persistent !== undefined && p.persistent !== null) flags |= PERSISTENCE | (p.persistent ? PERSISTENT : 0);
  const out: number[] = [PAYLOAD_VERSION, flags];
  putInt64(out, p.issued);
  putInt64(out, p.deadline);
  putInt64(out, p.refreshed);
  if (hasIdentity) {
    const id = typeof p.id === "string" ? fromHex(p.id) : (p.id as Uint8Array);
    if (id === null || id.length !== SESSION_ID_LEN) {
      throw new TypeError(`sealed: a session ID is ${SESSION_ID_LEN} bytes (${2 * SESSION_ID_LEN} hex digits)`);
    }
    out.push(...id);
    putInt64(out, p.minted ?? 0);
    const subject = utf8(p.subject ?? "");
    if (subject.length > MAX_SUBJECT_LEN) throw new TypeError(`sealed: the subject is ${subject.length} bytes, limit ${MAX_SUBJECT_LEN}`);
    putUvarint(out, subject.length);
    out.push(...subject);
  }
  const flashes = p.flashes ?? [];
  putUvarint(out, flashes.length);
  const head = Uint8Array.from(out);
  const parts: Uint8Array[] = [head];
  let n = head.length;
  for (const f of flashes) {
    const m = utf8(f);
    const len: number[] = [];
    putUvarint(len, m.length);
    parts.push(Uint8Array.from(len), m);
    n += len.length + m.length;
  }
  if (hasValue) {
    parts.push(p.value as Uint8Array);
    n += (p.value as Uint8Array).length;
  }
  const b = new Uint8Array(n);
  let o = 0;
  for (const part of parts) {
    b.set(part, o);
    o += part.length;
  }
  return b;
}
