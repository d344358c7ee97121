// Errors (docs/FORMAT.md, "Opening"): every failure to open a value has one
// of five classes, the same in Go (sealed.ErrMalformed, ...), Python and
// here.

/** The class of a failure to open a value, as docs/FORMAT.md names it. */
export type ErrorKind = "malformed" | "unknown_key" | "invalid" | "expired" | "too_large";

/** What opening learnt about an authentic value: given with "expired". */
export interface OpenInfo {
  /** The ID of the key that opened it. */
  keyId: string;
  /** Its sealed expiry, Unix seconds. */
  expires: number;
  /** Opened with a key other than the primary: re-seal it. */
  stale: boolean;
}

/**
 * The error open, openSession and the session helpers throw for a value
 * that does not open. `kind` is its class; messages never contain key
 * material or session data.
 */
export class SealedError extends Error {
  /** The error class. */
  readonly kind: ErrorKind;
  /** Set for "expired": the value was authentic, this is what it said. */
  readonly info?: OpenInfo;

  constructor(kind: ErrorKind, message: string, info?: OpenInfo) {
    super(`sealed: ${kind}: ${message}`);
    this.name = "SealedError";
    this.kind = kind;
    if (info !== undefined) this.info = info;
  }

  /** The class under its former name (interop/js/sealed.mjs had `.code`). */
  get code(): ErrorKind {
    return this.kind;
  }
}

/** Throws a SealedError of the given kind. */
export function fail(kind: ErrorKind, message: string, info?: OpenInfo): never {
  throw new SealedError(kind, message, info);
}

/** Reports whether e is a SealedError, of the given kind if one is given. */
export function isSealedError(e: unknown, kind?: ErrorKind): e is SealedError {
  return e instanceof SealedError && (kind === undefined || e.kind === kind);
}
