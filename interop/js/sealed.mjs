// A reference implementation of the sealed cookie format in JavaScript:
// version 1 (XChaCha20-Poly1305) and version 2 (AES-256-GCM, for FIPS
// deployments).
//
// The specification is docs/FORMAT.md; this file follows it step by step and
// is meant to be read by anyone implementing the format in another language.
// It passes every vector in testdata/vectors.json and testdata/vectors-v2.json
// (checked by the Go tests in interop/, see interop/README.md).
//
//   import { open, seal, keyRing } from "./js/sealed.mjs";
//   const ring = keyRing("2026-11:<base64url secret>,2026-10:<...>");
//   const { plaintext, keyId, expires, stale } = open(ring, "session", cookieValue);
//
// Errors are Error objects with a .code, one of the classes of the spec:
// "malformed", "unknown_key", "invalid", "expired", "too_large". An
// "expired" error also has .info = { keyId, expires, stale }: the value was
// authentic.
//
// Dependencies: node:crypto (SHA-256, HKDF, random bytes), node:zlib (raw
// DEFLATE) and @noble/ciphers for XChaCha20-Poly1305, which Node's crypto
// lacks, and AES-256-GCM, whose synchronous API keeps open and seal
// synchronous for both versions. Node >= 20.19.

import { createHash, hkdfSync, randomBytes } from "node:crypto";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { gcm } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";

// Layout (docs/FORMAT.md, "Layout").
export const VERSION = 0x01;
export const FLAG_DEFLATE = 0x01; // the sealed bytes are a raw DEFLATE stream
const KNOWN_FLAGS = FLAG_DEFLATE;
const HEADER_LEN = 14; // version(1) flags(1) kid(4) expiry(8)
const NONCE_LEN = 24;
const TAG_LEN = 16;
export const OVERHEAD = HEADER_LEN + NONCE_LEN + TAG_LEN; // 54 bytes
const MIN_ENCODED = Math.ceil((OVERHEAD * 8) / 6); // 72 characters: an empty plaintext
const KEY_LEN = 32;

// Version 2 (docs/FORMAT.md, "Version 2"): AES-256-GCM under a key derived
// for each value with HKDF-SHA256 from the key's secret and a random salt.
export const VERSION_2 = 0x02;
const SALT_LEN = 16;
const GCM_NONCE_LEN = 12;
export const OVERHEAD_2 = HEADER_LEN + SALT_LEN + GCM_NONCE_LEN + TAG_LEN; // 58 bytes
const V2_INFO = "sealed v2 AES-256-GCM key derivation";

// A key's suite decides the version of the values it seals and opens.
const SUITE_VERSION = { xchacha20poly1305: VERSION, aes256gcm: VERSION_2 };

export const DEFAULT_MAX_LEN = 4000; // characters
export const DEFAULT_MAX_DECOMPRESSED = 65536; // bytes
export const MAX_PURPOSE_LEN = 255; // bytes

/** The error every failure throws: err.code is the spec's error class. */
export class SealedError extends Error {
  constructor(code, message, info) {
    super(`sealed: ${code}: ${message}`);
    this.name = "SealedError";
    this.code = code;
    if (info) this.info = info;
  }
}

function fail(code, message, info) {
  throw new SealedError(code, message, info);
}

// ---------------------------------------------------------------------------
// Keys (docs/FORMAT.md, "Keys")

/** kid: the first 4 bytes of SHA-256 of the key ID's ASCII bytes. */
export function keyIdentifier(id) {
  return createHash("sha256").update(id, "ascii").digest().subarray(0, 4);
}

function checkKeyId(id) {
  if (typeof id !== "string" || id.length < 1 || id.length > 64) {
    throw new TypeError("sealed: a key ID is 1 to 64 characters");
  }
  for (const c of id) {
    const b = c.charCodeAt(0);
    if (b < 0x21 || b > 0x7e || c === "," || c === ":") {
      throw new TypeError(`sealed: key ID ${JSON.stringify(id)}: printable ASCII except ',' and ':' only`);
    }
  }
}

