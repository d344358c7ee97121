// Sessions and Session: the rules of Go's Manager (docs/FORMAT-middleware.md).
// interop/js_session_test.go checks what they write against the Go Manager.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KeyRing, Sessions, chunkSize, encodePayload, forSetCookie, layout, parsePayload, readCookies, carriedValue, setCookieLine,
} from "../dist/index.js";
import { classOf, secret } from "./helpers.mjs";

const ring = KeyRing.parse(`k2:${secret(1)},k1:${secret(2)}`);
let clock = 1763726400;
const make = (opts = {}) => new Sessions(ring, { now: () => clock, ...opts });

// The cookies a browser keeps after Set-Cookie lines: name -> value.
function apply(jar, lines) {
  const next = { ...jar };
  for (const l of lines) {
    const [nv] = l.split("; ");
    const [n, v] = [nv.slice(0, nv.indexOf("=")), nv.slice(nv.indexOf("=") + 1)];
    if (/Max-Age=0(;|$)/.test(l)) delete next[n];
    else next[n] = v;
  }
  return next;
}
const header = (jar) => Object.entries(jar).map(([n, v]) => `${n}=${v}`).join("; ");

test("defaults: chunk size 4031, the Set-Cookie line Go writes", () => {
  const m = make();
  assert.equal(m.chunkSize, 4031);
  assert.equal(m.maxLen, 4 * 4031);
  assert.equal(setCookieLine(m.attributes, "session.3", "", 86400), "session.3=; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax");
  const odd = { name: "__Host-s", path: "/", domain: "", sameSite: "none", secure: true, httpOnly: false, partitioned: true };
  assert.equal(setCookieLine(odd, "__Host-s", "v", -1), "__Host-s=v; Path=/; Max-Age=0; Secure; SameSite=None; Partitioned");
  assert.equal(chunkSize({ ...odd, name: "s", domain: ".example.com", sameSite: "default" }, 16, 3600),
    4096 - "s.15=; Path=/; Domain=example.com; Max-Age=3600; Secure; Partitioned".length);
});

test("options are checked as Go's New checks them", () => {
  for (const bad of [{ name: "a b" }, { name: "s#1" }, { name: "__Host-s", path: "/x" }, { name: "__Secure-s", secure: false }, { partitioned: true, secure: false },
    { sameSite: "none", secure: false }, { lifetime: 0.5 }, { idleTimeout: -1 }, { idleTimeout: 10, idleRefresh: 11 }, { chunkBudget: 17 }, { clockSkew: -1 },
    { purpose: "p".repeat(256) }, { domain: "bad_domain" }, { path: "/a;b" }, { name: "__Http-s", httpOnly: false }]) {
    assert.throws(() => make(bad), TypeError, JSON.stringify(bad));
  }
});

test("a new session: one cookie, Max-Age, cache headers; unchanged: nothing but Vary", () => {
  const m = make({ subject: (v) => v.user });
  const s = m.load("");
  assert.equal(s.has, false);
  s.put({ user: "alice" });
  s.flash("Welcome!");
  const h = new Headers({ "Cache-Control": "max-age=60" });
  const { setCookie } = s.commit(h);
  assert.equal(setCookie.length, 1);
  assert.match(setCookie[0], /^session=[A-Za-z0-9_-]+; Path=\/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax$/);
  assert.equal(h.get("vary"), "Cookie");
  assert.equal(h.get("cache-control"), 'max-age=60, no-cache="Set-Cookie"');
  const jar = apply({}, setCookie);
  const read = m.read(header(jar));
  assert.deepEqual(read.value, { user: "alice" });
  assert.deepEqual(read.flashes, ["Welcome!"]);
  assert.equal(read.subject, "alice");
  assert.equal(read.minted, clock * 1000);
  assert.equal(read.deadline, clock + 86400);
  const again = m.load(header(jar));
  assert.deepEqual(again.value, { user: "alice" });
  const h2 = new Headers({ "Cache-Control": "private" });
  assert.deepEqual(again.commit(h2).setCookie, []);
  assert.equal(h2.get("vary"), "Cookie");
  assert.equal(h2.get("cache-control"), "private");
});

