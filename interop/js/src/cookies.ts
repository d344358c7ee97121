// Cookies and chunks (docs/FORMAT-middleware.md, "Cookies and chunks"; Go:
// internal/format/cookies.go, cookies.go and internal/cacheheader): which
// cookies carry a session, how a sealed value is split among them, and the
// Set-Cookie lines and cache headers a Manager writes.

/** The most chunks a session may use (Go's format.MaxChunks). */
export const MAX_CHUNKS = 16;
/** Bytes per Set-Cookie line (name, value, attributes) a Manager stays within. */
export const COOKIE_LIMIT = 4096;

/** The name a value split into n chunks is sealed for: "name#n". */
export function chunkedName(name: string, n: number): string {
  return `${name}#${n}`;
}

/** The name of chunk i: "name.i". */
export function chunkName(name: string, i: number): string {
  return `${name}.${i}`;
}

/**
 * How a sealed value of total characters is stored: n chunks of size
 * characters each but the last, which is shorter, or one cookie (n = 0)
 * when it fits in chunkSize. The last chunk is never full: when total is a
 * multiple of chunkSize, the chunks are one character shorter.
 */
export function layout(total: number, chunkSize: number): { n: number; size: number } {
  if (total <= chunkSize) return { n: 0, size: total };
  let size = chunkSize;
  if (total % size === 0) size--;
  return { n: Math.ceil(total / size), size };
}

/** The session cookies a request carried (Go's format.Cookies). */
export interface CarriedCookies {
  /** The unchunked cookie's value, or null. */
  plain: string | null;
  /** Chunk values by index (indices 0 to 63 are recognised; the first 16 are kept). */
  chunks: Map<number, string>;
}

/** Anything a request's cookies can be given as. */
export type CookieSource =
  | string
  | readonly string[]
  | Readonly<Record<string, string>>
  | Map<string, string>
  | { get(name: string): string | null }
  | null
  | undefined;

// A chunk suffix ".N": decimal, no leading zeros, N < 64.
function chunkIndex(suffix: string): number {
  if (suffix.length < 2 || suffix.length > 3 || suffix[0] !== "." || (suffix[1] === "0" && suffix.length > 2)) return -1;
  let n = 0;
  for (let i = 1; i < suffix.length; i++) {
    const c = suffix.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n < 64 ? n : -1;
}

// Go's strings.TrimSpace for ASCII (cookie headers are ASCII).
function trim(s: string): string {
  return s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, "");
}

function addCookie(c: CarriedCookies, n: string, val: string, name: string): void {
  if (!n.startsWith(name)) return;
  if (val.length >= 2 && val[0] === '"' && val[val.length - 1] === '"') val = val.slice(1, -1);
  if (n.length === name.length) {
    if (c.plain === null) c.plain = val;
    return;
  }
  const i = chunkIndex(n.slice(name.length));
  if (i < 0 || c.chunks.has(i)) return;
  c.chunks.set(i, val);
}

/**
 * Collects the session cookies called name, as Go's Manager reads them: from
 * Cookie header lines (a string or several), the first occurrence of a name
 * winning (RFC 6265's most specific Path); values in double quotes
 * unquoted; chunk names "name.N" with N decimal, no leading zeros, below 64.
 * A record or Map of name to value (already parsed cookies) works too, and
 * so does anything with get(name), such as a Headers object.
 */
export function readCookies(source: CookieSource, name: string): CarriedCookies {
  const c: CarriedCookies = { plain: null, chunks: new Map() };
  if (source === null || source === undefined) return c;
  if (typeof source === "object" && !Array.isArray(source) && typeof (source as { get?: unknown }).get === "function" && !(source instanceof Map)) {
    return readCookies((source as { get(name: string): string | null }).get("cookie"), name);
  }
  if (typeof source === "string" || Array.isArray(source)) {
    const lines: readonly string[] = typeof source === "string" ? [source] : (source as readonly string[]);
    for (const line of lines) {
      for (const part of line.split(";")) {
        const eq = part.indexOf("=");
        if (eq < 0) continue;
        addCookie(c, trim(part.slice(0, eq)), trim(part.slice(eq + 1)), name);
      }
    }
    return c;
  }
  const entries = source instanceof Map ? [...source.entries()] : Object.entries(source as Record<string, string>);
  for (const [n, v] of entries) addCookie(c, n, String(v), name);
  return c;
}

/** Reports whether the request carried any session cookie. */
export function carriesSession(c: CarriedCookies): boolean {
  return c.plain !== null || c.chunks.size > 0;
}

/** The sealed value the cookies carry and the name it was sealed for. */
export interface CarriedValue {
  value: string;
  /** The cookie name, or "name#n" for n chunks. */
  sealedFor: string;
  /** Chunks joined; 0 for the unchunked cookie. */
  chunks: number;
  /** Set when the chunks end on a full chunk: the index of the chunk that may be missing. */
  missing: number | null;
}

