// Drives Auth.js v5 (@auth/core/jwt) and NextAuth v4 (next-auth/jwt) for the
// Go tests in compat/authjs. Reads one JSON request on stdin, writes one JSON
// answer on stdout. Requests ({"op": ..., "version": 5 | 4, ...}):
//   encode   {secret, salt?, token, maxAge?}        -> {value}
//   decode   {secret, salt?, value}                 -> {payload} | {error}
//   chunk    {name, value}                          -> {cookies: [{name, value}]}
//   getToken {secret, cookieName, cookies: {n: v}}  -> {payload}  (null when rejected)
import { createRequire } from "node:module";
import * as v5 from "@auth/core/jwt";
import { SessionStore as SessionStoreV5 } from "./node_modules/@auth/core/lib/utils/cookie.js";

const require = createRequire(import.meta.url);
const v4 = require("next-auth/jwt");
const { SessionStore: SessionStoreV4 } = require("./node_modules/next-auth/core/lib/cookie.js");

const quiet = { debug() {}, warn() {}, error() {} };

async function handle(req) {
  const jwt = req.version === 4 ? v4 : v5;
  switch (req.op) {
    case "encode":
      return { value: await jwt.encode({ token: req.token, secret: req.secret, salt: req.salt, maxAge: req.maxAge }) };
    case "decode":
      try {
        return { payload: await jwt.decode({ token: req.value, secret: req.secret, salt: req.salt }) };
      } catch (e) {
        return { error: String(e?.message ?? e) };
      }
    case "chunk": {
      const store = req.version === 4
        ? new SessionStoreV4({ name: req.name, options: {} }, { cookies: {}, headers: {} }, quiet)
        : new SessionStoreV5({ name: req.name, options: {} }, {}, quiet);
      return { cookies: store.chunk(req.value, {}).map(({ name, value }) => ({ name, value })) };
    }
    case "getToken": {
      const header = Object.entries(req.cookies).map(([n, v]) => `${n}=${v}`).join("; ");
      if (req.version === 4) {
        const payload = await v4.getToken({
          req: { headers: { cookie: header }, cookies: req.cookies },
          secret: req.secret, cookieName: req.cookieName, logger: quiet,
        });
        return { payload };
      }
      const payload = await v5.getToken({
        req: { headers: { cookie: header } },
        secret: req.secret, cookieName: req.cookieName, salt: req.cookieName, logger: quiet,
      });
      return { payload };
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify(await handle(JSON.parse(input))));