test("chunks: written as Go splits them, read back, cleaned up when the session shrinks or ends", () => {
  const m = make();
  const s = m.load(null);
  s.put({ blob: "x".repeat(6000).replace(/x/g, (_, i) => "abcdefghij"[(i * 7) % 10]) });
  const lines = s.commit().setCookie;
  assert.deepEqual(lines.map((l) => l.split("=")[0]), ["session.0", "session.1", "session.2"]);
  let jar = apply({}, lines);
  const total = jar["session.0"].length + jar["session.1"].length + jar["session.2"].length;
  const { n, size } = layout(total, 4031);
  assert.equal(n, 3);
  assert.equal(jar["session.0"].length, size);
  assert.equal(carriedValue(readCookies(header(jar), "session"), "session", 4).sealedFor, "session#3");
  assert.equal(m.read(header(jar)).value.blob.length, 6000);
  // Shrink: one cookie, the chunks expired.
  const small = m.load(header(jar));
  small.put({ blob: "" });
  const shrink = small.commit().setCookie;
  assert.deepEqual(shrink.map((l) => l.split(";")[0].split("=")[0] + (/Max-Age=0/.test(l) ? " (expired)" : "")),
    ["session", "session.0 (expired)", "session.1 (expired)", "session.2 (expired)"]);
  jar = apply(jar, shrink);
  assert.deepEqual(Object.keys(jar), ["session"]);
  // Destroy: every carried cookie expired, a leftover chunk too.
  jar["session.5"] = "leftover";
  const d = m.load(header(jar));
  d.destroy();
  assert.equal(d.has, false);
  const gone = d.commit().setCookie;
  assert.ok(gone.every((l) => /; Max-Age=0;/.test(l)));
  assert.deepEqual(gone.map((l) => l.split("=")[0]), ["session", "session.5"]);
});

test("too large: nothing written, the client keeps its cookies", () => {
  const m = make({ chunkBudget: 1 });
  const s = m.load("");
  s.put({ blob: "y".repeat(5000) });
  assert.equal(classOf(() => s.commit(new Headers())), "too_large");
});

test("idle timeout: re-sealed after idleRefresh, expired after idleTimeout", () => {
  clock = 1763726400;
  const m = make({ idleTimeout: 60 });
  const s = m.load("");
  s.put({ n: 1 });
  const lines = s.commit().setCookie;
  assert.match(lines[0], /Max-Age=60;/);
  const jar = apply({}, lines);
  clock += 10;
  assert.deepEqual(m.load(header(jar)).commit().setCookie, [], "before idleRefresh (30 s): nothing");
  clock += 25;
  const refreshed = m.load(header(jar));
  assert.equal(refreshed.dirty, true);
  const l2 = refreshed.commit().setCookie;
  assert.equal(l2.length, 1);
  assert.equal(m.read(header(apply(jar, l2))).refreshed, clock);
  clock += 61;
  const late = m.load(header(jar));
  assert.equal(late.has, false);
  assert.equal(late.error.kind, "expired");
  assert.match(late.commit().setCookie[0], /^session=; Path=\/; Max-Age=0;/);
  clock = 1763726400;
});

test("a cookie sealed with a previous key is re-sealed with the primary", () => {
  const old = new Sessions(KeyRing.parse(`k1:${secret(2)}`), { now: () => clock });
  const s = old.load("");
  s.put({ n: 1 });
  const jar = apply({}, s.commit().setCookie);
  const m = make();
  const st = m.load(header(jar));
  assert.equal(st.info.stale, true);
  const lines = st.commit().setCookie;
  assert.equal(lines.length, 1);
  const again = m.read(header(apply(jar, lines)));
  assert.equal(again.keyId, "k2");
  assert.equal(again.stale, false);
});

