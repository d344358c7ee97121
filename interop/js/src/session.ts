// Sessions as Go's sealed.Manager keeps them (docs/FORMAT-middleware.md;
// Go: middleware.go, cookies.go, flash.go): read, change and write the
// session cookies of one request, with the Manager's rules: lazy load,
// write only on change, idle refresh, re-seal on a stale key, chunks and
// their cleanup, cookie attributes and cache headers.

import { fromHex, fromUtf8, randomBytes, toHex, utf8 } from "./bytes.js";
import { DEFAULT_MAX_DECOMPRESSED, encodedLen, open, seal, unixSeconds, type Time } from "./core.js";
import {
  carriedValue,
  carriesSession,
  checkAttributes,
  chunkedName,
  ChunkError,
  chunkName,
  chunkSize,
  forSetCookie,
  layout,
  MAX_CHUNKS,
  readCookies,
  setCookieLine,
  varyCookie,
  type CookieAttributes,
  type CookieSource,
  type HeaderSink,
  type SameSite,
} from "./cookies.js";
import { fail, SealedError, type OpenInfo } from "./errors.js";
import { KeyRing } from "./keyring.js";
import { encodePayload, MAX_SUBJECT_LEN, parsePayload, SESSION_ID_LEN } from "./payload.js";

/** How the session value becomes bytes and back. The default is JSON, as Go's sealed.JSON. */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  /** Throws for bytes that are not a T: the cookie is then malformed. */
  decode(bytes: Uint8Array): T;
}

/** JSON, as Go's default codec writes and reads it. */
export const jsonCodec: Codec<any> = {
  encode(value: unknown): Uint8Array {
    const s = JSON.stringify(value);
    if (s === undefined) throw new TypeError("the session value has no JSON encoding");
    return utf8(s);
  },
  decode(bytes: Uint8Array): unknown {
    // A number beyond float64 (1e400) is an error, as for Go's json.Unmarshal
    // into any, not Infinity.
    return JSON.parse(fromUtf8(bytes), (_key, v) => {
      if (typeof v === "number" && !Number.isFinite(v)) throw new RangeError("a number beyond float64");
      return v;
    });
  },
};

/**
 * The options of a Manager (Go's sealed.Options), durations in seconds.
 * Every default is Go's: cookie "session", Path "/", no Domain, SameSite
 * Lax, Secure, HttpOnly, a lifetime of 24 hours, no idle timeout, 4 chunks.
 */
export interface SessionOptions<T = any> {
  name?: string;
  path?: string;
  domain?: string;
  sameSite?: SameSite;
  /** Default true. false is Go's DisableSecure. */
  secure?: boolean;
  /** Default true. false is Go's DisableHTTPOnly. */
  httpOnly?: boolean;
  partitioned?: boolean;
  /** Omit Max-Age for sessions that did not choose with rememberMe. */
  browserSession?: boolean;
  /** Absolute lifetime in seconds; default 86400. */
  lifetime?: number;
  /** Idle timeout in seconds; default 0, none. */
  idleTimeout?: number;
  /** Seconds after the last seal when a read re-seals; default idleTimeout / 2. */
  idleRefresh?: number;
  /** Seconds a session stays valid past its deadline or idle timeout; default 0. */
  clockSkew?: number;
  /** The most cookies one session may use, 1 to 16; default 4. */
  chunkBudget?: number;
  /** The application the sessions belong to (docs/FORMAT.md, "Purpose"); default none. */
  purpose?: string;
  /** Compress payloads of at least this many bytes; default 0, never. */
  compressAbove?: number;
  /** The session's subject (its user), sealed with its ID; at most 255 bytes. */
  subject?: (value: T) => string;
  /** The value's codec; default JSON. */
  codec?: Codec<T>;
  /** The clock; default Date.now. */
  now?: () => Time;
  /** Receives the error of an invalid session cookie (the request goes on without a session). */
  onError?: (error: SealedError) => void;
}

