// Regenerates the vectors that the pure-Go tests read from
// compat/authjs/testdata/vectors.json and compat/iron/testdata/vectors.json:
//   node interop/vectors.mjs
// Every value is produced, and its expected payload decoded, by the real
// JavaScript libraries pinned in package.json. "now" is the generation time
// (Unix seconds for authjs, milliseconds for iron); the Go tests open the
// vectors at that time.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import * as v5 from "@auth/core/jwt";
import { SessionStore as SessionStoreV5 } from "./node_modules/@auth/core/lib/utils/cookie.js";
import { sealData, unsealData } from "iron-session";

const require = createRequire(import.meta.url);
const v4 = require("next-auth/jwt");
const { SessionStore: SessionStoreV4 } = require("./node_modules/next-auth/core/lib/cookie.js");
const quiet = { debug() {}, warn() {}, error() {} };
const out = (pkg) => new URL(`../compat/${pkg}/testdata/vectors.json`, import.meta.url);

const user = { sub: "user-42", name: "Ada Lovelace", email: "ada@example.com", picture: null, roles: ["admin"] };
const big = { ...user, blob: "x".repeat(6000) }; // seals to more than one 3936-character chunk

async function authjsVectors() {
  const vectors = [];
  const add = async ({ name, version, secrets, sealWith, cookieName, token, maxAge, chunk }) => {
    const jwt = version === 4 ? v4 : v5;
    const salt = version === 4 ? undefined : cookieName;
    const secret = version === 4 ? secrets[0] : sealWith ?? secrets; // v4 takes one string
    const value = await jwt.encode({ token, secret, salt, maxAge });
    const now = Math.floor(Date.now() / 1000);
    let claims = null;
    if (maxAge > 0) claims = await jwt.decode({ token: value, secret, salt });
    const v = { name, version, secrets, cookieName, now, claims };
    if (chunk) {
      const store = version === 4
        ? new SessionStoreV4({ name: cookieName, options: {} }, { cookies: {}, headers: {} }, quiet)
        : new SessionStoreV5({ name: cookieName, options: {} }, {}, quiet);
      v.cookies = store.chunk(value, {}).map(({ name, value }) => ({ name, value }));
    } else {
      v.value = value;
    }
    vectors.push(v);
  };
  await add({ name: "v5", version: 5, secrets: ["vector-secret-one"], cookieName: "authjs.session-token", token: user, maxAge: 3600 });
  await add({ name: "v5-secure-name", version: 5, secrets: ["vector-secret-one"], cookieName: "__Secure-authjs.session-token", token: user, maxAge: 3600 });
  await add({ name: "v5-rotated", version: 5, secrets: ["vector-secret-new", "vector-secret-one"], sealWith: ["vector-secret-one"], cookieName: "authjs.session-token", token: user, maxAge: 3600 });
  await add({ name: "v5-chunked", version: 5, secrets: ["vector-secret-one"], cookieName: "authjs.session-token", token: big, maxAge: 3600, chunk: true });
  await add({ name: "v5-expired", version: 5, secrets: ["vector-secret-one"], cookieName: "authjs.session-token", token: user, maxAge: -60 });
  await add({ name: "v4", version: 4, secrets: ["vector-secret-one"], cookieName: "next-auth.session-token", token: user, maxAge: 3600 });
  await add({ name: "v4-chunked", version: 4, secrets: ["vector-secret-one"], cookieName: "next-auth.session-token", token: big, maxAge: 3600, chunk: true });
  await add({ name: "v4-expired", version: 4, secrets: ["vector-secret-one"], cookieName: "next-auth.session-token", token: user, maxAge: -60 });
  return vectors;
}

async function ironVectors() {
  const pw1 = "vector-password-one-0123456789abcdef";
  const pw2 = "vector-password-two-0123456789abcdef";
  const vectors = [];
  const add = async ({ name, password, passwords, ttl, data }) => {
    const value = await sealData(data, { password, ttl });
    const now = Date.now();
    const expected = ttl < 0 ? null : await unsealData(value, { password });
    vectors.push({ name, passwords, now, value, data: expected });
  };
  await add({ name: "string-password", password: pw1, passwords: { 1: pw1 }, ttl: 3600, data: { user: { id: 42, name: "Ada" }, admin: true } });
  await add({ name: "rotated", password: { 1: pw1, 2: pw2 }, passwords: { 1: pw1, 2: pw2 }, ttl: 3600, data: { cart: [1, 2, 3] } });
  await add({ name: "no-expiry", password: pw1, passwords: { 1: pw1 }, ttl: 0, data: { n: 1 } });
  await add({ name: "default-ttl", password: pw1, passwords: { 1: pw1 }, ttl: undefined, data: { unicode: "héllo ✓ 😀" } });
  await add({ name: "expired", password: pw1, passwords: { 1: pw1 }, ttl: -120, data: { n: 1 } });
  return vectors;
}

writeFileSync(out("authjs"), JSON.stringify(await authjsVectors(), null, 2) + "\n");
writeFileSync(out("iron"), JSON.stringify(await ironVectors(), null, 2) + "\n");
