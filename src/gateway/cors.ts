import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Request headers a browser may send with an export: what the OpenTelemetry JS exporters set
 * (Content-Type, and the user's headers, typically Authorization) and the encoding of a
 * compressed body. Listed, not echoed from the request: the preflight answer says exactly
 * what the receiver reads.
 */
const ALLOWED_HEADERS = 'accept, authorization, content-type, content-encoding, x-requested-with';
/** Chrome caps the preflight cache at 2 h; asking for longer only helps other browsers a little. */
const MAX_AGE_SECONDS = '7200';
const MAX_ORIGINS = 1_000;

/**
 * CORS for browser SDKs on /v1/*: gateway.corsAllowedOrigins is [] (off), ['*'] (any origin)
 * or exact origins ('https://app.example.com'). A preflight (OPTIONS with
 * Access-Control-Request-Method) is answered here, before authentication: browsers send it
 * without the Authorization header. Actual responses, refusals included (401, 429, 503), carry
 * Access-Control-Allow-Origin, so the browser exporter can read the status and Retry-After.
 */
export function registerCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  if (allowedOrigins.length > MAX_ORIGINS) throw new Error(`gateway.corsAllowedOrigins: at most ${MAX_ORIGINS} origins, got ${allowedOrigins.length}`);
  for (const o of allowedOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new Error(`gateway.corsAllowedOrigins: expected '*' or an origin such as https://app.example.com (no path, no trailing slash), got ${JSON.stringify(o)}`);
  }
  const any = allowedOrigins.includes('*');
  const exact = new Set(allowedOrigins);
  const allowOrigin = (origin: string | undefined): string | null => {
    if (origin === undefined) return null;
    return any ? '*' : exact.has(origin) ? origin : null;
  };

  // onRequest runs before the authentication hook, so refusals carry the headers too.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.url.startsWith('/v1/')) return;
    // The answer depends on Origin when origins are listed: shared caches must keep them apart.
    if (!any) reply.header('vary', 'Origin');
    const allowed = allowOrigin(req.headers.origin);
    if (allowed !== null) {
      reply.header('access-control-allow-origin', allowed);
      reply.header('access-control-expose-headers', 'retry-after');
    }
  });

  app.options('/v1/*', async (req, reply) => {
    const origin = req.headers.origin;
    if (allowOrigin(origin) === null) {
      return reply.code(403).type('application/json').send(JSON.stringify({ code: 7, message: `origin ${JSON.stringify(origin ?? '')} is not in gateway.corsAllowedOrigins` }));
    }
    reply.header('access-control-allow-methods', 'POST, OPTIONS');
    reply.header('access-control-allow-headers', ALLOWED_HEADERS);
    reply.header('access-control-max-age', MAX_AGE_SECONDS);
    return reply.code(204).send();
  });
}
