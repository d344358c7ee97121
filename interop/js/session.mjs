// Reads the session cookies that sealed's net/http middleware (sealed.New,
// sealed.Manager) sets: the cookie or chunks it is stored in, and the
// middleware payload inside the sealed value. The specification is
// docs/FORMAT-middleware.md; the sealed value itself is opened by
// ./sealed.mjs (docs/FORMAT.md).
//
//   import { openSession } from "./js/session.mjs";
//   const s = openSession(ring, { session: "AQBq..." }, { name: "session" });
//   const user = JSON.parse(new TextDecoder().decode(s.value));
//
// Errors are the SealedError of sealed.mjs, with the same codes.

import { open, SealedError } from "./sealed.mjs";

const PAYLOAD_VERSION = 0x01;
const HAS_VALUE = 0x01;
const HAS_IDENTITY = 0x02; // session id (16), minted (ms, 8), subject (uvarint length, bytes)
const PERSISTENCE = 0x04; // the session chose its cookie's persistence
const PERSISTENT = 0x08; // with PERSISTENCE: a persistent cookie (Max-Age)
const PAYLOAD_HEADER_LEN = 1 + 1 + 8 + 8 + 8; // version flags issued deadline refreshed

function malformed(message) {
  throw new SealedError("malformed", `middleware payload: ${message}`);
}

/** Reads an unsigned LEB128 (Go's uvarint) at pos: [value, next pos]. */
function uvarint(bytes, pos) {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= bytes.length) malformed("varint runs past the end");
    const b = bytes[pos + i];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      if (i === 9 && b > 1) malformed("varint overflows 64 bits");
      return [value, pos + i + 1];
    }
  }
  malformed("varint longer than 10 bytes");
}

/**
 * Parses the middleware payload, version 1: returns { issued, deadline,
 * refreshed (Unix seconds), id (32 hex digits, or null), minted (Unix
 * milliseconds, or null), subject (string, or null), persistent (the
 * session's own choice of a persistent cookie, or null), flashes (strings),
 * value (the codec's bytes, JSON by default; null when the cookie carries
 * flashes only) }.
 */
export function parsePayload(bytes) {
  if (bytes.length < PAYLOAD_HEADER_LEN + 1) malformed(`${bytes.length} bytes is too short`);
  if (bytes[0] !== PAYLOAD_VERSION) malformed(`unknown version ${bytes[0]}`);
  const flags = bytes[1];
  if ((flags & ~(HAS_VALUE | HAS_IDENTITY | PERSISTENCE | PERSISTENT)) !== 0 || (flags & (PERSISTENCE | PERSISTENT)) === PERSISTENT) {
    malformed(`unknown flags 0x${flags.toString(16)}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const issued = Number(view.getBigInt64(2, false));
  const deadline = Number(view.getBigInt64(10, false));
  const refreshed = Number(view.getBigInt64(18, false));
  const utf8 = new TextDecoder("utf-8", { fatal: false });
  let pos = PAYLOAD_HEADER_LEN;
  let id = null, minted = null, subject = null;
  if (flags & HAS_IDENTITY) {
    if (bytes.length - pos < 24) malformed("session identity runs past the end");
    id = Array.from(bytes.subarray(pos, pos + 16), (b) => b.toString(16).padStart(2, "0")).join("");
    minted = Number(view.getBigInt64(pos + 16, false));
    let len;
    [len, pos] = uvarint(bytes, pos + 24);
    if (len > 255n || len > BigInt(bytes.length - pos)) malformed("bad subject");
    subject = utf8.decode(bytes.subarray(pos, pos + Number(len)));
    pos += Number(len);
  }
  let count;
  [count, pos] = uvarint(bytes, pos);
  const flashes = [];
  for (; count > 0n; count--) {
    let len;
    [len, pos] = uvarint(bytes, pos);
    if (len > BigInt(bytes.length - pos)) malformed("flash message runs past the end");
    flashes.push(utf8.decode(bytes.subarray(pos, pos + Number(len))));
    pos += Number(len);
  }
  let value = null;
  if (flags & HAS_VALUE) value = bytes.subarray(pos);
  else if (pos !== bytes.length) malformed("bytes after the flash messages without a session value");
  const persistent = flags & PERSISTENCE ? (flags & PERSISTENT) !== 0 : null;
  return { issued, deadline, refreshed, id, minted, subject, persistent, flashes, value };
}

/**
 * Finds the session's sealed value among the request's cookies (an object
 * name -> value) and the name it was sealed for: the cookie `name` itself,
 * or chunks name.0, name.1, ... sealed for "name#n". Returns null when there
 * is no session cookie.
 */
export function joinChunks(cookies, name) {
  if (Object.hasOwn(cookies, name)) return { value: cookies[name], sealedFor: name };
  const first = cookies[`${name}.0`];
  if (first === undefined) return null;
  const parts = [first];
  // Chunk i+1 counts while it is present and chunk i is full (as long as
  // chunk 0); the first shorter chunk ends the value.
  for (let i = 1; i < 16 && parts[i - 1].length === first.length && Object.hasOwn(cookies, `${name}.${i}`); i++) {
    parts.push(cookies[`${name}.${i}`]);
  }
  return { value: parts.join(""), sealedFor: `${name}#${parts.length}` };
}

/**
 * Opens the session the middleware stored in cookies (an object name ->
 * value). options: name (the cookie name, default "session"), now, skew,
 * maxLen (default 16 * 4096, the longest any chunk budget allows; a
 * Manager's own bound is budget * chunk size), maxDecompressed, purpose
 * (the Manager's purpose, if it sets one; default "", none).
 *
 * Returns null without a session cookie, otherwise the parsed payload plus
 * keyId, expires and stale of the sealed value. A session past its payload
 * deadline throws "expired" like a sealed value past its expiry.
 */
export function openSession(keys, cookies, { name = "session", now, skew = 0, maxLen = 16 * 4096, maxDecompressed, purpose = "" } = {}) {
  const found = joinChunks(cookies, name);
  if (found === null) return null;
  const opened = open(keys, found.sealedFor, found.value, { now, skew, maxLen, maxDecompressed, purpose });
  const payload = parsePayload(opened.plaintext);
  const t = now === undefined ? Date.now() / 1000 : now instanceof Date ? now.getTime() / 1000 : now;
  if (t >= payload.deadline + skew) {
    throw new SealedError("expired", `session deadline ${payload.deadline} has passed`, { keyId: opened.keyId, expires: opened.expires, stale: opened.stale });
  }
  return { ...payload, keyId: opened.keyId, expires: opened.expires, stale: opened.stale };
}