test("a key source: the ring it returns now opens and seals, as a reloaded key file would", () => {
  let current = KeyRing.parse(`k1:${secret(2)}`);
  const m = new Sessions(() => current, { now: () => clock });
  const s = m.load("");
  s.put({ n: 1 });
  const jar = apply({}, s.commit().setCookie);
  assert.equal(m.read(header(jar)).keyId, "k1");
  current = KeyRing.parse(`k2:${secret(3)},k1:${secret(2)}`); // a new primary, the old key kept
  assert.deepEqual(m.ring.ids, ["k2", "k1"]);
  const st = m.load(header(jar));
  assert.equal(st.info.stale, true);
  const again = m.read(header(apply(jar, st.commit().setCookie)));
  assert.equal(again.keyId, "k2");
  assert.throws(() => new Sessions(() => "not a ring"), /did not return a KeyRing/);
  assert.throws(() => new Sessions("k1:x"), /want a KeyRing or a function/);
});

test("flash messages without a session; taking them; rememberMe; browserSession", () => {
  const m = make();
  const f = m.load("");
  f.flash("Signed out.");
  let jar = apply({}, f.commit().setCookie);
  const r = m.read(header(jar));
  assert.equal(r.has, false);
  assert.equal(r.id, null);
  assert.deepEqual(r.flashes, ["Signed out."]);
  const t = m.load(header(jar));
  assert.deepEqual(t.takeFlashes(), ["Signed out."]);
  const l = t.commit().setCookie;
  assert.match(l[0], /^session=; .*Max-Age=0/, "nothing left: the cookie is expired");
  const s = m.load("");
  s.put({ u: 1 });
  s.rememberMe(false);
  const line = s.commit().setCookie[0];
  assert.doesNotMatch(line, /Max-Age/);
  jar = apply({}, [line]);
  assert.equal(m.read(header(jar)).persistent, false);
  const b = make({ browserSession: true }).load("");
  b.put({ u: 1 });
  assert.doesNotMatch(b.commit().setCookie[0], /Max-Age/);
  assert.throws(() => b.put({ u: 2 }), /after commit/);
});

test("renew: a new ID and deadline; an invalid cookie is no session and is cleared", () => {
  const m = make();
  const s = m.load("");
  s.put({ u: 1 });
  const jar = apply({}, s.commit().setCookie);
  const before = m.read(header(jar));
  clock += 100;
  const r = m.load(header(jar));
  r.renew();
  const after = m.read(header(apply(jar, r.commit().setCookie)));
  assert.notEqual(after.id, before.id);
  assert.equal(after.deadline, before.deadline + 100);
  clock -= 100;
  const bad = m.load(`session=${jar.session.slice(0, -2)}AA; other=1`);
  assert.equal(bad.has, false);
  assert.equal(bad.error.kind, "invalid");
  assert.match(bad.commit().setCookie[0], /^session=; Path=\/; Max-Age=0/);
});

test("payload: encode and parse round trip; Go's rejections", () => {
  for (const p of [
    { issued: 1, deadline: 2, refreshed: 3 },
    { issued: -5, deadline: 2 ** 40, refreshed: 7, value: new TextEncoder().encode('{"user":"a"}') },
    { issued: 1, deadline: 2, refreshed: 3, flashes: ["Saved.", "", "x".repeat(300)], value: new Uint8Array(0) },
    { issued: 1, deadline: 2, refreshed: 3, id: "0102030000000000000000000000000f", minted: 1700000000123, subject: "user-42", value: new Uint8Array([0x7b, 0x7d]) },
    { issued: 1, deadline: 2, refreshed: 3, persistent: true, value: new Uint8Array([0x31]) },
    { issued: 1, deadline: 2, refreshed: 3, persistent: false, value: new Uint8Array([0x31]) },
  ]) {
    const got = parsePayload(encodePayload(p));
    assert.equal(got.issued, p.issued);
    assert.equal(got.deadline, p.deadline);
    assert.deepEqual(got.flashes, p.flashes ?? []);
    assert.equal(got.id, p.id ?? null);
    assert.equal(got.subject, p.id ? p.subject : null);
    assert.equal(got.persistent, p.persistent ?? null);
    assert.deepEqual(got.value, p.value ?? null);
    assert.deepEqual(encodePayload({ ...got, flashes: got.flashes }), encodePayload(p));
  }
  const good = encodePayload({ issued: 0, deadline: 0, refreshed: 0, flashes: ["ab"] });
  for (const [name, b] of [
    ["empty", new Uint8Array(0)], ["short", good.subarray(0, 26)], ["version 2", Uint8Array.of(2, ...good.subarray(1))],
    ["unknown flag", Uint8Array.of(1, 16, ...good.subarray(2))], ["persistent without persistence", Uint8Array.of(1, 8, ...good.subarray(2))],
    ["identity flag, no identity", Uint8Array.of(1, 2, ...good.subarray(2))], ["count past end", Uint8Array.of(...good.subarray(0, 26), 9)],
    ["count overlong", Uint8Array.of(...good.subarray(0, 26), 0xff)], ["non-minimal count", Uint8Array.of(...good.subarray(0, 26), 0x80, 0x00)],
    ["flash past end", good.subarray(0, good.length - 1)], ["trailing without value", Uint8Array.of(...good, 0x78)],
    ["flash not UTF-8", Uint8Array.of(...good.subarray(0, 26), 1, 1, 0xff)],
  ]) {
    assert.equal(classOf(() => parsePayload(b)), "malformed", name);
  }
});

