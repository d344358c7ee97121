// The edge claim: the package runs where only the Web platform and pure
// JavaScript exist (Deno, Cloudflare Workers, Vercel edge middleware).
//
// 1. Statically: every module the package can load (dist/ and its
//    dependencies, found by following import and export specifiers with
//    Node's own resolver) imports no Node built-in and names no Node-only
//    global (Buffer, process, require, __dirname, global, setImmediate).
// 2. Dynamically: the package and its dependencies are loaded as ES
//    modules into a fresh V8 context (node:vm) whose globals are only
//    those of the WinterCG Minimum Common API that the package needs
//    (crypto, TextEncoder, TextDecoder, Headers, Request, Response, URL),
//    where a node: import cannot be linked and Buffer or process are
//    ReferenceErrors, and every vector and a session round trip pass there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import vm from "node:vm";
import { vectors } from "./helpers.mjs";

const entry = new URL("../dist/index.js", import.meta.url).href;
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

// Import and export specifiers of an ES module: static and dynamic.
function specifiers(src) {
  const out = new Set();
  for (const re of [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g]) {
    for (const m of src.matchAll(re)) out.add(m[1]);
  }
  return [...out];
}

// Source without comments and string contents, to look for identifiers.
function code(src) {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/(^|[^:\\])\/\/.*$/gm, "$1")
    .replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, '""');
}

// Resolves specifier from the module at parent, as Node would.
function resolve(specifier, parent) {
  if (specifier.startsWith(".") || specifier.startsWith("/")) return new URL(specifier, parent).href;
  // import.meta.resolve resolves from this file; bare packages resolve the
  // same from anywhere under interop/ (one node_modules, hoisted).
  return import.meta.resolve(specifier, parent);
}

