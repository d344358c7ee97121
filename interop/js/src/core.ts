// Sealing and opening values (docs/FORMAT.md). open follows "Opening" step
// by step, in the order the spec requires, so that every implementation
// gives the same error class for the same value.

import { gcm } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeBase64url, encodeBase64url, randomBytes, utf8, utf8Length } from "./bytes.js";
import { deflate, inflate, InflateError } from "./deflate.js";
import { fail, type OpenInfo } from "./errors.js";
import { KeyRing, secretOf, type RingKey } from "./keyring.js";

// Layout, version 1 (docs/FORMAT.md, "Layout").
export const VERSION_1 = 0x01;
export const FLAG_DEFLATE = 0x01; // the sealed bytes are a raw DEFLATE stream
const KNOWN_FLAGS = FLAG_DEFLATE;
export const HEADER_LEN = 14; // version(1) flags(1) kid(4) expiry(8)
const NONCE_LEN = 24;
const TAG_LEN = 16;
/** Bytes a version 1 value adds to its plaintext. */
export const OVERHEAD = HEADER_LEN + NONCE_LEN + TAG_LEN; // 54
/** The shortest value: an empty plaintext, in characters. */
export const MIN_LEN = Math.ceil((OVERHEAD * 8) / 6); // 72

// Version 2 (docs/FORMAT.md, "Version 2"): AES-256-GCM under a key derived
// for each value with HKDF-SHA256 from the key's secret and a random salt.
export const VERSION_2 = 0x02;
const SALT_LEN = 16;
const GCM_NONCE_LEN = 12;
/** Bytes a version 2 value adds to its plaintext. */
export const OVERHEAD_2 = HEADER_LEN + SALT_LEN + GCM_NONCE_LEN + TAG_LEN; // 58
const V2_INFO = utf8("sealed v2 AES-256-GCM key derivation");

export const DEFAULT_MAX_LEN = 4000; // characters
export const DEFAULT_MAX_DECOMPRESSED = 65536; // bytes
export const MAX_PURPOSE_LEN = 255; // bytes

/** A time: Unix seconds (fractions allowed) or a Date. */
export type Time = number | Date;

export interface OpenOptions {
  /** The current time; default the clock. */
  now?: Time;
  /** Seconds a value still opens after its expiry (clocks of a fleet differ); default 0. */
  skew?: number;
  /** The longest value accepted, in bytes (a valid value is ASCII); default 4000. */
  maxLen?: number;
  /** The most bytes a compressed value may inflate to; default 65536. */
  maxDecompressed?: number;
  /** The application the value is for (docs/FORMAT.md, "Purpose"); default none. */
  purpose?: string | Uint8Array;
}

export interface Opened extends OpenInfo {
  plaintext: Uint8Array;
}

export interface SealOptions {
  /** When the value expires (required): Unix seconds, rounded down, or a Date. */
  expires: Time;
  /** Refuse (too_large) a value longer than this many characters; default 4000. */
  maxLen?: number;
  /** Compress plaintexts of at least this many bytes when that makes them shorter; default 0, never. */
  compressAbove?: number;
  /** Never compress a plaintext longer than this; default 65536. */
  maxDecompressed?: number;
  /** The application the value is for; default none. */
  purpose?: string | Uint8Array;
  /** The random fields, for reproducing test vectors only: 24 bytes (version 1) or 12 (version 2). */
  nonce?: Uint8Array;
  /** Version 2's 16-byte salt, for test vectors only. */
  salt?: Uint8Array;
}

function bytesOf(x: string | Uint8Array, what: string): Uint8Array {
  if (typeof x === "string") return utf8(x);
  if (x instanceof Uint8Array) return x;
  throw new TypeError(`sealed: ${what} must be a string or a Uint8Array`);
}

/** Unix seconds of a Time, or of the clock. */
export function unixSeconds(t: Time | undefined): number {
  if (t === undefined) return Date.now() / 1000;
  if (t instanceof Date) return t.getTime() / 1000;
  if (typeof t !== "number" || Number.isNaN(t)) throw new TypeError("sealed: a time is Unix seconds or a Date");
  return t;
}

function ring(keys: KeyRing): KeyRing {
  if (!(keys instanceof KeyRing)) throw new TypeError("sealed: want a KeyRing (KeyRing.parse, KeyRing.fromJwks or KeyRing.of)");
  return keys;
}

/**
 * AD = header (14 bytes) || name, and with a purpose || 0x00 || purpose
 * (docs/FORMAT.md, "Purpose").
 */
function additionalData(header: Uint8Array, name: Uint8Array, purpose: Uint8Array): Uint8Array {
  const extra = purpose.length > 0 ? 1 + purpose.length : 0;
  const ad = new Uint8Array(HEADER_LEN + name.length + extra);
  ad.set(header, 0);
  ad.set(name, HEADER_LEN);
  if (extra > 0) ad.set(purpose, HEADER_LEN + name.length + 1); // after the 0x00
  return ad;
}

/** Version 2's per-value key: HKDF-SHA256(secret, salt, info), 32 bytes. */
function valueKey(secret: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf(sha256, secret, salt, V2_INFO, 32);
}

