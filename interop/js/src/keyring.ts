// Key rings (docs/FORMAT.md, "Keys"; Go: rotation.go and package jwks).

import { sha256 } from "@noble/hashes/sha2.js";
import { decodeSecret, equalBytes, utf8, utf8Length } from "./bytes.js";

/** A key's AEAD suite: version 1 values, or version 2 (FIPS 140-3). */
export type Suite = "xchacha20poly1305" | "aes256gcm";

/** A key given as its parts: an ID, a 32-byte secret (or its base64url). */
export interface KeySpec {
  id: string;
  secret: Uint8Array | string;
  /** Default "xchacha20poly1305". */
  suite?: Suite;
}

/** The format version of the values each suite seals. */
export const SUITE_VERSION: Readonly<Record<Suite, number>> = { xchacha20poly1305: 0x01, aes256gcm: 0x02 };

/** Length in bytes of a key's secret. */
export const KEY_SIZE = 32;
/** The most bytes a key ID may have. */
export const MAX_KEY_ID_LEN = 64;
/** The largest JWKS document fromJwks reads, in bytes (jwks.MaxLen). */
export const MAX_JWKS_LEN = 1 << 20;

/** An invalid key ring. Messages name keys by position, never by ID or secret. */
export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyRingError";
  }
}

/** One key of a ring, as open and seal use it. */
export interface RingKey {
  readonly id: string;
  readonly suite: Suite;
  readonly version: number;
  /** The first 4 bytes of SHA-256 of the ID. */
  readonly kid: Uint8Array;
}

// The secrets, out of the key objects: no rendering of a key (String,
// JSON.stringify, util.inspect even with showHidden) can reach them.
const secrets = new WeakMap<RingKey, Uint8Array>();

/**
 * The secret of a key that makeKey made. @internal: for core.ts; index.ts
 * does not export it.
 */
export function secretOf(key: RingKey): Uint8Array {
  const secret = secrets.get(key);
  if (secret === undefined) throw new TypeError("sealed: not a key of a KeyRing");
  return secret;
}

/** Reports whether id is a valid key ID: 1 to 64 bytes of printable ASCII other than space, ',' and ':'. */
export function validKeyId(id: unknown): id is string {
  if (typeof id !== "string" || id.length < 1 || id.length > MAX_KEY_ID_LEN) return false;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c <= 0x20 || c > 0x7e || c === 0x2c || c === 0x3a) return false;
  }
  return true;
}

/** The key identifier of an ID: the first 4 bytes of SHA-256 of its bytes. */
export function keyIdentifier(id: string): Uint8Array {
  return sha256(utf8(id)).slice(0, 4);
}

/**
 * An ordered list of keys; the first (the primary) seals, all open.
 *
 * Build one with KeyRing.parse (the environment form that `sealed keygen
 * --env` prints and Go's sealed.FormatKeyRing writes), KeyRing.fromJwks (a
 * JSON Web Key Set, as package jwks reads) or KeyRing.of (keys). A ring
 * never shows its secrets: JSON.stringify and console.log give the IDs.
 */
export class KeyRing {
  readonly #keys: readonly RingKey[];

  private constructor(keys: RingKey[]) {
    this.#keys = Object.freeze(keys);
  }

  /**
   * Parses the environment form "id:secret[:suite],id2:secret2,...": the
   * secret in base64url (unpadded, or padded with '='), the suite
   * "xchacha20poly1305" (the default) or "aes256gcm". Entries are trimmed of
   * surrounding whitespace, Go's unicode.IsSpace (not what String.trim
   * trims); the first is the primary. The rules and the errors are those of
   * Go's sealed.ParseKeyRing.
   */
  static parse(text: string): KeyRing {
    if (typeof text !== "string") throw new KeyRingError("sealed: key ring: want a string");
    const s = trimSpace(text);
    if (s === "") throw new KeyRingError("sealed: key ring: empty");
    const keys: RingKey[] = [];
    s.split(",").forEach((entry, i) => {
      const where = `sealed: key ring: entry ${i + 1}`;
      const e = trimSpace(entry);
      const colon = e.indexOf(":");
      if (colon < 0) throw new KeyRingError(`${where}: want id:base64url-secret`);
      const id = e.slice(0, colon);
      let text = e.slice(colon + 1);
      if (!validKeyId(id)) {
        throw new KeyRingError(`${where}: the ID must be 1 to ${MAX_KEY_ID_LEN} bytes of printable ASCII other than space, ',' and ':'`);
      }
      let suite: Suite = "xchacha20poly1305";
      const colon2 = text.indexOf(":");
      if (colon2 >= 0) {
        const name = text.slice(colon2 + 1);
        text = text.slice(0, colon2);
        if (name !== "xchacha20poly1305" && name !== "aes256gcm") {
          throw new KeyRingError(`${where}: unknown suite after the secret; want xchacha20poly1305 or aes256gcm`);
        }
        suite = name;
      }
      const secret = decodeSecret(text);
      if (secret === null) throw new KeyRingError(`${where}: the secret: not valid base64url`);
      if (secret.length !== KEY_SIZE) throw new KeyRingError(`${where}: the secret: ${secret.length} bytes, want ${KEY_SIZE}`);
      keys.push(makeKey(id, secret, suite));
    });
    return KeyRing.#checked(keys, "key ring: entry");
  }