const RING = Symbol("sealed key ring");

/**
 * Builds a key ring, primary first. Accepts the environment form that
 * `sealed keygen --env` prints and Go's sealed.FormatKeyRing returns
 * ("id:base64url-secret,id2:...", with a third field ":aes256gcm" on
 * AES-256-GCM keys), an array of {id, secret, suite?} where secret is 32
 * bytes (Uint8Array) or their base64url and suite is "xchacha20poly1305"
 * (the default) or "aes256gcm", or a ring this function returned.
 */
export function keyRing(keys) {
  if (keys && keys[RING]) return keys;
  if (typeof keys === "string") {
    keys = keys.trim().split(",").map((entry) => {
      const [id, secret, suite, ...rest] = entry.split(":").map((f) => f.trim());
      if (secret === undefined || rest.length > 0) throw new TypeError("sealed: key ring entries are id:base64url-secret[:suite]");
      return { id, secret, suite };
    });
  }
  if (!Array.isArray(keys) || keys.length === 0) throw new TypeError("sealed: empty key ring");
  const ring = keys.map(({ id, secret, suite = "xchacha20poly1305" }) => {
    checkKeyId(id);
    const version = SUITE_VERSION[suite];
    if (version === undefined) throw new TypeError(`sealed: key ${id}: unknown suite ${JSON.stringify(suite)}`);
    if (typeof secret === "string") {
      const s = secret.replace(/=+$/, "");
      if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new TypeError(`sealed: key ${id}: secret is not base64url`);
      secret = Buffer.from(s, "base64url");
    }
    if (!(secret instanceof Uint8Array) || secret.length !== KEY_LEN) {
      throw new TypeError(`sealed: key ${id}: secret must be ${KEY_LEN} bytes`);
    }
    return { id, secret: Uint8Array.from(secret), kid: keyIdentifier(id), suite, version };
  });
  for (let i = 0; i < ring.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ring[i].id === ring[j].id || Buffer.compare(ring[i].kid, ring[j].kid) === 0) {
        throw new TypeError(`sealed: keys ${ring[j].id} and ${ring[i].id} have the same ID or kid`);
      }
    }
  }
  return Object.freeze({ [RING]: true, keys: ring });
}

// ---------------------------------------------------------------------------
// Canonical unpadded base64url (docs/FORMAT.md, "Opening", step 3)

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Decodes canonical unpadded base64url, or returns null. */
export function decodeCanonical(s) {
  // Only the 64 characters of the alphabet: no '=', '+', '/', whitespace,
  // CR or LF. (Buffer.from(s, "base64url") would skip or accept those.)
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  // A final group of one character cannot encode a whole byte.
  if (s.length % 4 === 1) return null;
  // The unused low bits of the last character must be zero: 4 bits when the
  // last group has 2 characters (1 byte), 2 bits when it has 3 (2 bytes).
  const last = ALPHABET.indexOf(s[s.length - 1]);
  if (s.length % 4 === 2 && (last & 0x0f) !== 0) return null;
  if (s.length % 4 === 3 && (last & 0x03) !== 0) return null;
  return new Uint8Array(Buffer.from(s, "base64url"));
}