// Step 8: now - skew >= expiry, never expiry + skew, which overflows for an
// expiry near 2^63. Numbers are exact below 2^52; past that, whole seconds
// as BigInt, as Go compares (now - skew).Unix() with the expiry.
function expired(now: number, expiry: bigint, skew: number): boolean {
  if (expiry > -(1n << 52n) && expiry < 1n << 52n) return now - skew >= Number(expiry);
  return BigInt(Math.floor(now - skew)) >= expiry;
}

/**
 * Opens a sealed value (version 1 or 2) for the cookie called name.
 * Returns the plaintext, the ID of the key that opened it, its expiry (Unix
 * seconds) and whether that key is not the primary (stale: re-seal it).
 * Throws a SealedError whose kind is the error class.
 */
export function open(keys: KeyRing, name: string, value: string, options: OpenOptions = {}): Opened {
  const { now, skew = 0, maxLen = DEFAULT_MAX_LEN, maxDecompressed = DEFAULT_MAX_DECOMPRESSED, purpose = "" } = options;
  const r = ring(keys);
  if (typeof value !== "string") throw new TypeError("sealed: value must be a string");
  const nameBytes = bytesOf(name, "name");
  const purposeBytes = bytesOf(purpose, "purpose");
  const t = unixSeconds(now);

  // 0. A purpose over 255 bytes: no value was sealed with it.
  if (purposeBytes.length > MAX_PURPOSE_LEN) fail("invalid", `purpose is ${purposeBytes.length} bytes, limit ${MAX_PURPOSE_LEN}: no value opens`);
  // 1. Too long, before any decoding. Lengths count bytes, as in Go; a
  //    valid value is ASCII, where bytes and characters are the same.
  if (value.length > maxLen || utf8Length(value) > maxLen) fail("too_large", `value is longer than ${maxLen} characters`);
  // 2. Shorter than the value of an empty plaintext.
  if (utf8Length(value) < MIN_LEN) fail("malformed", `shorter than ${MIN_LEN} characters: not a sealed value`);
  // 3. Canonical unpadded base64url.
  const raw = decodeBase64url(value);
  if (raw === null) fail("malformed", "not canonical unpadded base64url");
  // 4. Version 1, or 2, whose envelope is 4 bytes longer.
  const version = raw[0];
  if (version !== VERSION_1 && version !== VERSION_2) fail("malformed", `unsupported version ${version}`);
  if (version === VERSION_2 && raw.length < OVERHEAD_2) fail("malformed", `${raw.length} bytes is shorter than any version 2 value`);
  // 5. Only known flags (they are authenticated in step 7).
  const flags = raw[1];
  if ((flags & ~KNOWN_FLAGS) !== 0) fail("malformed", `unknown flags 0x${flags.toString(16).padStart(2, "0")}`);
  // 6. The key, by its 4-byte identifier: no trial decryption.
  const index = r.indexOf(raw.subarray(2, 6));
  if (index < 0) fail("unknown_key", "the value's key identifier is not in the ring");
  const key: RingKey = r.keys[index];
  // 7. A name with a NUL byte cannot have been sealed (with it, the AD
  //    could equal that of a shorter name with a purpose).
  if (nameBytes.includes(0)) fail("invalid", "cookie name contains a NUL byte");
  //    A key of the other suite cannot have sealed this layout.
  if (key.version !== version) fail("malformed", `a version ${version} value, but key ${JSON.stringify(key.id)} is an ${key.suite} key`);
  //    One AEAD open, AD = header || name [|| 0x00 || purpose].
  const ad = additionalData(raw.subarray(0, HEADER_LEN), nameBytes, purposeBytes);
  let opened: Uint8Array;
  try {
    if (version === VERSION_1) {
      const nonce = raw.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
      opened = xchacha20poly1305(secretOf(key), nonce, ad).decrypt(raw.subarray(HEADER_LEN + NONCE_LEN));
    } else {
      const salt = raw.subarray(HEADER_LEN, HEADER_LEN + SALT_LEN);
      const nonce = raw.subarray(HEADER_LEN + SALT_LEN, HEADER_LEN + SALT_LEN + GCM_NONCE_LEN);
      opened = gcm(valueKey(secretOf(key), salt), nonce, ad).decrypt(raw.subarray(HEADER_LEN + SALT_LEN + GCM_NONCE_LEN));
    }
  } catch {
    fail("invalid", `authentication failed (tampered, another secret for key ${JSON.stringify(key.id)}, another cookie name or another purpose)`);
  }
  // 8. Expiry, now that the header is known to be authentic.
  const expiry = new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigInt64(6, false);
  const info: OpenInfo = { keyId: key.id, expires: Number(expiry), stale: index !== 0 };
  if (expired(t, expiry, skew)) {
    opened.fill(0);
    fail("expired", `expired at ${info.expires}`, info);
  }
  // 9. Compressed: inflate, bounded, refusing anything after the stream.
  if (flags & FLAG_DEFLATE) {
    try {
      return { plaintext: inflate(opened, maxDecompressed), ...info };
    } catch (e) {
      if (!(e instanceof InflateError)) throw e;
      fail(e.tooLarge ? "too_large" : "malformed", e.tooLarge ? e.message : `compressed plaintext does not inflate: ${e.message}`);
    } finally {
      opened.fill(0);
    }
  }
  return { plaintext: opened, ...info };
}

