// Reading the session in a Next.js middleware (or any fetch-style handler:
// a Cloudflare Worker, a Deno server), where the request is a Request or a
// NextRequest.

import { SealedError } from "./errors.js";
import type { Time } from "./core.js";
import { Sessions, type RequestLike, type SessionData } from "./session.js";

/**
 * The session of a Request or NextRequest (anything with headers.get), or
 * null when it has none or its cookie is invalid: an unreadable cookie is
 * no session, never an error. The invalid cookie's SealedError goes to the
 * Sessions' onError, if set.
 *
 *   // middleware.ts
 *   const sessions = new Sessions(KeyRing.parse(process.env.SEALED_KEYS!));
 *   export function middleware(request: NextRequest) {
 *     const session = getSession(request, sessions);
 *     if (!session?.value?.user) return NextResponse.redirect(new URL("/login", request.url));
 *     return NextResponse.next();
 *   }
 */
export function getSession<T = any>(request: RequestLike, sessions: Sessions<T>, options: { now?: Time } = {}): SessionData<T> | null {
  try {
    return sessions.read(request, options.now);
  } catch (e) {
    if (!(e instanceof SealedError)) throw e;
    sessions.onError?.(e);
    return null;
  }
}
