// The Next.js middleware helper, with plain fetch Request and Response
// objects (what Next.js's NextRequest and NextResponse extend): no
// Next.js install needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyRing, Sessions, getSession } from "../dist/index.js";
import { secret } from "./helpers.mjs";

const now = 1763726400;
const ring = KeyRing.parse(`k1:${secret(1)}`);

// Cookies a login response set, as the browser sends them back.
function login(sessions, value) {
  const s = sessions.load(new Request("https://example.com/login"));
  s.put(value);
  s.flash("Welcome!");
  const res = new Response(null, { status: 302 });
  s.commit(res.headers);
  return res.headers.getSetCookie().map((l) => l.split(";")[0]).join("; ");
}

test("getSession reads the session of a Request", () => {
  const sessions = new Sessions(ring, { now: () => now });
  const cookie = login(sessions, { user: "alice" });
  const got = getSession(new Request("https://example.com/account", { headers: { cookie: `theme=dark; ${cookie}` } }), sessions);
  assert.deepEqual(got.value, { user: "alice" });
  assert.deepEqual(got.flashes, ["Welcome!"]);
  assert.equal(got.keyId, "k1");
  assert.equal(getSession(new Request("https://example.com/"), sessions), null, "no cookie: null");
});

test("an invalid cookie is no session, never an exception; onError hears of it", () => {
  const errors = [];
  const sessions = new Sessions(ring, { now: () => now, onError: (e) => errors.push(e.kind) });
  const cookie = login(sessions, { user: "bob" });
  const tampered = cookie.replace(/.(?=$)/, (c) => (c === "A" ? "B" : "A"));
  assert.equal(getSession(new Request("https://example.com/", { headers: { cookie: tampered } }), sessions), null);
  const other = new Sessions(KeyRing.parse(`k9:${secret(9)}`), { now: () => now, onError: (e) => errors.push(e.kind) });
  assert.equal(getSession(new Request("https://example.com/", { headers: { cookie } }), other), null);
  const later = new Sessions(ring, { now: () => now + 86400, onError: (e) => errors.push(e.kind) });
  assert.equal(getSession({ headers: new Headers({ cookie }) }, later), null);
  assert.ok(["malformed", "invalid"].includes(errors[0]), errors[0]); // a changed last character
  assert.deepEqual(errors.slice(1), ["unknown_key", "expired"]);
});

test("a NextRequest-like object, and a middleware that adds a flash", () => {
  const sessions = new Sessions(ring, { now: () => now });
  const cookie = login(sessions, { user: "carol" });
  // NextRequest: a Request with a cookies helper; the helper reads headers.
  const req = Object.assign(new Request("https://example.com/cart", { headers: { cookie } }), { cookies: { get: () => undefined }, nextUrl: new URL("https://example.com/cart") });
  assert.equal(getSession(req, sessions).value.user, "carol");
  // middleware(): read, change, write onto the response.
  const session = sessions.load(req);
  session.flash("Added to cart.");
  const res = new Response("ok");
  session.commit(res.headers);
  assert.equal(res.headers.getSetCookie().length, 1);
  assert.equal(res.headers.get("vary"), "Cookie");
  const next = res.headers.getSetCookie()[0].split(";")[0];
  assert.deepEqual(getSession(new Request("https://example.com/", { headers: { cookie: next } }), sessions).flashes, ["Welcome!", "Added to cart."]);
});
