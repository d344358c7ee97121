// Drives the JavaScript package @sealedcookie/sealed (js/, built into
// js/dist by `npm ci --prefix interop`) and jose (js/jwe.mjs) for the Go
// tests in interop/interop_test.go and interop/js_*_test.go. Reads one JSON
// request on stdin, or an array of them, and writes the answer (or an array
// of answers) on stdout. Keys are a ring in the form sealed.FormatKeyRing
// writes ("id:secret,...") or [{id, secret, suite?}]; bytes are hex; times
// are Unix seconds. A value that does not open answers {error: kind,
// message, info?}; a key ring that does not parse, {keyRingError: message}.
// open, seal, sealDeflated, openSession and writeSession take purpose?.
//   open         {keys, name, value, now?, skew?, maxLen?, maxDecompressed?} -> {plaintext, keyId, expires, stale}
//   seal         {keys, name, plaintext, expires, compressAbove?, nonce?, salt?, maxLen?} -> {value}
//   sealDeflated {keys, name, deflated, expires, nonce?, salt?} -> {value}
//   openSession  {keys, cookies: {name: value} or "a=b; c=d", name?, now?, options?}
//                -> {issued, deadline, refreshed, id, minted, subject, persistent, flashes, session, keyId, expires, stale} or {none: true}
//   writeSession {keys, options?, cookies?, now, actions: [{op: "put", value} | {op: "flash", message}
//                | {op: "takeFlashes"} | {op: "destroy"} | {op: "renew"} | {op: "rememberMe", remember} | {op: "read"}]}
//                -> {setCookie: [lines], vary, cacheControl, has, value, taken, loadError}
//   keyRing      {text} or {jwks} -> {keys: [{id, suite}]}
//   jweOpen      {keys, name, value, now?}                   -> {plaintext, keyId, expires, stale}
//   jweSeal      {keys, name, plaintext, expires}            -> {value}
// options are those of the package's Sessions (seconds for durations), and
// subjectField: the session value's field that is its subject.
let pkg;
try {
  pkg = await import("@sealedcookie/sealed");
} catch (e) {
  process.stderr.write(`sealedjs.mjs: cannot load @sealedcookie/sealed (${e.message}): run \`npm ci --prefix interop\`, which builds interop/js/dist\n`);
  process.exit(2);
}
const { KeyRing, KeyRingError, SealedError, Sessions, open, seal, sealDeflated } = pkg;
const { openJWE, sealJWE } = await import("./js/jwe.mjs");

const hex = (b) => (b === null || b === undefined ? null : Buffer.from(b).toString("hex"));
const bytes = (h) => new Uint8Array(Buffer.from(h ?? "", "hex"));

function sessions(req) {
  const { subjectField, ...options } = req.options ?? {};
  const subject = subjectField ? (v) => String(v?.[subjectField] ?? "") : undefined;
  return new Sessions(KeyRing.from(req.keys), { name: req.name || undefined, purpose: req.purpose || undefined, subject, ...options, now: () => req.now });
}

async function handle(req) {
  const opts = { now: req.now, skew: req.skew, maxLen: req.maxLen, maxDecompressed: req.maxDecompressed, expires: req.expires, purpose: req.purpose };
  for (const k of Object.keys(opts)) if (opts[k] === undefined || opts[k] === null || opts[k] === 0) delete opts[k];
  if (req.now === 0) opts.now = 0;
  try {
    switch (req.op) {
      case "open": {
        const r = open(KeyRing.from(req.keys), req.name, req.value, opts);
        return { ...r, plaintext: hex(r.plaintext) };
      }
      case "seal": {
        const extra = { compressAbove: req.compressAbove, nonce: req.nonce ? bytes(req.nonce) : undefined, salt: req.salt ? bytes(req.salt) : undefined };
        return { value: seal(KeyRing.from(req.keys), req.name, bytes(req.plaintext), { ...opts, ...extra }) };
      }
      case "sealDeflated": {
        const extra = { nonce: req.nonce ? bytes(req.nonce) : undefined, salt: req.salt ? bytes(req.salt) : undefined };
        return { value: sealDeflated(KeyRing.from(req.keys), req.name, bytes(req.deflated), { ...opts, ...extra }) };
      }
      case "openSession": {
        const s = sessions(req).read(req.cookies, req.now || undefined);
        if (s === null) return { none: true };
        const { value, valueBytes, has, ...rest } = s;
        return { ...rest, session: has ? hex(valueBytes) : null };
      }
      case "writeSession": {
        const session = sessions(req).load(req.cookies);
        let taken = null;
        for (const a of req.actions ?? []) {
          switch (a.op) {
            case "put": session.put(a.value); break;
            case "flash": session.flash(a.message); break;
            case "takeFlashes": taken = session.takeFlashes(); break;
            case "destroy": session.destroy(); break;
            case "renew": session.renew(); break;
            case "rememberMe": session.rememberMe(a.remember); break;
            case "read": void session.value; break;
            default: throw new Error(`unknown action ${a.op}`);
          }
        }
        const headers = new Headers(req.responseHeaders ?? {});
        const { setCookie } = session.commit(headers);
        return {
          setCookie, vary: headers.get("vary"), cacheControl: headers.get("cache-control"),
          has: session.has, value: session.value ?? null, taken, loadError: session.error?.kind ?? null,
        };
      }
      case "keyRing": {
        const ring = req.jwks !== undefined ? KeyRing.fromJwks(req.jwks) : KeyRing.parse(req.text);
        return { keys: ring.toJSON() };
      }
      case "jweOpen": {
        const r = await openJWE(req.keys, req.name, req.value, opts);
        return { ...r, plaintext: hex(r.plaintext) };
      }
      case "jweSeal":
        return { value: await sealJWE(req.keys, req.name, bytes(req.plaintext), opts) };
      default:
        throw new Error(`unknown op ${req.op}`);
    }
  } catch (e) {
    if (e instanceof SealedError) return { error: e.kind, message: e.message, info: e.info };
    if (e instanceof KeyRingError) return { keyRingError: e.message };
    throw e;
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const answer = Array.isArray(req) ? await Promise.all(req.map(handle)) : await handle(req);
process.stdout.write(JSON.stringify(answer));