/** A session as read from cookies: the payload, the decoded value, and how it opened. */
export interface SessionData<T = any> extends OpenInfo {
  issued: number;
  deadline: number;
  refreshed: number;
  /** 32 hex digits, or null for a cookie without an identity. */
  id: string | null;
  /** Unix milliseconds, or null. */
  minted: number | null;
  subject: string | null;
  persistent: boolean | null;
  flashes: string[];
  /** Whether a session value is present (false: flash messages only). */
  has: boolean;
  /** The decoded value, undefined without one. */
  value: T | undefined;
  /** The codec's bytes, null without a value. */
  valueBytes: Uint8Array | null;
}

/** Where a request's cookies can come from: a Request-like object ({headers}), Headers, a Cookie header, or cookies by name. */
export type RequestLike = { headers: { get(name: string): string | null } } | CookieSource;

function cookieSource(r: RequestLike): CookieSource {
  if (r !== null && typeof r === "object" && "headers" in r && r.headers && typeof (r.headers as { get?: unknown }).get === "function") {
    return (r.headers as { get(name: string): string | null }).get("cookie");
  }
  return r as CookieSource;
}

function isoTime(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? `${sec}` : d.toISOString();
}

// Milliseconds of a Time, as Go's UnixMilli; seconds are floor(ms / 1000).
function millis(t: Time): number {
  return t instanceof Date ? t.getTime() : Math.floor(Math.round(unixSeconds(t) * 1e6) / 1e3);
}

/**
 * Where a Sessions gets its keys: a KeyRing, or a function that returns the
 * current one (Go's sealed.KeySource), called on every open and seal, so a
 * server that reloads its key file hands the new ring over without building
 * a new Sessions.
 */
export type KeySource = KeyRing | (() => KeyRing);

/**
 * A Manager: the options and key ring that every request's Session uses.
 * Construct one per application, as Go's sealed.New; its checks are New's.
 */
export class Sessions<T = any> {
  readonly #keys: () => KeyRing;
  readonly attributes: Readonly<CookieAttributes>;
  readonly browserSession: boolean;
  readonly lifetime: number;
  readonly idleTimeout: number;
  readonly idleRefresh: number;
  readonly clockSkew: number;
  readonly chunkBudget: number;
  readonly chunkSize: number;
  readonly purpose: string;
  readonly compressAbove: number;
  readonly codec: Codec<T>;
  readonly subject?: (value: T) => string;
  readonly onError?: (error: SealedError) => void;
  readonly #now: () => Time;