/**
 * Seals plaintext for the cookie called name with the primary key, whose
 * suite decides the version. Returns the value (base64url). Throws a
 * SealedError "too_large" for a value longer than maxLen, and TypeError
 * for arguments no value can be sealed with (a name with a NUL byte, a
 * purpose over 255 bytes, no expiry).
 */
export function seal(keys: KeyRing, name: string, plaintext: Uint8Array | string, options: SealOptions): string {
  const { compressAbove = 0, maxDecompressed = DEFAULT_MAX_DECOMPRESSED } = options ?? ({} as SealOptions);
  let body = bytesOf(plaintext, "plaintext");
  let flags = 0x00;
  if (compressAbove > 0 && body.length >= compressAbove && body.length <= maxDecompressed) {
    const deflated = deflate(body);
    if (deflated.length < body.length) [body, flags] = [deflated, FLAG_DEFLATE];
  }
  return sealFlagged(keys, name, body, flags, options);
}

/**
 * Seals a raw DEFLATE stream as it is, with the compressed flag: for test
 * vectors, whose stream another compressor made.
 */
export function sealDeflated(keys: KeyRing, name: string, deflated: Uint8Array, options: SealOptions): string {
  return sealFlagged(keys, name, bytesOf(deflated, "deflated"), FLAG_DEFLATE, options);
}

/** The length in characters of the value of an n-byte plaintext sealed with a key of this version. */
export function encodedLen(n: number, version: number = VERSION_1): number {
  return Math.ceil(((n + (version === VERSION_2 ? OVERHEAD_2 : OVERHEAD)) * 8) / 6);
}

function sealFlagged(keys: KeyRing, name: string, body: Uint8Array, flags: number, options: SealOptions): string {
  const { expires, maxLen = DEFAULT_MAX_LEN, purpose = "", nonce, salt } = options ?? ({} as SealOptions);
  // 0. Refuse what would make the AD ambiguous.
  const nameBytes = bytesOf(name, "name");
  if (nameBytes.includes(0)) throw new TypeError("sealed: cookie name contains a NUL byte");
  const purposeBytes = bytesOf(purpose, "purpose");
  if (purposeBytes.length > MAX_PURPOSE_LEN) throw new TypeError(`sealed: purpose is ${purposeBytes.length} bytes, limit ${MAX_PURPOSE_LEN}`);
  // 1. The primary key; the expiry in whole seconds, rounded down.
  const key = ring(keys).primary;
  if (expires === undefined || expires === null) throw new TypeError("sealed: seal needs an expiry");
  const exp = Math.floor(unixSeconds(expires));
  if (!Number.isSafeInteger(exp)) throw new TypeError("sealed: expiry out of range");
  // 3. Header, and the random fields.
  const header = new Uint8Array(HEADER_LEN);
  header[0] = key.version;
  header[1] = flags;
  header.set(key.kid, 2);
  new DataView(header.buffer).setBigInt64(6, BigInt(exp), false);
  const ad = additionalData(header, nameBytes, purposeBytes);
  let random: Uint8Array, sealed: Uint8Array;
  if (key.version === VERSION_1) {
    if (salt !== undefined) throw new TypeError("sealed: a salt is for version 2 (aes256gcm) keys only");
    const n = nonce ?? randomBytes(NONCE_LEN);
    if (n.length !== NONCE_LEN) throw new TypeError(`sealed: nonce must be ${NONCE_LEN} bytes`);
    // 4. AEAD seal.
    sealed = xchacha20poly1305(secretOf(key), n, ad).encrypt(body);
    random = n;
  } else {
    const s = salt ?? randomBytes(SALT_LEN);
    const n = nonce ?? randomBytes(GCM_NONCE_LEN);
    if (s.length !== SALT_LEN || n.length !== GCM_NONCE_LEN) {
      throw new TypeError(`sealed: version 2 takes a ${SALT_LEN}-byte salt and a ${GCM_NONCE_LEN}-byte nonce`);
    }
    sealed = gcm(valueKey(secretOf(key), s), n, ad).encrypt(body);
    random = new Uint8Array(SALT_LEN + GCM_NONCE_LEN);
    random.set(s);
    random.set(n, SALT_LEN);
  }
  // 5. header || random fields || ciphertext || tag, unpadded base64url.
  const raw = new Uint8Array(HEADER_LEN + random.length + sealed.length);
  raw.set(header, 0);
  raw.set(random, HEADER_LEN);
  raw.set(sealed, HEADER_LEN + random.length);
  const value = encodeBase64url(raw);
  // 6. A value the opener would refuse is not returned.
  if (value.length > maxLen) fail("too_large", `${body.length} bytes seal to ${value.length} characters, limit ${maxLen}`);
  return value;
}
