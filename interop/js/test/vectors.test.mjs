// Every vector of testdata/vectors.json, vectors-v2.json and
// middleware-vectors.json (docs/FORMAT.md, docs/FORMAT-middleware.md).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyRing, Sessions, open, seal, sealDeflated } from "../dist/index.js";
import { classOf, hex, unhex, vectors } from "./helpers.mjs";

for (const file of ["vectors.json", "vectors-v2.json"]) {
  const vs = vectors(file);
  test(`${file}: ${vs.length} vectors`, async (t) => {
    assert.ok(vs.length >= 27);
    for (const v of vs) {
      await t.test(v.comment, () => {
        const ring = KeyRing.of(v.keys);
        const opts = { now: v.now, maxLen: v.max_len, purpose: v.purpose };
        if (!v.valid) {
          assert.equal(classOf(() => open(ring, v.name, v.sealed, opts)), v.error);
          return;
        }
        const got = open(ring, v.name, v.sealed, opts);
        assert.equal(hex(got.plaintext), v.plaintext ?? "");
        assert.equal(got.keyId, v.key_id);
        assert.equal(got.expires, v.expires);
        assert.equal(got.stale, v.stale ?? false);
        // Sealing reproduces the value from its nonce (and salt).
        const key = KeyRing.of(v.keys.filter((k) => k.id === v.key_id));
        const sopts = { expires: v.expires, purpose: v.purpose, nonce: unhex(v.nonce), salt: v.salt ? unhex(v.salt) : undefined };
        const again = v.flags === 1 ? sealDeflated(key, v.name, unhex(v.compressed), sopts) : seal(key, v.name, unhex(v.plaintext), sopts);
        assert.equal(again, v.sealed);
      });
    }
  });
}

const mvs = vectors("middleware-vectors.json");
test(`middleware-vectors.json: ${mvs.length} vectors`, async (t) => {
  assert.ok(mvs.length >= 17);
  for (const v of mvs) {
    await t.test(v.comment, () => {
      const sessions = new Sessions(KeyRing.of(v.keys), { name: v.name, now: () => v.now });
      // As a Cookie header, in sorted order as the Go test sends it, and as a record.
      const header = Object.keys(v.cookies).sort().map((n) => `${n}=${v.cookies[n]}`).join("; ");
      for (const source of [header, v.cookies]) {
        if (!v.valid) {
          assert.equal(classOf(() => sessions.read(source)), v.error);
          const s = sessions.load(source);
          assert.equal(s.has, false);
          assert.equal(s.error?.kind, v.error);
          continue;
        }
        const got = sessions.read(source);
        if (v.value === undefined && (v.flashes ?? []).length === 0) {
          assert.equal(got, null); // the smallest payload: no session, no error
          assert.equal(sessions.load(source).error, null);
          continue;
        }
        assert.equal(got.issued, v.issued);
        assert.equal(got.deadline, v.deadline);
        assert.equal(got.refreshed, v.refreshed);
        assert.equal(got.id, v.id ?? null);
        assert.equal(got.minted, v.minted ?? null);
        assert.equal(got.subject, v.id ? (v.subject ?? "") : null);
        assert.deepEqual(got.flashes, v.flashes ?? []);
        assert.equal(got.has, v.value !== undefined);
        assert.equal(got.persistent, v.persistence === undefined ? null : v.persistence === "persistent");
        if (v.value !== undefined) {
          assert.equal(new TextDecoder().decode(got.valueBytes), v.value);
          assert.deepEqual(got.value, JSON.parse(v.value));
        }
        const s = sessions.load(source);
        assert.equal(s.error, null);
        assert.equal(s.has, v.value !== undefined);
        assert.deepEqual(s.flashes, v.flashes ?? []);
      }
    });
  }
});