  constructor(keys: KeySource, options: SessionOptions<T> = {}) {
    if (keys instanceof KeyRing) {
      const ring = keys;
      this.#keys = () => ring;
    } else if (typeof keys === "function") {
      this.#keys = () => {
        const ring = keys();
        if (!(ring instanceof KeyRing)) throw new TypeError("sealed: Sessions: the key source did not return a KeyRing");
        return ring;
      };
      this.#keys(); // fail now, not in a request
    } else {
      throw new TypeError("sealed: Sessions: want a KeyRing or a function returning one");
    }
    const o = options;
    const attrs: CookieAttributes = {
      name: o.name || "session",
      path: o.path || "/",
      domain: o.domain ?? "",
      sameSite: o.sameSite ?? "lax",
      secure: o.secure ?? true,
      httpOnly: o.httpOnly ?? true,
      partitioned: o.partitioned ?? false,
    };
    const lifetime = o.lifetime ?? 86400;
    const idle = o.idleTimeout ?? 0;
    const refresh = o.idleRefresh ?? idle / 2;
    const skew = o.clockSkew ?? 0;
    const budget = o.chunkBudget ?? 4;
    const purpose = o.purpose ?? "";
    const compressAbove = o.compressAbove ?? 0;
    if (!(lifetime >= 1)) throw new TypeError(`sealed: Sessions: lifetime ${lifetime}: must be at least 1 second`);
    if (!(idle >= 0) || (idle > 0 && idle < 1)) throw new TypeError(`sealed: Sessions: idleTimeout ${idle}: must be zero or at least 1 second`);
    if (!(refresh >= 0) || (idle > 0 && refresh > idle)) throw new TypeError(`sealed: Sessions: idleRefresh ${refresh}: must be between 0 and idleTimeout`);
    if (!(skew >= 0)) throw new TypeError(`sealed: Sessions: clockSkew ${skew}: must not be negative`);
    if (utf8(purpose).length > 255) throw new TypeError(`sealed: Sessions: purpose is ${utf8(purpose).length} bytes, limit 255`);
    if (!(compressAbove >= 0)) throw new TypeError(`sealed: Sessions: compressAbove ${compressAbove}: must not be negative`);
    if (!Number.isInteger(budget) || budget < 1 || budget > MAX_CHUNKS) throw new TypeError(`sealed: Sessions: chunkBudget ${budget}: must be 1 to ${MAX_CHUNKS}`);
    checkAttributes(attrs);
    this.attributes = Object.freeze(attrs);
    this.browserSession = o.browserSession ?? false;
    this.lifetime = Math.trunc(lifetime);
    this.idleTimeout = Math.trunc(idle);
    this.idleRefresh = Math.trunc(refresh);
    this.clockSkew = Math.trunc(skew);
    this.chunkBudget = budget;
    this.chunkSize = chunkSize(attrs, budget, this.lifetime);
    if (this.chunkSize < 1024) throw new TypeError(`sealed: Sessions: name, path and domain leave only ${this.chunkSize} bytes per cookie`);
    this.purpose = purpose;
    this.compressAbove = compressAbove;
    this.codec = o.codec ?? (jsonCodec as Codec<T>);
    this.subject = o.subject;
    this.onError = o.onError;
    this.#now = o.now ?? (() => Date.now() / 1000);
  }

  /** The current key ring: the KeyRing given, or what the key source returns now. */
  get ring(): KeyRing {
    return this.#keys();
  }

  /** The cookie name. */
  get name(): string {
    return this.attributes.name;
  }

  /** The longest sealed value the sessions open and write: budget × chunk size. */
  get maxLen(): number {
    return this.chunkBudget * this.chunkSize;
  }

  /** @internal */
  now(): Time {
    return this.#now();
  }

  /**
   * The session of one request, read from its cookies when first used:
   * a Request (or NextRequest), its Headers, a Cookie header string, or
   * cookies by name.
   */
  load(request: RequestLike): Session<T> {
    return new Session(this, cookieSource(request));
  }

  /**
   * Reads the session the cookies carry, without keeping state: null when
   * the request has no session cookie (or one whose payload holds neither a
   * value nor flash messages); a SealedError for an invalid one, of the
   * kind Go reports. A flash-only cookie gives has: false and the messages.
   */
  read(request: RequestLike, now?: Time): SessionData<T> | null {
    const c = readCookies(cookieSource(request), this.name);
    if (!carriesSession(c)) return null;
    const s = this.open(c, now ?? this.now());
    // A payload with neither a value nor flash messages means no session.
    return s.has || s.flashes.length > 0 ? s : null;
  }

  /** @internal Opens carried cookies as Go's Manager.openCookies, ParsePayload and checkExpiry do. */
  open(c: ReturnType<typeof readCookies>, nowTime: Time): SessionData<T> {
    let v;
    try {
      v = carriedValue(c, this.name, this.chunkBudget);
    } catch (e) {
      if (e instanceof ChunkError) fail(e.kind, e.message);
      throw e;
    }
    let opened;
    try {
      opened = open(this.ring, v.sealedFor, v.value, { now: nowTime, skew: this.clockSkew, maxLen: this.maxLen, purpose: this.purpose, maxDecompressed: DEFAULT_MAX_DECOMPRESSED });
    } catch (e) {
      if (e instanceof SealedError && v.missing !== null && (e.kind === "invalid" || e.kind === "malformed")) {
        fail("malformed", `chunk ${this.name}.${v.missing} missing: Cookie header truncated?`);
      }
      throw e;
    }
    const p = parsePayload(opened.plaintext);
    const now = Math.floor(millis(nowTime) / 1000);
    // now - skew >= deadline, now - skew - idle >= refreshed: never
    // deadline + skew or refreshed + idle, which overflow near 2^63.
    const graced = now - this.clockSkew;
    if (graced >= p.deadline) fail("expired", `absolute deadline ${isoTime(p.deadline)} passed`);
    if (this.idleTimeout > 0 && graced - this.idleTimeout >= p.refreshed) {
      fail("expired", `idle since ${isoTime(p.refreshed)}`);
    }
    let value: T | undefined;
    if (p.value !== null) {
      try {
        value = this.codec.decode(p.value);
      } catch {
        fail("malformed", "session does not decode as the codec's type");
      }
    }
    const { value: valueBytes, ...rest } = p;
    return { ...rest, has: p.value !== null, value, valueBytes, keyId: opened.keyId, expires: opened.expires, stale: opened.stale };
  }
}