  /**
   * Parses a JSON Web Key Set as Go's jwks.Parse does: {"keys": [...]}, the
   * first key the primary, each {"kty": "oct", "kid": ID, "k": 32 bytes in
   * base64url}, with "alg" "XC20P", "dir" or absent for XChaCha20-Poly1305
   * and "A256GCM" for AES-256-GCM, and "use", if present, "enc". One bad key
   * rejects the whole set. Member names are case-sensitive (RFC 7517), as
   * in jwks.Parse: "KID" is not "kid", only an unknown member; a member
   * given twice in one object counts with its last value. Errors name keys
   * by position only.
   */
  static fromJwks(json: string | Uint8Array): KeyRing {
    const text = typeof json === "string" ? json : new TextDecoder().decode(json);
    const size = typeof json === "string" ? utf8Length(json) : json.length;
    if (size > MAX_JWKS_LEN) throw new KeyRingError(`jwks: ${size} bytes, limit ${MAX_JWKS_LEN}`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the text, which holds secrets.
      throw new KeyRingError("jwks: not valid JSON");
    }
    const want = 'jwks: want an object with a "keys" array';
    if (doc !== null && (typeof doc !== "object" || Array.isArray(doc))) throw new KeyRingError(want);
    const list = doc === null ? undefined : member(doc as Record<string, unknown>, "keys");
    if (list !== undefined && list !== null && !Array.isArray(list)) throw new KeyRingError(want);
    if (list === undefined || list === null || list.length === 0) {
      throw new KeyRingError('jwks: no keys (the "keys" array is missing or empty)');
    }
    const keys = list.map((raw, i) => {
      try {
        return jwk(raw);
      } catch (e) {
        throw new KeyRingError(`jwks: key ${i + 1}: ${(e as Error).message}`);
      }
    });
    for (let i = 0; i < keys.length; i++) {
      for (let j = 0; j < i; j++) {
        if (keys[j].id === keys[i].id) throw new KeyRingError(`jwks: key ${i + 1}: same kid as key ${j + 1}`);
      }
    }
    for (let i = 0; i < keys.length; i++) {
      for (let j = 0; j < i; j++) {
        if (equalBytes(keys[j].kid, keys[i].kid)) throw new KeyRingError("jwks: two kids share a header identifier; rename one");
      }
    }
    return new KeyRing(keys);
  }

  /** A ring of the given keys, primary first. */
  static of(keys: readonly KeySpec[]): KeyRing {
    if (!Array.isArray(keys) || keys.length === 0) throw new KeyRingError("sealed: key ring: no keys");
    const ring = keys.map((k, i) => {
      const where = `sealed: key ring: key ${i + 1}`;
      if (!validKeyId(k.id)) {
        throw new KeyRingError(`${where}: the ID must be 1 to ${MAX_KEY_ID_LEN} bytes of printable ASCII other than space, ',' and ':'`);
      }
      const suite = k.suite ?? "xchacha20poly1305";
      if (suite !== "xchacha20poly1305" && suite !== "aes256gcm") throw new KeyRingError(`${where}: unknown suite`);
      const secret = typeof k.secret === "string" ? decodeSecret(k.secret) : k.secret;
      if (!(secret instanceof Uint8Array)) throw new KeyRingError(`${where}: the secret: not valid base64url`);
      if (secret.length !== KEY_SIZE) throw new KeyRingError(`${where}: the secret: ${secret.length} bytes, want ${KEY_SIZE}`);
      return makeKey(k.id, secret, suite);
    });
    return KeyRing.#checked(ring, "key ring: key");
  }

  /** A ring from what the interop driver and older callers pass: a ring, the text form, or keys. */
  static from(keys: KeyRing | string | readonly KeySpec[]): KeyRing {
    if (keys instanceof KeyRing) return keys;
    if (typeof keys === "string") return KeyRing.parse(keys);
    return KeyRing.of(keys);
  }

