// Reads and writes the JWE envelope of jwe.NewSealer (jwe/jwe.go) with
// jose, the way a service in another language would: a compact JWE with
// "alg":"dir", "enc":"A256GCM", the key's 32-byte secret used directly, and
// a protected header carrying "kid", "exp" (Unix seconds) and "cookie" (the
// cookie name). jose checks neither "exp" nor "cookie": the reader must.
//
// Not part of the package @sealedcookie/sealed (this directory): jose is a
// dependency of the interop tests only. Errors are the package's
// SealedError, with the kinds of jwe.Sealer.Open.

import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from "jose";
import { KeyRing, SealedError, DEFAULT_MAX_LEN } from "@sealedcookie/sealed";
// A ring's secrets are out of its keys' reach; jose needs them. secretOf is
// internal (index.js does not export it); this is the package's own module,
// since node resolves interop/node_modules/@sealedcookie/sealed to this
// directory, so a ring it made is known to it.
import { secretOf } from "./dist/keyring.js";

const keyRing = (keys) => KeyRing.from(keys);

/**
 * Opens a compact JWE written by Go's jwe.Sealer.Seal (or by sealJWE) for the
 * cookie called name. Returns { plaintext, keyId, expires, stale }.
 */
export async function openJWE(keys, name, value, { now, skew = 0, maxLen = DEFAULT_MAX_LEN } = {}) {
  const ring = keyRing(keys);
  if (value.length > maxLen) throw new SealedError("too_large", `value is longer than ${maxLen} characters`);
  let header;
  try {
    header = decodeProtectedHeader(value);
  } catch (e) {
    throw new SealedError("malformed", `not a compact JWE: ${e.message}`);
  }
  if (header.alg !== "dir" || header.enc !== "A256GCM" || typeof header.kid !== "string" || !Number.isInteger(header.exp)) {
    throw new SealedError("malformed", "want alg dir, enc A256GCM, a kid and an integer exp");
  }
  const index = ring.keys.findIndex((k) => k.id === header.kid);
  if (index < 0) throw new SealedError("unknown_key", `key ID ${JSON.stringify(header.kid)} is not in the ring`);
  let result;
  try {
    result = await compactDecrypt(value, secretOf(ring.keys[index]), { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
  } catch (e) {
    throw new SealedError(e.code === "ERR_JWE_DECRYPTION_FAILED" ? "invalid" : "malformed", e.message);
  }
  // The protected header is authenticated: a value moved from another cookie
  // is as invalid as a tampered one.
  const { protectedHeader } = result;
  if (protectedHeader.cookie !== name) throw new SealedError("invalid", "sealed for another cookie");
  const info = { keyId: header.kid, expires: protectedHeader.exp, stale: index !== 0 };
  const t = now === undefined ? Date.now() / 1000 : now;
  if (t >= protectedHeader.exp + skew) throw new SealedError("expired", `expired at ${protectedHeader.exp}`, info);
  return { plaintext: result.plaintext, ...info };
}

/** Seals plaintext as Go's jwe.Sealer.Seal does, with the primary key. */
export async function sealJWE(keys, name, plaintext, { expires }) {
  const key = keyRing(keys).keys[0];
  const bytes = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
  return new CompactEncrypt(bytes)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: key.id, exp: Math.floor(expires), cookie: name })
    .encrypt(secretOf(key));
}