/** Why the cookies carry no value: a missing chunk (malformed), or more chunks than the budget (too_large). */
export class ChunkError extends Error {
  constructor(readonly kind: "malformed" | "too_large", message: string) {
    super(message);
    this.name = "ChunkError";
  }
}

/**
 * The sealed value the cookies carry (docs/FORMAT-middleware.md,
 * "Reading"): the unchunked cookie if present, else chunks 0..n-1, the run
 * going on while the chunk before is as long as chunk 0. Throws ChunkError
 * when chunk 0 is absent or the run is longer than budget.
 */
export function carriedValue(c: CarriedCookies, name: string, budget: number): CarriedValue {
  if (c.plain !== null) return { value: c.plain, sealedFor: name, chunks: 0, missing: null };
  const first = c.chunks.get(0);
  if (first === undefined) throw new ChunkError("malformed", `chunk ${name}.0 missing: Cookie header truncated?`);
  const full = first.length;
  const kept = (i: number) => (i < MAX_CHUNKS ? (c.chunks.get(i) ?? "") : "");
  let n = 1;
  while (n < 64 && c.chunks.has(n) && kept(n - 1).length === full) {
    if (n >= budget) throw new ChunkError("too_large", `more than ${budget} chunks`);
    n++;
  }
  let value = "";
  for (let i = 0; i < n; i++) value += kept(i);
  return { value, sealedFor: chunkedName(name, n), chunks: n, missing: kept(n - 1).length === full ? n : null };
}

// ---------------------------------------------------------------------------
// Writing cookies

/** SameSite as Go's http.SameSite: "default" omits the attribute. */
export type SameSite = "lax" | "strict" | "none" | "default";

/** The attributes of a Manager's cookies (Go's Options). */
export interface CookieAttributes {
  name: string;
  path: string;
  domain: string;
  sameSite: SameSite;
  secure: boolean;
  httpOnly: boolean;
  partitioned: boolean;
}

// RFC 7230 token characters (Go's isToken).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reports whether name is a valid cookie name (an RFC 7230 token). */
export function validCookieName(name: string): boolean {
  return TOKEN.test(name);
}

function validPath(p: string): boolean {
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x3b) return false;
  }
  return true;
}

// Go's validCookieDomain: a domain name (letters, digits, '-' and dots,
// with an optional leading dot) or an IPv4 address.
function validDomain(d: string): boolean {
  if (/^[0-9.]+$/.test(d) && /^\d{1,3}(\.\d{1,3}){3}$/.test(d)) {
    if (d.split(".").every((x) => Number(x) <= 255 && !(x.length > 1 && x[0] === "0"))) return true;
  }
  if (d.length === 0 || d.length > 255) return false;
  const s = d[0] === "." ? d.slice(1) : d;
  let last = ".";
  let letter = false;
  let part = 0;
  for (const c of s) {
    if ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z")) {
      letter = true;
      part++;
    } else if (c >= "0" && c <= "9") part++;
    else if (c === "-") {
      if (last === ".") return false;
      part++;
    } else if (c === ".") {
      if (last === "." || last === "-" || part > 63 || part === 0) return false;
      part = 0;
    } else return false;
    last = c;
  }
  return last !== "-" && part <= 63 && letter;
}