/** What Session.commit wrote. */
export interface Committed {
  /** The Set-Cookie lines, in order: the session's cookies, then the expired ones. */
  setCookie: string[];
}

/**
 * One request's session, as Go's Manager holds it in the request context.
 * Nothing is read until first used; commit writes the cookies only if
 * something changed (or the session needs re-sealing).
 */
export class Session<T = any> {
  readonly #m: Sessions<T>;
  readonly #source: CookieSource;
  #loaded = false;
  #has = false;
  #dirty = false;
  #committed = false;
  #plain = false; // the request carried the unchunked cookie
  #chunks = new Set<number>(); // the chunk indices it carried
  #val: T | undefined = undefined;
  #issued = 0;
  #deadline = 0;
  #refreshed = 0;
  #opened: OpenInfo | null = null;
  #id: Uint8Array = new Uint8Array(SESSION_ID_LEN);
  #minted = 0;
  #subject = "";
  #chosen = false;
  #persist = false;
  #flashes: string[] = [];
  #error: SealedError | null = null;

  /** @internal Use Sessions.load. */
  constructor(m: Sessions<T>, source: CookieSource) {
    this.#m = m;
    this.#source = source;
  }

  #load(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    const c = readCookies(this.#source, this.#m.name);
    this.#plain = c.plain !== null;
    this.#chunks = new Set(c.chunks.keys());
    if (!carriesSession(c)) return;
    const nowTime = this.#m.now();
    let s: SessionData<T>;
    try {
      s = this.#m.open(c, nowTime);
    } catch (e) {
      if (!(e instanceof SealedError)) throw e;
      this.#dirty = true; // clear the bad cookies
      this.#error = e;
      this.#m.onError?.(e);
      return;
    }
    this.#has = s.has;
    this.#val = s.value;
    this.#flashes = s.flashes;
    this.#issued = s.issued;
    this.#deadline = s.deadline;
    this.#refreshed = s.refreshed;
    this.#opened = { keyId: s.keyId, expires: s.expires, stale: s.stale };
    this.#id = s.id === null ? new Uint8Array(SESSION_ID_LEN) : fromHex(s.id)!;
    this.#minted = s.minted ?? 0;
    this.#subject = s.subject ?? "";
    this.#chosen = s.persistent !== null;
    this.#persist = s.persistent === true;
    if (this.#has && s.id === null && this.#m.subject) this.#subject = this.#m.subject(this.#val as T); // sealed before identities
    const now = Math.floor(millis(nowTime) / 1000);
    const m = this.#m;
    if (s.stale || (m.idleTimeout > 0 && now - s.refreshed >= m.idleRefresh)) this.#dirty = true; // re-seal: primary key, or slide the idle window
  }

  /** Whether there is a session: false without a cookie, with an invalid one, or after destroy. */
  get has(): boolean {
    this.#load();
    return this.#has;
  }

  /** The session value, undefined without a session. */
  get value(): T | undefined {
    this.#load();
    return this.#has ? this.#val : undefined;
  }

  /** Why the request's session cookie was refused, or null. */
  get error(): SealedError | null {
    this.#load();
    return this.#error;
  }

