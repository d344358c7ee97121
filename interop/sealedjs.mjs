// Drives the JavaScript reference decoder (js/sealed.mjs, js/session.mjs)
// and jose (js/jwe.mjs) for the Go tests in interop/interop_test.go. Reads
// one JSON request on stdin, or an array of them, and writes the answer (or
// an array of answers) on stdout. Keys are a ring in the form
// sealed.FormatKeyRing writes ("id:secret,...") or [{id, secret}]; bytes are
// hex; times are Unix seconds. A failure answers {error: code, message}.
// open, seal, sealDeflated and openSession also take purpose? (a string).
//   open        {keys, name, value, now?, skew?, maxLen?, maxDecompressed?} -> {plaintext, keyId, expires, stale}
//   seal        {keys, name, plaintext, expires, compressAbove?, nonce?, salt?, maxLen?} -> {value}
//   sealDeflated {keys, name, deflated, expires, nonce?, salt?} -> {value}
//   openSession {keys, cookies: {name: value}, name?, now?} -> {issued, deadline, refreshed, flashes, session, keyId, expires, stale}
//   jweOpen     {keys, name, value, now?}                   -> {plaintext, keyId, expires, stale}
//   jweSeal     {keys, name, plaintext, expires}            -> {value}
import { open, seal, sealDeflated } from "./js/sealed.mjs";
import { openSession } from "./js/session.mjs";
import { openJWE, sealJWE } from "./js/jwe.mjs";

const hex = (b) => (b === null ? null : Buffer.from(b).toString("hex"));
const bytes = (h) => Buffer.from(h ?? "", "hex");

async function handle(req) {
  const opts = { now: req.now, skew: req.skew, maxLen: req.maxLen, maxDecompressed: req.maxDecompressed, expires: req.expires, purpose: req.purpose };
  for (const k of Object.keys(opts)) if (opts[k] === undefined || opts[k] === null) delete opts[k];
  try {
    switch (req.op) {
      case "open": {
        const r = open(req.keys, req.name, req.value, opts);
        return { ...r, plaintext: hex(r.plaintext) };
      }
      case "seal":
        return { value: seal(req.keys, req.name, bytes(req.plaintext), { ...opts, compressAbove: req.compressAbove, nonce: req.nonce ? bytes(req.nonce) : undefined, salt: req.salt ? bytes(req.salt) : undefined }) };
      case "sealDeflated":
        return { value: sealDeflated(req.keys, req.name, bytes(req.deflated), { ...opts, nonce: req.nonce ? bytes(req.nonce) : undefined, salt: req.salt ? bytes(req.salt) : undefined }) };
      case "openSession": {
        const s = openSession(req.keys, req.cookies, { name: req.name, ...opts });
        return s === null ? { none: true } : { ...s, value: undefined, session: hex(s.value) };
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
    if (typeof e.code === "string" && e.name === "SealedError") return { error: e.code, message: e.message, info: e.info };
    throw e;
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const answer = Array.isArray(req) ? await Promise.all(req.map(handle)) : await handle(req);
process.stdout.write(JSON.stringify(answer));
