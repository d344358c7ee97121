// The Node service of the polyglot test (test/polyglot/run.sh): a node:http
// server reading and writing the session with @sealedcookie/sealed
// (interop/js), on the JWKS file the Go service (../goapp) and the FastAPI
// service (../pyapp) use, with the same endpoints (see ../goapp/main.go).
// Every answer has X-Sealed-Runtime: node, and X-Sealed-Error with the kind
// of the SealedError the session cookie gave, if any.
//
//   SEALED_JWKS=keys.json PORT=8082 node server.mjs
//
// The package has no file watcher. The server polls the file itself, as
// Go's jwks.Watch does, and swaps the ring when the file changes; the one
// Sessions gets its keys from a key source (() => ring, Go's KeySource),
// which it asks at every open and seal: a rotation needs no restart and no
// new Sessions.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { KeyRing, SealedError, Sessions } from "@sealedcookie/sealed";

const file = process.env.SEALED_JWKS;
const port = Number(process.env.PORT || 8082);
const interval = Number(process.env.SEALED_RELOAD_MS || 200);
const options = {
  secure: false, // plain http to nginx on 127.0.0.1, as the Go service's DisableSecure
  subject: (v) => String(v?.user ?? ""),
  onError: (e) => console.error(`nodeapp: session cookie: ${e.message}`),
};

let text = readFileSync(file, "utf8");
let ring = KeyRing.fromJwks(text);
let failed = null;
setInterval(() => {
  try {
    const next = readFileSync(file, "utf8");
    if (next === text) return;
    ring = KeyRing.fromJwks(next);
    text = next;
    failed = null;
    console.error(`nodeapp: keys reloaded: ${ring.ids.join(", ")}`);
  } catch (e) {
    if (e.message !== failed) console.error(`nodeapp: ${file}: ${(failed = e.message)} (keeping the last good ring)`);
  }
}, interval).unref();
const sessions = new Sessions(() => ring, options);

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function describe(s) {
  const info = s.info;
  return {
    runtime: "node",
    session: s.has ? s.value : null,
    keyId: info?.keyId ?? "",
    stale: info?.stale ?? false,
    id: info?.id ?? "",
    subject: info?.subject ?? "",
    error: s.error?.kind ?? null,
  };
}

// route answers one request with the session s; it returns the JSON body.
async function route(req, url, s) {
  const [, first, key] = url.pathname.split("/");
  const m = `${req.method} /${first}${key !== undefined ? "/{}" : ""}`;
  switch (m) {
    case "GET /keys":
      return { runtime: "node", primary: sessions.ring.primary.id, ids: sessions.ring.ids };
    case "POST /login/{}": {
      const user = decodeURIComponent(key);
      s.put({ user });
      s.renew();
      s.flash(`Welcome, ${user}!`);
      return describe(s);
    }
    case "GET /session":
      return describe(s);
    case "POST /session/{}": {
      const v = await body(req);
      s.update((cur) => ({ ...(cur ?? {}), [decodeURIComponent(key)]: v }));
      return describe(s);
    }
    case "DELETE /session/{}":
      s.update((cur) => {
        const next = { ...(cur ?? {}) };
        delete next[decodeURIComponent(key)];
        return next;
      });
      return describe(s);
    case "POST /flash":
      s.flash(url.searchParams.get("message") ?? "");
      return { runtime: "node", ok: true };
    case "GET /flashes":
      return { runtime: "node", flashes: s.takeFlashes() };
    case "POST /logout":
      s.destroy();
      return { runtime: "node", ok: true };
  }
  return null;
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  const s = sessions.load(req.headers.cookie);
  let status = 200;
  let out;
  try {
    out = await route(req, url, s);
    if (out === null) [status, out] = [404, { error: "not found" }];
  } catch (e) {
    [status, out] = [e instanceof SyntaxError ? 400 : 500, { error: String(e.message) }];
  }
  const h = new Headers({ "Content-Type": "application/json", "X-Sealed-Runtime": "node" });
  // The session was read unless the route is /keys (s.error would read it).
  let kind = url.pathname === "/keys" ? undefined : s.error?.kind;
  try {
    s.commit(h); // Set-Cookie only if something changed; Vary, Cache-Control
  } catch (e) {
    if (!(e instanceof SealedError)) throw e;
    kind = e.kind; // too_large: nothing written, the client keeps its cookies
    console.error(`nodeapp: ${e.message}`);
  }
  if (kind) h.set("X-Sealed-Error", kind);
  res.setHeaders(h); // each Set-Cookie line stays one header line
  res.writeHead(status);
  res.end(JSON.stringify(out) + "\n");
});
server.listen(port, "127.0.0.1", () => console.error(`nodeapp: listening on 127.0.0.1:${port}, keys ${file}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