  /** The session's times, identity and the cookie it came from; null without a session. */
  get info(): (Partial<OpenInfo> & { issued: number; deadline: number; refreshed: number; id: string; subject: string }) | null {
    this.#load();
    if (!this.#has) return null;
    return {
      ...(this.#opened ?? {}),
      issued: this.#issued,
      deadline: this.#deadline,
      refreshed: this.#refreshed,
      id: toHex(this.#id),
      subject: this.#subject,
    };
  }

  /** Whether commit would write cookies. */
  get dirty(): boolean {
    this.#load();
    return this.#dirty;
  }

  #modify(op: string, f: () => void): void {
    this.#load();
    if (this.#committed) throw new Error(`sealed: Session.${op} after commit: the change cannot be sent`);
    f();
    this.#dirty = true;
  }

  #start(now: number): void {
    if (!this.#has) {
      this.#renew(now);
      this.#has = true;
    }
  }

  #renew(nowMs: number): void {
    const now = Math.floor(nowMs / 1000);
    this.#issued = now;
    this.#deadline = now + this.#m.lifetime;
    this.#mint(nowMs);
  }

  #mint(nowMs: number): void {
    this.#id = randomBytes(SESSION_ID_LEN);
    this.#minted = nowMs;
  }

  /** Stores value as the session; an existing session keeps its deadline, otherwise one starts now. */
  put(value: T): void {
    this.#modify("put", () => {
      this.#start(millis(this.#m.now()));
      this.#val = value;
    });
  }

  /** Calls f with the session value (undefined without one, which starts a session) and stores what it returns, or the value if it returns undefined. */
  update(f: (value: T | undefined) => T | void): void {
    this.#modify("update", () => {
      const had = this.#has;
      this.#start(millis(this.#m.now()));
      const cur = had ? this.#val : undefined;
      const next = f(cur);
      this.#val = next === undefined ? cur : next;
    });
  }

  /** Ends the session: the response expires every session cookie the request carried. Pending flash messages go too. */
  destroy(): void {
    this.#modify("destroy", () => {
      this.#val = undefined;
      this.#has = false;
      this.#flashes = [];
      this.#issued = 0;
      this.#deadline = 0;
    });
  }

  /** Re-issues the session as new: a new issue time, deadline and ID. Without a session it does nothing. */
  renew(): void {
    this.#modify("renew", () => {
      if (this.#has) this.#renew(millis(this.#m.now()));
    });
  }

  /** Chooses whether this session's cookie persists (Max-Age) or lasts until the browser closes. */
  rememberMe(remember: boolean): void {
    this.#modify("rememberMe", () => {
      if (this.#has) [this.#chosen, this.#persist] = [true, remember];
    });
  }

  /** Adds a flash message, shown once by the request that takes it. */
  flash(message: string): void {
    this.#modify("flash", () => {
      this.#flashes.push(fromUtf8(utf8(message))); // as Go's ToValidUTF8
    });
  }

  /** Returns the flash messages and removes them from the session. */
  takeFlashes(): string[] {
    this.#load();
    const msgs = this.#flashes;
    if (msgs.length > 0) {
      if (this.#committed) throw new Error("sealed: Session.takeFlashes after commit: the change cannot be sent");
      this.#flashes = [];
      this.#dirty = true;
    }
    return msgs;
  }

  /** The flash messages, left in place. */
  get flashes(): readonly string[] {
    this.#load();
    return this.#flashes;
  }

  /**
   * Writes the session's cookies, once, if anything changed: into headers
   * when given (Set-Cookie lines appended, Vary and Cache-Control as Go's
   * Manager sets them), and returns the Set-Cookie lines. Throws a
   * SealedError "too_large" for a session over the chunk budget, writing
   * nothing, so that the client keeps its previous cookies.
   */
  commit(headers?: HeaderSink): Committed {
    if (this.#committed) return { setCookie: [] };
    const lines = this.#dirty ? this.#write() : [];
    this.#committed = true;
    if (headers) {
      for (const l of lines) headers.append("Set-Cookie", l);
      if (lines.length > 0) forSetCookie(headers);
      else if (this.#loaded) varyCookie(headers);
    }
    return { setCookie: lines };
  }

  // Go's Manager.write.
  #write(): string[] {
    const m = this.#m;
    const nowMs = millis(m.now());
    const now = Math.floor(nowMs / 1000);
    let live = this.#has || this.#flashes.length > 0;
    if (live && this.#issued === 0) this.#renew(nowMs); // flash messages without a session
    let exp = this.#deadline;
    if (m.idleTimeout > 0) exp = Math.min(exp, now + m.idleTimeout);
    live = live && exp > now;
    const set: string[] = [];
    let n = 0;
    if (live) {
      let valueBytes: Uint8Array | null = null;
      if (this.#has) {
        if (m.subject) this.#subject = m.subject(this.#val as T);
        if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(this.#subject)) {
          throw new TypeError(`sealed: session cookie ${JSON.stringify(m.name)}: subject is not valid UTF-8 (a lone surrogate)`);
        }
        if (utf8(this.#subject).length > MAX_SUBJECT_LEN) {
          throw new TypeError(`sealed: session cookie ${JSON.stringify(m.name)}: subject is ${utf8(this.#subject).length} bytes, limit ${MAX_SUBJECT_LEN}`);
        }
        if (this.#id.every((b) => b === 0)) this.#mint(this.#issued * 1000); // sealed before IDs existed
        try {
          valueBytes = m.codec.encode(this.#val as T);
        } catch (e) {
          throw new TypeError(`sealed: session cookie ${JSON.stringify(m.name)}: session does not encode (${(e as Error).message})`);
        }
      }
      const payload = encodePayload({
        issued: this.#issued,
        deadline: this.#deadline,
        refreshed: now,
        flashes: this.#flashes,
        id: this.#has ? this.#id : null,
        minted: this.#minted,
        subject: this.#subject,
        persistent: this.#has && this.#chosen ? this.#persist : null,
        value: valueBytes,
      });
      const { value, chunks, size } = this.#seal(payload, exp);
      n = chunks;
      const maxAge = this.#persistent() ? exp - now : 0;
      if (n === 0) set.push(setCookieLine(m.attributes, m.name, value, maxAge));
      for (let i = 0; i < n; i++) set.push(setCookieLine(m.attributes, chunkName(m.name, i), value.slice(i * size, (i + 1) * size), maxAge));
    }
    if (this.#plain && (!live || n > 0)) set.push(setCookieLine(m.attributes, m.name, "", -1));
    for (const i of [...this.#chunks].sort((a, b) => a - b)) {
      if (!live || i >= n) set.push(setCookieLine(m.attributes, chunkName(m.name, i), "", -1));
    }
    // The response now carries exactly the cookies written.
    this.#plain = live && n === 0;
    this.#chunks = new Set(live ? Array.from({ length: n }, (_, i) => i) : []);
    if (live) this.#refreshed = now;
    return set;
  }

  #persistent(): boolean {
    return this.#chosen ? this.#persist : !this.#m.browserSession;
  }

  // Go's Manager.seal: the chunk count is part of the sealed name, so it is
  // predicted from the payload's length and checked on the sealed value
  // (compression makes the length known only after sealing).
  #seal(payload: Uint8Array, exp: number): { value: string; chunks: number; size: number } {
    const m = this.#m;
    const ring = m.ring; // one ring for the prediction and the seals, whatever the key source does meanwhile
    const overBudget = (total: number) =>
      fail(
        "too_large",
        `session cookie ${JSON.stringify(m.name)}: ${payload.length} bytes of session data seal to ${total} characters, over the budget of ${m.chunkBudget} ${m.chunkBudget === 1 ? "cookie" : "cookies"} of ${m.chunkSize}`,
      );
    let n = 0;
    if (m.compressAbove <= 0 || payload.length < m.compressAbove) {
      const total = encodedLen(payload.length, ring.primary.version);
      const l = layout(total, m.chunkSize);
      if (l.n > m.chunkBudget) overBudget(total);
      n = l.n;
    }
    for (let attempt = 0; attempt < 2; attempt++) {
      const value = seal(ring, n > 0 ? chunkedName(m.name, n) : m.name, payload, {
        expires: exp,
        maxLen: m.maxLen,
        purpose: m.purpose,
        compressAbove: m.compressAbove,
      });
      const l = layout(value.length, m.chunkSize);
      if (l.n > m.chunkBudget) overBudget(value.length);
      if (l.n === n) return { value, chunks: n, size: l.size };
      n = l.n;
    }
    throw new Error("sealed: the sealed length changed between seals"); // cannot happen
  }
}