// Uses of Node-only globals (a method called process() is not one).
const NODE_ONLY = [
  ["Buffer", /(?<![\w$.])Buffer(?![\w$])/],
  ["process", /(?<![\w$.])process\s*[.[)]|typeof\s+process\b/],
  ["require", /(?<![\w$.])require\s*\(/],
  ["__dirname", /(?<![\w$.])__(dirname|filename)(?![\w$])/],
  ["global", /(?<![\w$.])global\s*[.[]/],
  ["setImmediate", /(?<![\w$.])setImmediate\s*\(/],
  ["module.exports", /(?<![\w$.])module\.exports/],
];

function moduleGraph() {
  const seen = new Map(); // url -> source
  const queue = [entry];
  while (queue.length > 0) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    const src = readFileSync(fileURLToPath(url), "utf8");
    seen.set(url, src);
    for (const s of specifiers(src)) {
      assert.ok(!builtins.has(s) && !s.startsWith("node:"), `${url} imports the Node built-in ${s}`);
      queue.push(resolve(s, url));
    }
  }
  return seen;
}

test("the module graph has no Node built-in and no Node-only global", () => {
  const graph = moduleGraph();
  const files = [...graph.keys()];
  assert.ok(files.some((u) => u.includes("/@noble/ciphers/")) && files.some((u) => u.includes("/@noble/hashes/")), "the walk reaches the dependencies");
  assert.ok(files.filter((u) => u.includes("/dist/")).length >= 9, "and every module of the package");
  for (const [url, src] of graph) {
    const c = code(src);
    for (const [name, re] of NODE_ONLY) assert.ok(!re.test(c), `${url.slice(url.indexOf("interop/"))} uses ${name}`);
  }
});

// The globals of a Web-only runtime: what the package may use. Nothing of
// Node's (Buffer, process, require) is in the context.
function webContext() {
  const globals = {
    crypto: globalThis.crypto, // WebCrypto: getRandomValues
    TextEncoder, TextDecoder, Headers, Request, Response, URL,
    console,
  };
  return vm.createContext(globals, { name: "web-only" });
}

async function loadInWebContext(ctx) {
  const modules = new Map();
  const load = (url) => {
    let m = modules.get(url);
    if (m) return m;
    m = new vm.SourceTextModule(readFileSync(fileURLToPath(url), "utf8"), { identifier: url, context: ctx, initializeImportMeta(meta) { meta.url = url; } });
    modules.set(url, m);
    return m;
  };
  const root = load(entry);
  await root.link((specifier, referencing) => {
    if (specifier.startsWith("node:") || builtins.has(specifier)) throw new Error(`${referencing.identifier} imports ${specifier}: not available at the edge`);
    return load(resolve(specifier, referencing.identifier));
  });
  await root.evaluate();
  return root.namespace;
}

test("every vector and a session round trip pass in a Web-only V8 context", { skip: typeof vm.SourceTextModule !== "function" && "run with --experimental-vm-modules (npm test does)" }, async () => {
  const ctx = webContext();
  assert.equal(vm.runInContext("typeof Buffer + typeof process + typeof require + typeof setImmediate", ctx), "undefinedundefinedundefinedundefined");
  const pkg = await loadInWebContext(ctx);
  // The tests below run inside the context, so every object the package
  // touches is the context's own.
  ctx.pkg = pkg;
  ctx.files = JSON.stringify({ v1: vectors("vectors.json"), v2: vectors("vectors-v2.json"), mw: vectors("middleware-vectors.json") });
  const result = vm.runInContext(
    `(() => {
      const { KeyRing, Sessions, open, seal, sealDeflated, getSession } = pkg;
      const { v1, v2, mw } = JSON.parse(files);
      const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
      const unhex = (h) => Uint8Array.from((h ?? "").match(/../g) ?? [], (x) => parseInt(x, 16));
      const kind = (f) => { try { f(); return ""; } catch (e) { if (e.name !== "SealedError") throw e; return e.kind; } };
      let n = 0;
      for (const v of [...v1, ...v2]) {
        const ring = KeyRing.of(v.keys), opts = { now: v.now, maxLen: v.max_len, purpose: v.purpose };
        if (!v.valid) { if (kind(() => open(ring, v.name, v.sealed, opts)) !== v.error) throw new Error("vector " + v.comment); n++; continue; }
        const got = open(ring, v.name, v.sealed, opts);
        if (hex(got.plaintext) !== (v.plaintext ?? "") || got.keyId !== v.key_id || got.stale !== (v.stale ?? false)) throw new Error("vector " + v.comment);
        const key = KeyRing.of(v.keys.filter((k) => k.id === v.key_id));
        const so = { expires: v.expires, purpose: v.purpose, nonce: unhex(v.nonce), salt: v.salt ? unhex(v.salt) : undefined };
        if ((v.flags === 1 ? sealDeflated(key, v.name, unhex(v.compressed), so) : seal(key, v.name, unhex(v.plaintext), so)) !== v.sealed) throw new Error("reseal " + v.comment);
        n++;
      }
      for (const v of mw) {
        const sessions = new Sessions(KeyRing.of(v.keys), { name: v.name, now: () => v.now });
        const cookie = Object.keys(v.cookies).sort().map((k) => k + "=" + v.cookies[k]).join("; ");
        const got = kind(() => sessions.read(cookie));
        if (got !== (v.valid ? "" : v.error)) throw new Error("middleware vector " + v.comment + ": " + got);
        n++;
      }
      // Write a session with random nonces and IDs (getRandomValues), read it with a Request.
      const sessions = new Sessions(KeyRing.parse("k1:" + "A".repeat(43) + ":aes256gcm"), { compressAbove: 100 });
      const s = sessions.load(new Request("https://example.com/"));
      s.put({ user: "edge", cart: "x".repeat(5000) });
      const res = new Response("ok");
      s.commit(res.headers);
      const cookie = res.headers.getSetCookie().map((l) => l.split(";")[0]).join("; ");
      const back = getSession(new Request("https://example.com/", { headers: { cookie } }), sessions);
      if (back.value.user !== "edge" || back.value.cart.length !== 5000) throw new Error("session round trip");
      return n;
    })()`,
    ctx,
  );
  assert.equal(result, vectors("vectors.json").length + vectors("vectors-v2.json").length + vectors("middleware-vectors.json").length);
});

test("in that context a node: import is refused (the check above can fail)", { skip: typeof vm.SourceTextModule !== "function" && "run with --experimental-vm-modules" }, async () => {
  const ctx = webContext();
  const m = new vm.SourceTextModule('import { createHash } from "node:crypto"; export const x = createHash;', { context: ctx, identifier: "probe" });
  await assert.rejects(m.link((s) => {
    if (s.startsWith("node:")) throw new Error(`probe imports ${s}: not available at the edge`);
  }), /not available at the edge/);
  assert.throws(() => vm.runInContext("Buffer.from('x')", ctx), (e) => e.name === "ReferenceError");
  const probe = (src) => NODE_ONLY.filter(([, re]) => re.test(code(src))).map(([n]) => n);
  assert.deepEqual(probe('// Buffer in a comment\nconst s = "process"; class A { process(x) {} }'), []);
  assert.deepEqual(probe("const b = Buffer.from(x); if (typeof process !== 'undefined') require('fs');"), ["Buffer", "process", "require"]);
});
