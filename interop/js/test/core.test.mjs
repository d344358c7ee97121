// seal and open: round trips, the checks of docs/FORMAT.md, and the
// corruption classes (interop/interop_test.go's TestErrorClassesAgree
// compares them with Go through the driver).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyRing, SealedError, encodedLen, isSealedError, open, seal } from "../dist/index.js";
import { classOf, secret, text } from "./helpers.mjs";

const xc = KeyRing.parse(`new:${secret(1)},old:${secret(2)}`);
const gcm = KeyRing.parse(`g2:${secret(3)}:aes256gcm,g1:${secret(4)}:aes256gcm`);
const now = 1763726400, expires = now + 3600;

test("round trips: both suites, every length up to the limit, names and purposes", () => {
  for (const ring of [xc, gcm]) {
    const version = ring.primary.version;
    const longest = version === 1 ? 2946 : 2942;
    for (const n of [0, 1, 2, 3, 47, 48, 1000, longest]) {
      const p = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
      const v = seal(ring, "session", p, { expires });
      assert.equal(v.length, encodedLen(n, version));
      const got = open(ring, "session", v, { now });
      assert.deepEqual(got.plaintext, p);
      assert.deepEqual({ keyId: got.keyId, expires: got.expires, stale: got.stale }, { keyId: ring.ids[0], expires, stale: false });
    }
    assert.equal(classOf(() => seal(ring, "session", new Uint8Array(longest + 1), { expires })), "too_large");
    for (const [name, purpose] of [["", ""], ["__Host-s", ""], ["naïve", "billing"], ["s", "ü".repeat(127)]]) {
      const v = seal(ring, name, "x", { expires, purpose });
      assert.equal(new TextDecoder().decode(open(ring, name, v, { now, purpose }).plaintext), "x");
      assert.equal(classOf(() => open(ring, name + "x", v, { now, purpose })), "invalid");
      assert.equal(classOf(() => open(ring, name, v, { now, purpose: purpose + "x" })), "invalid");
    }
  }
});

test("a previous key opens stale; a retired one is unknown", () => {
  const oldOnly = KeyRing.parse(`old:${secret(2)}`);
  const v = seal(oldOnly, "s", "x", { expires });
  assert.equal(open(xc, "s", v, { now }).stale, true);
  assert.equal(classOf(() => open(KeyRing.parse(`new:${secret(1)}`), "s", v, { now })), "unknown_key");
  assert.equal(classOf(() => open(KeyRing.parse(`old:${secret(9)}`), "s", v, { now })), "invalid");
});

test("expiry: valid strictly before its second, skew, Dates, info on expired", () => {
  const v = seal(xc, "s", "x", { expires: new Date(expires * 1000 + 999) });
  assert.equal(open(xc, "s", v, { now: expires - 0.001 }).expires, expires);
  assert.equal(classOf(() => open(xc, "s", v, { now: expires })), "expired");
  assert.equal(open(xc, "s", v, { now: expires + 29.9, skew: 30 }).keyId, "new");
  assert.equal(classOf(() => open(xc, "s", v, { now: new Date((expires + 30) * 1000), skew: 30 })), "expired");
  try {
    open(xc, "s", v, { now: expires });
    assert.fail();
  } catch (e) {
    assert.ok(e instanceof SealedError && isSealedError(e, "expired"));
    assert.equal(e.code, "expired"); // the former name
    assert.deepEqual(e.info, { keyId: "new", expires, stale: false });
  }
  // An expiry near 2^63 does not wrap into the past.
  const far = seal(xc, "s", "x", { expires: Number.MAX_SAFE_INTEGER });
  assert.equal(open(xc, "s", far, { now, skew: 1e6 }).expires, Number.MAX_SAFE_INTEGER);
});

test("compression: only when shorter, any setting opens it, bounded", () => {
  const cart = text(JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ sku: "A-1", qty: i % 3 }))));
  const z = seal(xc, "s", cart, { expires, compressAbove: 1 });
  assert.ok(z.length < encodedLen(cart.length) / 2);
  assert.deepEqual(open(xc, "s", z, { now }).plaintext, cart);
  assert.equal(classOf(() => open(xc, "s", z, { now, maxDecompressed: cart.length - 1 })), "too_large");
  const noise = Uint8Array.from({ length: 100 }, (_, i) => (i * 131 + 7) % 251);
  assert.equal(seal(xc, "s", noise, { expires, compressAbove: 1 }).length, encodedLen(100), "incompressible: sealed as it is");
});

test("the order of the checks: purpose, length, base64url, version, flags, key, name", () => {
  const v = seal(xc, "s", "x", { expires });
  assert.equal(classOf(() => open(xc, "s", "!".repeat(5000), { now, purpose: "p".repeat(256) })), "invalid");
  assert.equal(classOf(() => open(xc, "s", "!".repeat(4001), { now })), "too_large");
  assert.equal(classOf(() => open(xc, "s", v, { now, maxLen: v.length - 1 })), "too_large");
  assert.equal(classOf(() => open(xc, "s", "é".repeat(2001), { now })), "too_large", "bytes, not characters");
  assert.equal(classOf(() => open(xc, "s", v.slice(0, 71), { now })), "malformed");
  for (const bad of [v + "=", v.replace(/.$/, "+"), v.slice(0, 40) + "\n" + v.slice(41), " " + v.slice(1)]) assert.equal(classOf(() => open(xc, "s", bad, { now })), "malformed");
  assert.equal(classOf(() => open(xc, "s\0", v, { now })), "invalid");
  assert.throws(() => seal(xc, "s\0", "x", { expires }), TypeError);
  assert.throws(() => seal(xc, "s", "x", { expires, purpose: "p".repeat(256) }), TypeError);
  assert.throws(() => seal(xc, "s", "x", {}), TypeError);
  assert.throws(() => open("k1:x", "s", v), TypeError);
});

test("corruptions of every character: only SealedErrors, never a success", () => {
  for (const ring of [xc, gcm]) {
    const v = seal(ring, "session", '{"user":"alice","n":1}', { expires });
    const counts = {};
    for (let i = 0; i < v.length; i++) {
      for (const c of ["A", "B", "_", "-", "=", "+", "/", " ", "\n", "\0"]) {
        if (v[i] === c) continue;
        const k = classOf(() => open(ring, "session", v.slice(0, i) + c + v.slice(i + 1), { now }));
        assert.notEqual(k, "", `replacing character ${i} with ${JSON.stringify(c)} opened`);
        counts[k] = (counts[k] ?? 0) + 1;
      }
    }
    for (let n = 1; n <= 6; n++) {
      assert.notEqual(classOf(() => open(ring, "session", v.slice(0, -n), { now })), "");
      assert.notEqual(classOf(() => open(ring, "session", v + "A".repeat(n), { now })), "");
    }
    assert.ok(counts.malformed > 0 && counts.invalid > 0, JSON.stringify(counts));
  }
});
