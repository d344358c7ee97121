// inflate against Node's zlib (available to the tests, not to the
// package), and the package's deflate read back by zlib.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync, inflateRawSync, constants } from "node:zlib";
import { randomBytes as nodeRandom } from "node:crypto";
import { deflate, inflate, InflateError } from "../dist/index.js";

function samples() {
  const out = [new Uint8Array(0), new Uint8Array([0]), new TextEncoder().encode("a"), new TextEncoder().encode('{"user":"alice","n":3}')];
  const cart = JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ sku: `A-${i % 17}`, qty: i % 5 })));
  out.push(new TextEncoder().encode(cart));
  out.push(new Uint8Array(nodeRandom(5000)));
  out.push(new Uint8Array(70000).fill(7));
  let x = 1;
  out.push(Uint8Array.from({ length: 40000 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >> 24) & 3)); // low entropy
  return out;
}

const failure = (f) => {
  try {
    f();
    return null;
  } catch (e) {
    assert.ok(e instanceof InflateError, `not an InflateError: ${e}`);
    return e.tooLarge ? "too_large" : "malformed";
  }
};

test("inflate reads what zlib writes, every level and strategy", () => {
  for (const data of samples()) {
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [constants.Z_DEFAULT_STRATEGY, constants.Z_FIXED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE]) {
        const z = deflateRawSync(data, { level, strategy });
        assert.deepEqual(inflate(new Uint8Array(z), 1 << 20), data);
      }
    }
  }
});

test("deflate writes what zlib reads, and compresses", () => {
  for (const data of samples()) {
    const d = deflate(data);
    assert.deepEqual(new Uint8Array(inflateRawSync(d)), data);
    assert.deepEqual(inflate(d, 1 << 20), data);
  }
  const json = new TextEncoder().encode(JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ sku: "A-1", qty: i }))));
  assert.ok(deflate(json).length < json.length / 3, "a repetitive cart compresses");
});

test("inflate is bounded: too_large as soon as the output passes max", () => {
  const bomb = deflateRawSync(new Uint8Array(65537));
  assert.equal(failure(() => inflate(new Uint8Array(bomb), 65536)), "too_large");
  assert.equal(inflate(new Uint8Array(bomb), 65537).length, 65537);
  const stored = deflateRawSync(new Uint8Array(100), { level: 0 });
  assert.equal(failure(() => inflate(new Uint8Array(stored), 99)), "too_large");
  assert.equal(inflate(new Uint8Array(stored), 100).length, 100);
});

test("inflate refuses trailing data, truncation and invalid streams", () => {
  const z = new Uint8Array(deflateRawSync(new TextEncoder().encode("hello hello hello hello")));
  assert.equal(failure(() => inflate(new Uint8Array([...z, 0]), 1000)), "malformed", "a byte after the final block");
  for (let n = 0; n < z.length; n++) assert.equal(failure(() => inflate(z.subarray(0, n), 1000)), "malformed", `truncated to ${n}`);
  assert.equal(failure(() => inflate(new Uint8Array([0x07]), 1000)), "malformed", "reserved block type 11");
  assert.equal(failure(() => inflate(new Uint8Array([0x01, 0x01, 0x00, 0x00, 0x00, 0x41]), 1000)), "malformed", "stored length vs complement");
  // A fixed block: a match at distance 1 before any output.
  // bits: final=1, type=01, length code 257 (0000001), distance code 0 (00000).
  assert.equal(failure(() => inflate(new Uint8Array([0x03, 0x02, 0x00]), 1000)), "malformed");
  // Two stored blocks, the first not final: still one stream.
  const two = new Uint8Array([0x00, 0x01, 0x00, 0xfe, 0xff, 0x61, 0x01, 0x01, 0x00, 0xfe, 0xff, 0x62]);
  assert.deepEqual(inflate(two, 10), new TextEncoder().encode("ab"));
  assert.deepEqual(new Uint8Array(inflateRawSync(two)), new TextEncoder().encode("ab"));
});

test("inflate agrees with zlib on random corruptions (accept or refuse)", () => {
  // zlib accepts some incomplete distance codes that Go refuses; those
  // are compared against Go in interop/js_inflate_test.go. Here: whatever
  // inflate accepts, zlib decodes to the same bytes.
  let seed = 42;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const src = new TextEncoder().encode(JSON.stringify({ user: "alice", cart: Array.from({ length: 40 }, (_, i) => `item-${i % 7}`) }));
  const base = new Uint8Array(deflateRawSync(src));
  let accepted = 0;
  for (let i = 0; i < 3000; i++) {
    const b = base.slice();
    b[rand(b.length)] ^= 1 << rand(8);
    let ours = null;
    try {
      ours = inflate(b, 1 << 16);
    } catch (e) {
      assert.ok(e instanceof InflateError);
      continue;
    }
    accepted++;
    // What ours accepts, zlib must accept, with the same bytes: a stream
    // zlib refuses throws here and fails the test.
    assert.deepEqual(ours, new Uint8Array(inflateRawSync(b)));
  }
  assert.ok(accepted > 0);
});