test("the JSON codec refuses numbers beyond float64, as Go's json.Unmarshal into any", async () => {
  const { jsonCodec } = await import("../dist/index.js");
  assert.deepEqual(jsonCodec.decode(new TextEncoder().encode('{"n":1.5e308}')), { n: 1.5e308 });
  assert.throws(() => jsonCodec.decode(new TextEncoder().encode('{"n":1e400}')));
  assert.throws(() => jsonCodec.decode(new TextEncoder().encode('{"a":1} x')));
});

test("layout and reading cookies as Go does", () => {
  for (const [total, chunk, n, size] of [[100, 100, 0, 100], [101, 100, 2, 100], [199, 100, 2, 100], [200, 100, 3, 99], [250, 100, 3, 100], [400, 100, 5, 99]]) {
    assert.deepEqual(layout(total, chunk), { n, size });
  }
  let c = readCookies(['other=1; s.1="bbb"; s.0=aaa', "s.2=c; s.1=zzz; s.01=x; s.x=y; s.64=q; s.63=q"], "s");
  assert.equal(c.plain, null);
  assert.deepEqual([...c.chunks.keys()].sort((a, b) => a - b), [0, 1, 2, 63]);
  assert.deepEqual(carriedValue(c, "s", 4), { value: "aaabbbc", sealedFor: "s#3", chunks: 3, missing: null });
  c = readCookies("s.0=aa; s.1=bb; s.3=cc", "s");
  assert.equal(carriedValue(c, "s", 4).missing, 2);
  assert.throws(() => carriedValue(readCookies("s.1=bb", "s"), "s", 4), /chunk s.0 missing: Cookie header truncated\?/);
  assert.throws(() => carriedValue(readCookies("s.0=a; s.1=b; s.2=c", "s"), "s", 2), (e) => e.kind === "too_large");
  assert.deepEqual(carriedValue(readCookies("s=plain; s=second; s.0=a", "s"), "s", 4), { value: "plain", sealedFor: "s", chunks: 0, missing: null });
  assert.equal(readCookies(new Headers({ cookie: "s=1" }), "s").plain, "1");
});

test("cache headers as Go's cacheheader writes them", () => {
  for (const [cc, want] of [
    [null, 'no-cache="Set-Cookie"'], ["no-store", "no-store"], ["private", "private"], ['no-cache="Set-Cookie, X"', 'no-cache="Set-Cookie, X"'],
    ['private="X-Debug"', 'private="X-Debug", no-cache="Set-Cookie"'], ["max-age=0, NO-CACHE", "max-age=0, NO-CACHE"], ['x="unterminated, no-store', 'x="unterminated, no-store, no-cache="Set-Cookie"'],
  ]) {
    const h = new Headers(cc === null ? {} : { "cache-control": cc });
    h.set("vary", "Accept-Encoding");
    forSetCookie(h);
    assert.equal(h.get("cache-control"), want, String(cc));
    assert.equal(h.get("vary"), "Accept-Encoding, Cookie");
  }
});
