// KeyRing: the text form, JWKS, and secrets kept out of sight.
// interop/js_keyring_test.go checks both forms against Go's parsers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { KeyRing, KeyRingError, Sessions, keyIdentifier, open, seal } from "../dist/index.js";
import { secret } from "./helpers.mjs";

const s1 = secret(1), s2 = secret(2);

test("parse: the environment form, primary first, suites", () => {
  const r = KeyRing.parse(` k2:${s2}:aes256gcm , k1:${s1} `);
  assert.deepEqual(r.ids, ["k2", "k1"]);
  assert.deepEqual(r.toJSON(), [{ id: "k2", suite: "aes256gcm" }, { id: "k1", suite: "xchacha20poly1305" }]);
  assert.equal(r.primary.version, 2);
  assert.deepEqual([...keyIdentifier("k1")], [0x6a, 0xb9, 0xf1, 0xeb]); // docs/FORMAT.md's example
});

test("parse: trims Go's whitespace (unicode.IsSpace), not String.trim's", () => {
  for (const text of [`k1:${s1}\u0085`, `\u0085k1:${s1}`, `\u00a0k1:${s1}\u2003`, `k1:${s1}\u0085,\u3000k2:${s2}`]) {
    assert.deepEqual(KeyRing.parse(text).ids.slice(0, 1), ["k1"], JSON.stringify(text));
  }
  for (const text of [`\ufeffk1:${s1}`, `k1:${s1}\ufeff`, `k1:${s1},\ufeffk2:${s2}`, `k1:${s1}\x1c`, `\u200bk1:${s1}`]) {
    assert.throws(() => KeyRing.parse(text), KeyRingError, JSON.stringify(text));
  }
});

test("parse: errors name the entry, never the ID or the secret", () => {
  for (const [text, want] of [
    ["", /empty/],
    [`k1`, /entry 1: want id:base64url-secret/],
    [`k1:${s1},k1:${s2}`, /entry 2: same ID as 1/],
    [`k1:${s1}:aes128gcm`, /unknown suite/],
    [`k1:${s1.slice(0, 40)}`, /entry 1: the secret/],
    [`bad id:${s1}`, /entry 1: the ID must be/],
  ]) {
    assert.throws(() => KeyRing.parse(text), (e) => e instanceof KeyRingError && want.test(e.message) && !e.message.includes(s1.slice(0, 10)) && !e.message.includes("bad id"));
  }
});

test("fromJwks: suites by alg, case-sensitive members, whole-set rejection", () => {
  const r = KeyRing.fromJwks(JSON.stringify({ keys: [
    { kty: "oct", kid: "a", alg: "A256GCM", use: "enc", k: s1 },
    { kty: "oct", kid: "b", alg: "XC20P", k: s2 },
    { kty: "oct", kid: "c", alg: "dir", k: secret(3) },
    { kty: "oct", kid: "d", KID: "ignored", ALG: "A256GCM", k: secret(4) },
  ] }));
  assert.deepEqual(r.toJSON().map((k) => k.suite), ["aes256gcm", "xchacha20poly1305", "xchacha20poly1305", "xchacha20poly1305"]);
  assert.deepEqual(r.toJSON().map((k) => k.id), ["a", "b", "c", "d"]);
  assert.throws(() => KeyRing.fromJwks(JSON.stringify({ keys: [{ KTY: "oct", kid: "d", k: s1 }] })), /missing "kty"/);
  // A repeated member counts with its last value, as in Go's jwks.Parse.
  assert.equal(KeyRing.fromJwks(`{"keys":[{"kty":"oct","kid":"first","k":"${s1}","kid":"second"}]}`).toJSON()[0].id, "second");
  assert.throws(() => KeyRing.fromJwks(`{"keys":[{"kty":"oct","kid":"k1","k":"${s1}"},{"kty":"oct","kid":"k2","k":"${s1}","alg":"RS256"}]}`), /jwks: key 2: unsupported "alg"/);
  assert.throws(() => KeyRing.fromJwks(`{"keys":[{"kty":"oct","kid":"k1","k":"${s1}"`), (e) => e.message === "jwks: not valid JSON");
  assert.throws(() => KeyRing.fromJwks(`{"keys":[{"kty":"oct","kid":"${s1}","k":"k1"}]}`), (e) => !e.message.includes(s1) && /key 1/.test(e.message));
  assert.throws(() => KeyRing.fromJwks(" ".repeat(1 << 20) + "{}"), /limit/);
});

test("no rendering of a ring, its keys or a Sessions shows a secret", () => {
  // Bytes 1..32 in an unusual order, and their text forms: any of them in
  // a rendering is a leak.
  const bytes = Uint8Array.from({ length: 32 }, (_, i) => ((i * 13) % 32) + 100);
  const forms = [
    Buffer.from(bytes).toString("base64url"),
    Buffer.from(bytes).toString("base64"),
    Buffer.from(bytes).toString("hex"),
    [...bytes].join(","), // inspect's and String's list, once spaces are gone
    [...bytes].map((b, i) => `"${i}":${b}`).join(","), // JSON.stringify of a Uint8Array
  ];
  const leaks = (shown) => {
    const flat = String(shown).replace(/\s+/g, "");
    return forms.some((f) => flat.includes(f.slice(0, 24)));
  };
  // The detector finds the secret wherever a careless key would show it.
  for (const careless of [{ secret: bytes }, Object.defineProperty({}, "secret", { value: bytes, enumerable: false })]) {
    assert.ok(leaks(inspect(careless, { showHidden: true, depth: Infinity })));
  }
  assert.ok(leaks(JSON.stringify({ secret: bytes })) && leaks(String(bytes)) && leaks(forms[0]));

  const r = KeyRing.of([{ id: "k1", secret: bytes }, { id: "k2", secret: forms[0], suite: "aes256gcm" }]);
  const sessions = new Sessions(r), dynamic = new Sessions(() => r);
  for (const x of [r, r.keys, r.primary, r.keys[1], sessions, dynamic]) {
    const shown = [String(x), JSON.stringify(x), inspect(x), inspect(x, { depth: Infinity }), inspect(x, { showHidden: true, depth: Infinity })];
    for (const k of Array.isArray(x) ? x : [x]) shown.push(JSON.stringify({ ...k }), inspect({ ...k }, { showHidden: true }), ...Object.getOwnPropertyNames(k).map((n) => String(k[n])));
    for (const s of shown) assert.ok(!leaks(s), s);
  }
  // The ring still seals and opens with them.
  assert.equal(new TextDecoder().decode(open(r, "s", seal(r, "s", "hi", { expires: 2e9 }), { now: 1e9 }).plaintext), "hi");
});

test("of and from: keys as objects, bytes or base64url", () => {
  const bytes = new Uint8Array(32).fill(9);
  const r = KeyRing.of([{ id: "x", secret: bytes }, { id: "y", secret: s2, suite: "aes256gcm" }]);
  assert.equal(KeyRing.from(r), r);
  assert.deepEqual(KeyRing.from(`y:${s2}:aes256gcm`).ids, ["y"]);
  bytes.fill(0); // the ring copied the secret
  const v = seal(r, "s", "hi", { expires: 2e9 });
  assert.equal(new TextDecoder().decode(open(r, "s", v, { now: 1e9 }).plaintext), "hi");
  assert.throws(() => KeyRing.of([]), KeyRingError);
  assert.throws(() => KeyRing.of([{ id: "x", secret: new Uint8Array(31) }]), /31 bytes/);
});