/** Checks attributes as Go's http.Cookie.Valid and sealed.New do; throws TypeError. */
export function checkAttributes(a: CookieAttributes): void {
  if (!validCookieName(a.name)) throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)} is not a token`);
  if (a.name.includes("#")) throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)} must not contain '#'`);
  if (!validPath(a.path)) throw new TypeError("sealed: invalid byte in the cookie Path");
  if (a.domain !== "" && !validDomain(a.domain)) throw new TypeError("sealed: invalid cookie Domain");
  const prefix = (p: string) => a.name.length >= p.length && a.name.slice(0, p.length).toLowerCase() === p.toLowerCase();
  if (prefix("__Host-") && (!a.secure || a.path !== "/" || a.domain !== "")) {
    throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)}: the __Host- prefix requires Secure, Path "/" and no Domain`);
  }
  if (prefix("__Secure-") && !a.secure) throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)}: the __Secure- prefix requires Secure`);
  if (prefix("__Host-Http-") && !a.httpOnly) throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)}: the __Host-Http- prefix requires HttpOnly`);
  if (prefix("__Http-") && (!a.secure || !a.httpOnly)) throw new TypeError(`sealed: cookie name ${JSON.stringify(a.name)}: the __Http- prefix requires Secure and HttpOnly`);
  if (a.partitioned && !a.secure) throw new TypeError("sealed: Partitioned requires Secure (browsers reject it otherwise)");
  if (a.sameSite === "none" && !a.secure) throw new TypeError("sealed: SameSite=None requires Secure (browsers reject it otherwise)");
  if (!["lax", "strict", "none", "default"].includes(a.sameSite)) throw new TypeError(`sealed: unknown SameSite ${JSON.stringify(a.sameSite)}`);
}

/**
 * A Set-Cookie line with the attributes, as Go's http.Cookie.String writes
 * it: maxAge > 0 sets Max-Age, 0 omits it (a browser-session cookie), < 0
 * deletes the cookie (Max-Age=0).
 */
export function setCookieLine(a: CookieAttributes, name: string, value: string, maxAge: number): string {
  let s = `${name}=${/[ ,]/.test(value) ? `"${value}"` : value}`;
  if (a.path !== "") s += `; Path=${a.path}`;
  if (a.domain !== "") s += `; Domain=${a.domain[0] === "." ? a.domain.slice(1) : a.domain}`;
  if (maxAge > 0) s += `; Max-Age=${maxAge}`;
  else if (maxAge < 0) s += "; Max-Age=0";
  if (a.httpOnly) s += "; HttpOnly";
  if (a.secure) s += "; Secure";
  if (a.sameSite === "none") s += "; SameSite=None";
  else if (a.sameSite === "lax") s += "; SameSite=Lax";
  else if (a.sameSite === "strict") s += "; SameSite=Strict";
  if (a.partitioned) s += "; Partitioned";
  return s;
}

/**
 * The chunk size: 4096 minus the longest Set-Cookie line the Manager can
 * write with an empty value (the name of the last chunk of the budget,
 * the largest Max-Age, the lifetime, and every attribute). 4031 with the
 * defaults.
 */
export function chunkSize(a: CookieAttributes, budget: number, lifetime: number): number {
  return COOKIE_LIMIT - setCookieLine(a, chunkName(a.name, budget - 1), "", lifetime).length;
}

// ---------------------------------------------------------------------------
// Cache headers (Go's internal/cacheheader)

/** The subset of the Fetch Headers API the session helpers write to. */
export interface HeaderSink {
  get(name: string): string | null;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
}

function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  return value.split(",").some((t) => trim(t).toLowerCase() === token);
}

/** Adds "Cookie" to Vary unless Vary already has it or "*". */
export function varyCookie(h: HeaderSink): void {
  const vary = h.get("vary");
  if (hasToken(vary, "cookie") || hasToken(vary, "*")) return;
  h.append("Vary", "Cookie");
}

// One directive of a Cache-Control value (RFC 9111 section 5.2), and the rest.
function nextDirective(v: string): { name: string; arg: string; qualified: boolean; rest: string } | null {
  v = v.replace(/^[ \t,]+/, "");
  if (v === "") return null;
  const m = v.search(/[=,]/);
  if (m < 0) return { name: trim(v), arg: "", qualified: false, rest: "" };
  const name = trim(v.slice(0, m));
  if (v[m] === ",") return { name, arg: "", qualified: false, rest: v.slice(m + 1) };
  v = v.slice(m + 1).replace(/^[ \t]+/, "");
  if (!v.startsWith('"')) {
    let stop = v.indexOf(",");
    if (stop < 0) stop = v.length;
    return { name, arg: trim(v.slice(0, stop)), qualified: true, rest: v.slice(stop) };
  }
  let arg = "";
  let i = 1;
  for (; i < v.length && v[i] !== '"'; i++) {
    if (v[i] === "\\" && i + 1 < v.length) i++;
    arg += v[i];
  }
  if (i >= v.length) return null; // unterminated quoted string
  return { name, arg, qualified: true, rest: v.slice(i + 1) };
}

function keepsCookieFromCaches(cc: string): boolean {
  for (let d = nextDirective(cc); d !== null; d = nextDirective(d.rest)) {
    const n = d.name.toLowerCase();
    if (n === "no-store") return true;
    if (n === "private" || n === "no-cache") {
      if (!d.qualified) return true;
      if (d.arg.split(",").some((f) => trim(f).toLowerCase() === "set-cookie")) return true;
    }
  }
  return false;
}

/**
 * Keeps shared caches from storing a response that sets a cookie: "Cookie"
 * joins Vary, and no-cache="Set-Cookie" is set, or appended to a
 * Cache-Control that does not already keep the response out of shared
 * caches (no-store, or private or no-cache unqualified or naming
 * Set-Cookie).
 */
export function forSetCookie(h: HeaderSink): void {
  varyCookie(h);
  const directive = 'no-cache="Set-Cookie"';
  const cc = h.get("cache-control");
  if (cc === null) h.set("Cache-Control", directive);
  else if (!keepsCookieFromCaches(cc)) h.set("Cache-Control", `${cc}, ${directive}`);
}
