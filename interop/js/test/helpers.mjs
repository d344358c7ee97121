// Shared by the tests: the repository's vector files and small helpers.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const testdata = fileURLToPath(new URL("../../../testdata/", import.meta.url));

/** The vectors of a file in the repository's testdata/. */
export function vectors(name) {
  return JSON.parse(readFileSync(testdata + name, "utf8")).vectors;
}

export const hex = (b) => Buffer.from(b).toString("hex");
export const unhex = (h) => new Uint8Array(Buffer.from(h ?? "", "hex"));
export const text = (s) => new TextEncoder().encode(s);

/** A deterministic 32-byte secret in base64url. */
export function secret(seed) {
  return Buffer.from(Array.from({ length: 32 }, (_, i) => (seed * 31 + i * 7) & 0xff)).toString("base64url");
}

/** The class of a failure of f: the SealedError's kind, "" on success. */
export function classOf(f) {
  try {
    f();
    return "";
  } catch (e) {
    if (e?.name === "SealedError") return e.kind;
    throw e;
  }
}
