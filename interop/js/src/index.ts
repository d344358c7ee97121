// @sealedcookie/sealed: the sealed cookie format (docs/FORMAT.md) and the
// sessions of Go's sealed.Manager (docs/FORMAT-middleware.md) for any
// JavaScript runtime with the Web platform: Node, Deno, Cloudflare Workers,
// Vercel edge middleware. No Node built-ins; the cryptography is
// @noble/ciphers and @noble/hashes; every call is synchronous.

export { SealedError, isSealedError, type ErrorKind, type OpenInfo } from "./errors.js";
export { KeyRing, KeyRingError, keyIdentifier, validKeyId, KEY_SIZE, MAX_JWKS_LEN, type KeySpec, type RingKey, type Suite } from "./keyring.js";
export {
  open,
  seal,
  sealDeflated,
  encodedLen,
  DEFAULT_MAX_LEN,
  DEFAULT_MAX_DECOMPRESSED,
  MAX_PURPOSE_LEN,
  MIN_LEN,
  OVERHEAD,
  OVERHEAD_2,
  type OpenOptions,
  type Opened,
  type SealOptions,
  type Time,
} from "./core.js";
export { parsePayload, encodePayload, MIN_PAYLOAD_LEN, MAX_SUBJECT_LEN, type Payload, type PayloadInit } from "./payload.js";
export {
  readCookies,
  carriedValue,
  layout,
  chunkName,
  chunkedName,
  chunkSize,
  setCookieLine,
  forSetCookie,
  varyCookie,
  ChunkError,
  COOKIE_LIMIT,
  MAX_CHUNKS,
  type CarriedCookies,
  type CarriedValue,
  type CookieAttributes,
  type CookieSource,
  type HeaderSink,
  type SameSite,
} from "./cookies.js";
export { Sessions, Session, jsonCodec, type Codec, type Committed, type KeySource, type RequestLike, type SessionData, type SessionOptions } from "./session.js";
export { getSession } from "./next.js";
export { inflate, deflate, InflateError } from "./deflate.js";
