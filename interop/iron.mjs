// Drives iron-session's sealData / unsealData for the Go tests in
// compat/iron. Reads one JSON request on stdin, writes one JSON answer on
// stdout. Requests:
//   seal   {password: string | {id: password}, ttl?, data}  -> {value}
//   unseal {password, value}                                -> {data} | {error}
// unsealData answers {} (not an error) for an expired seal, a bad mac or an
// unknown password id.
import { sealData, unsealData } from "iron-session";

async function handle(req) {
  switch (req.op) {
    case "seal":
      return { value: await sealData(req.data, { password: req.password, ttl: req.ttl }) };
    case "unseal":
      try {
        return { data: await unsealData(req.value, { password: req.password }) };
      } catch (e) {
        return { error: String(e?.message ?? e) };
      }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
process.stdout.write(JSON.stringify(await handle(JSON.parse(input))));