  static #checked(keys: RingKey[], what: string): KeyRing {
    for (let i = 0; i < keys.length; i++) {
      for (let j = 0; j < i; j++) {
        if (keys[j].id === keys[i].id) throw new KeyRingError(`sealed: ${what} ${i + 1}: same ID as ${j + 1}`);
        if (equalBytes(keys[j].kid, keys[i].kid)) {
          throw new KeyRingError(`sealed: ${what} ${i + 1}: its ID shares a header identifier with that of ${j + 1}; rename one`);
        }
      }
    }
    return new KeyRing(keys);
  }

  /** The keys, primary first. */
  get keys(): readonly RingKey[] {
    return this.#keys;
  }

  /** The primary key: the one that seals. */
  get primary(): RingKey {
    return this.#keys[0];
  }

  /** The key IDs, primary first. */
  get ids(): string[] {
    return this.#keys.map((k) => k.id);
  }

  /** The index of the key with this 4-byte identifier, or -1. */
  indexOf(kid: Uint8Array): number {
    return this.#keys.findIndex((k) => equalBytes(k.kid, kid));
  }

  /** JSON.stringify shows the IDs and suites, never the secrets. */
  toJSON(): { id: string; suite: Suite }[] {
    return this.#keys.map((k) => ({ id: k.id, suite: k.suite }));
  }

  toString(): string {
    return `KeyRing(${this.ids.join(", ")})`;
  }

  /** Node's console.log and util.inspect. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

// The characters Go's unicode.IsSpace reports, which strings.TrimSpace
// trims. String.prototype.trim differs: it trims U+FEFF and keeps U+0085.
const GO_SPACE = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

// s without leading and trailing GO_SPACE, as Go's strings.TrimSpace.
function trimSpace(s: string): string {
  let i = 0, j = s.length;
  while (i < j && GO_SPACE.includes(s[i])) i++;
  while (j > i && GO_SPACE.includes(s[j - 1])) j--;
  return s.slice(i, j);
}

function makeKey(id: string, secret: Uint8Array, suite: Suite): RingKey {
  const key: RingKey = Object.freeze({ id, suite, version: SUITE_VERSION[suite], kid: keyIdentifier(id) });
  secrets.set(key, Uint8Array.from(secret)); // a copy: the caller may clear theirs
  return key;
}

// The member of o called exactly name, undefined if none. Member names are
// case-sensitive (RFC 7517) and JSON.parse keeps the last of a repeated
// name, as jwks.Parse does.
function member(o: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(o, name) ? o[name] : undefined;
}

const JWK_SHAPE = 'not a JWK object with string "kty", "kid", "alg", "use" and "k" members';

// One JWK, checked in the order of Go's jwks.parseKey. Errors name no
// value: an operator who swaps "kid" and "k" must not find the secret in a
// log.
function jwk(raw: unknown): RingKey {
  // Go unmarshals null into an empty key ("missing kty").
  if (raw !== null && (typeof raw !== "object" || Array.isArray(raw))) throw new Error(JWK_SHAPE);
  const o = (raw ?? {}) as Record<string, unknown>;
  const str = (name: string): string | undefined => {
    const v = member(o, name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw new Error(JWK_SHAPE);
    return v;
  };
  const kty = str("kty"), kid = str("kid"), alg = str("alg"), use = str("use"), k = str("k");
  if (kty === undefined) throw new Error('missing "kty"; want "oct"');
  if (kty !== "oct") throw new Error('unsupported "kty"; want "oct" (a symmetric key)');
  if (kid === undefined || kid === "") throw new Error('missing "kid": every key needs an ID');
  if (use !== undefined && use !== "enc") throw new Error('"use" must be "enc" or absent');
  if (k === undefined || k === "") throw new Error('missing "k" (the secret)');
  let suite: Suite;
  if (alg === undefined || alg === "dir" || alg === "XC20P") suite = "xchacha20poly1305";
  else if (alg === "A256GCM") suite = "aes256gcm";
  else throw new Error('unsupported "alg"; want "XC20P" (XChaCha20-Poly1305) or "A256GCM" (AES-256-GCM, the FIPS suite)');
  const secret = decodeSecret(k);
  if (secret === null) throw new Error('"k": not valid base64url');
  if (secret.length !== KEY_SIZE) throw new Error(`"k": ${secret.length} bytes, want ${KEY_SIZE}`);
  if (!validKeyId(kid)) throw new Error('"kid" must be 1 to 64 bytes of printable ASCII other than space, \',\' and \':\'');
  return makeKey(kid, secret, suite);
}