function encode(bytes) {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

// ---------------------------------------------------------------------------
// Opening (docs/FORMAT.md, "Opening")

function toBytes(x, what) {
  if (typeof x === "string") return new TextEncoder().encode(x);
  if (x instanceof Uint8Array) return x;
  throw new TypeError(`sealed: ${what} must be a string or a Uint8Array`);
}

function unixNow(now) {
  if (now === undefined) return Date.now() / 1000;
  if (now instanceof Date) return now.getTime() / 1000;
  return now; // Unix seconds
}

/**
 * The purpose's bytes, or throws: at most 255 bytes (docs/FORMAT.md,
 * "Purpose"). An empty purpose (the default) binds nothing.
 */
function purposeBytes(purpose, onError) {
  const bytes = toBytes(purpose, "purpose");
  if (bytes.length > MAX_PURPOSE_LEN) onError(`purpose is ${bytes.length} bytes, limit ${MAX_PURPOSE_LEN}`);
  return bytes;
}

/**
 * AD = header (14 bytes) || cookie name, and with a purpose (docs/FORMAT.md,
 * "Purpose") || 0x00 || purpose. The name never contains 0x00: seal refuses
 * such a name and open fails for it, so the split is unambiguous.
 */
function additionalData(header, nameBytes, purpose) {
  const extra = purpose.length > 0 ? 1 + purpose.length : 0;
  const ad = new Uint8Array(HEADER_LEN + nameBytes.length + extra);
  ad.set(header, 0);
  ad.set(nameBytes, HEADER_LEN);
  if (extra > 0) {
    ad[HEADER_LEN + nameBytes.length] = 0x00;
    ad.set(purpose, HEADER_LEN + nameBytes.length + 1);
  }
  return ad;
}

/**
 * Opens a sealed value (version 1 or 2) for the cookie called name.
 *
 * keys: anything keyRing() accepts. value: the cookie value (a string).
 * options: now (Unix seconds, or a Date; default the clock), skew (seconds a
 * value still opens after its expiry; default 0), maxLen (characters; default
 * 4000), maxDecompressed (bytes; default 65536), purpose (the application
 * context the value was sealed for, a string or bytes; default "", none).
 *
 * Returns { plaintext: Uint8Array, keyId, expires (Unix seconds), stale }.
 * Throws a SealedError whose .code is the error class.
 */
export function open(keys, name, value, { now, skew = 0, maxLen = DEFAULT_MAX_LEN, maxDecompressed = DEFAULT_MAX_DECOMPRESSED, purpose = "" } = {}) {
  const ring = keyRing(keys);
  if (typeof value !== "string") throw new TypeError("sealed: value must be a string");
  const nameBytes = toBytes(name, "name");
  // A purpose over 255 bytes is a misconfiguration; no value was sealed
  // with it, so none is authentic (Go's Sealer.Open does the same).
  const purposeB = purposeBytes(purpose, (msg) => fail("invalid", msg));

  // 1. Too long: checked before any decoding. Lengths count bytes; a cookie
  //    value is ASCII, so for a valid value that is its number of characters.
  if (value.length > maxLen || Buffer.byteLength(value, "utf8") > maxLen) {
    fail("too_large", `value is longer than ${maxLen} characters`);
  }
  // 2. Shorter than the value of an empty plaintext.
  if (value.length < MIN_ENCODED) fail("malformed", `shorter than ${MIN_ENCODED} characters`);
  // 3. Canonical unpadded base64url.
  const raw = decodeCanonical(value);
  if (raw === null) fail("malformed", "not canonical unpadded base64url");

  const header = raw.subarray(0, HEADER_LEN);
  // 4. Version: 1, or 2 ("Version 2"), whose envelope is 4 bytes longer.
  const version = raw[0];
  if (version !== VERSION && version !== VERSION_2) fail("malformed", `unknown version ${version}`);
  if (version === VERSION_2 && raw.length < OVERHEAD_2) fail("malformed", `${raw.length} bytes is shorter than any version 2 value`);
  // 5. Flags: only known bits (they are authenticated in step 7).
  const flags = raw[1];
  if ((flags & ~KNOWN_FLAGS) !== 0) fail("malformed", `unknown flags 0x${flags.toString(16)}`);
  // 6. Find the key by its 4-byte identifier. No trial decryption.
  const kid = raw.subarray(2, 6);
  const index = ring.keys.findIndex((k) => Buffer.compare(k.kid, kid) === 0);
  if (index < 0) fail("unknown_key", `key identifier ${Buffer.from(kid).toString("hex")} is not in the ring`);
  const key = ring.keys[index];
  // 7. A name containing 0x00 is invalid: no sealer accepts one, and with
  //    it the AD could equal that of a shorter name with a purpose.
  if (nameBytes.includes(0x00)) fail("invalid", "cookie name contains a NUL byte");
  //    A key of the other suite cannot have sealed this layout.
  if (key.version !== version) fail("malformed", `a version ${version} value, but key ${key.id} is an ${key.suite} key`);
  //    One AEAD open with that key; AD = header || name [|| 0x00 || purpose].
  const ad = additionalData(header, nameBytes, purposeB);
  let opened;
  try {
    if (version === VERSION) {
      const nonce = raw.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
      opened = xchacha20poly1305(key.secret, nonce, ad).decrypt(raw.subarray(HEADER_LEN + NONCE_LEN));
    } else {
      const salt = raw.subarray(HEADER_LEN, HEADER_LEN + SALT_LEN);
      const nonce = raw.subarray(HEADER_LEN + SALT_LEN, HEADER_LEN + SALT_LEN + GCM_NONCE_LEN);
      opened = gcm(valueKey(key.secret, salt), nonce, ad).decrypt(raw.subarray(HEADER_LEN + SALT_LEN + GCM_NONCE_LEN));
    }
  } catch {
    fail("invalid", "authentication failed");
  }
  // 8. Expiry, only now that the header is known to be authentic.
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const expires = Number(view.getBigInt64(6, false));
  const info = { keyId: key.id, expires, stale: index !== 0 };
  if (unixNow(now) >= expires + skew) fail("expired", `expired at ${expires}`, info);
  // 9. Compressed: inflate, bounded.
  const plaintext = flags & FLAG_DEFLATE ? inflate(opened, maxDecompressed) : opened;
  return { plaintext, ...info };
}

/** Version 2's per-value key: HKDF-SHA256(secret, salt, V2_INFO), 32 bytes. */
function valueKey(secret, salt) {
  return new Uint8Array(hkdfSync("sha256", secret, salt, V2_INFO, KEY_LEN));
}

/**
 * Inflates a raw DEFLATE stream (RFC 1951) that must end exactly at the end
 * of data, producing at most max bytes.
 */
function inflate(data, max) {
  let result;
  try {
    // maxOutputLength stops inflating (RangeError) once the output would
    // exceed max; info: true exposes the engine, which counts input used.
    result = inflateRawSync(data, { maxOutputLength: max, info: true });
  } catch (e) {
    if (e.code === "ERR_BUFFER_TOO_LARGE") fail("too_large", `decompresses to more than ${max} bytes`);
    fail("malformed", `not a complete DEFLATE stream (${e.code ?? e.message})`);
  }
  // Node stops at the final block and ignores what follows: refuse it.
  if (result.engine.bytesWritten !== data.length) fail("malformed", "data after the final DEFLATE block");
  return new Uint8Array(result.buffer);
}

// ---------------------------------------------------------------------------
// Sealing (docs/FORMAT.md, "Sealing")

/**
 * Seals plaintext for the cookie called name with the primary key.
 *
 * options: expires (Unix seconds or a Date; required), maxLen (default 4000),
 * compressAbove (compress plaintexts of at least this many bytes when that
 * makes them shorter; default 0, never), maxDecompressed (never compress
 * more than this; default 65536), purpose (the application context, bound
 * into the AD; default "", none), nonce (24 bytes, or 12 for version 2) and
 * salt (16 bytes, version 2 only): default random; set them only to
 * reproduce test vectors. The primary key's suite decides the version.
 */
export function seal(keys, name, plaintext, { expires, maxLen = DEFAULT_MAX_LEN, compressAbove = 0, maxDecompressed = DEFAULT_MAX_DECOMPRESSED, purpose = "", nonce, salt } = {}) {
  plaintext = toBytes(plaintext, "plaintext");
  let body = plaintext;
  let flags = 0x00;
  if (compressAbove > 0 && plaintext.length >= compressAbove && plaintext.length <= maxDecompressed) {
    const deflated = deflateRawSync(plaintext);
    if (deflated.length < plaintext.length) [body, flags] = [new Uint8Array(deflated), FLAG_DEFLATE];
  }
  return sealFlagged(keys, name, body, flags, { expires, maxLen, purpose, nonce, salt });
}

/**
 * Seals a raw DEFLATE stream as it is, with the compressed flag: for test
 * vectors, whose DEFLATE stream another compressor made.
 */
export function sealDeflated(keys, name, deflated, { expires, maxLen = DEFAULT_MAX_LEN, purpose = "", nonce, salt } = {}) {
  return sealFlagged(keys, name, toBytes(deflated, "deflated"), FLAG_DEFLATE, { expires, maxLen, purpose, nonce, salt });
}

function sealFlagged(keys, name, body, flags, { expires, maxLen, purpose, nonce, salt }) {
  // The name and purpose make the AD: refuse what would make it ambiguous.
  const nameBytes = toBytes(name, "name");
  if (nameBytes.includes(0x00)) throw new TypeError("sealed: cookie name contains a NUL byte");
  const purposeB = purposeBytes(purpose, (msg) => {
    throw new TypeError(`sealed: ${msg}`);
  });
  // 1. The primary key; the expiry in whole seconds, rounded down.
  const key = keyRing(keys).keys[0];
  if (expires === undefined || expires === null) throw new TypeError("sealed: seal needs an expiry");
  const exp = Math.floor(expires instanceof Date ? expires.getTime() / 1000 : expires);
  if (!Number.isSafeInteger(exp)) throw new TypeError("sealed: expiry out of range");
  // 3. Header and nonce (and for version 2 the salt).
  const header = new Uint8Array(HEADER_LEN);
  header[0] = key.version;
  header[1] = flags;
  header.set(key.kid, 2);
  new DataView(header.buffer).setBigInt64(6, BigInt(exp), false);
  const ad = additionalData(header, nameBytes, purposeB);
  let random, sealedBytes;
  if (key.version === VERSION) {
    nonce = nonce === undefined ? randomBytes(NONCE_LEN) : nonce;
    if (nonce.length !== NONCE_LEN) throw new TypeError(`sealed: nonce must be ${NONCE_LEN} bytes`);
    if (salt !== undefined) throw new TypeError("sealed: a salt is for version 2 (aes256gcm) keys only");
    // 4. AEAD seal with AD = header || name [|| 0x00 || purpose].
    sealedBytes = xchacha20poly1305(key.secret, nonce, ad).encrypt(body);
    random = nonce;
  } else {
    salt = salt === undefined ? randomBytes(SALT_LEN) : salt;
    nonce = nonce === undefined ? randomBytes(GCM_NONCE_LEN) : nonce;
    if (salt.length !== SALT_LEN || nonce.length !== GCM_NONCE_LEN) {
      throw new TypeError(`sealed: version 2 takes a ${SALT_LEN}-byte salt and a ${GCM_NONCE_LEN}-byte nonce`);
    }
    sealedBytes = gcm(valueKey(key.secret, salt), nonce, ad).encrypt(body);
    random = new Uint8Array([...salt, ...nonce]);
  }
  // 5. header || nonce (version 2: salt || nonce) || ciphertext || tag,
  //    unpadded base64url.
  const raw = new Uint8Array(HEADER_LEN + random.length + sealedBytes.length);
  raw.set(header, 0);
  raw.set(random, HEADER_LEN);
  raw.set(sealedBytes, HEADER_LEN + random.length);
  const value = encode(raw);
  // 6. Refuse to return a value the opener would refuse.
  if (value.length > maxLen) fail("too_large", `${body.length} bytes seal to ${value.length} characters, limit ${maxLen}`);
  return value;
}
