// Compiled (not run) by `npm run check`: the README's examples, typed
// against the declarations in dist/, as a TypeScript user sees them.
import { KeyRing, Sessions, SealedError, getSession, open, seal, type ErrorKind, type SessionData } from "../dist/index.js";

declare const env: Record<string, string | undefined>;

// Node, Deno, a Worker: seal and open a value.
const ring = KeyRing.parse(env.SEALED_KEYS!);
const value: string = seal(ring, "session", '{"user":"alice"}', { expires: Date.now() / 1000 + 3600 });
try {
  const { plaintext, keyId, expires, stale } = open(ring, "session", value, { skew: 30 });
  const text: string = new TextDecoder().decode(plaintext);
  void [text, keyId, expires, stale];
} catch (e) {
  if (e instanceof SealedError) {
    const kind: ErrorKind = e.kind;
    void kind;
  }
}

// A Next.js middleware, with the Web types Next.js's own extend.
interface User {
  user: string;
}
const sessions = new Sessions<User>(KeyRing.fromJwks(env.SEALED_JWKS!), { idleTimeout: 1800 });
export function middleware(request: Request): Response {
  const session: SessionData<User> | null = getSession(request, sessions);
  if (!session?.value?.user) return Response.redirect(new URL("/login", request.url));
  const s = sessions.load(request);
  s.flash(`Hello again, ${s.value?.user}`);
  const response = new Response(null, { headers: { "x-middleware-next": "1" } });
  s.commit(response.headers);
  return response;
}
