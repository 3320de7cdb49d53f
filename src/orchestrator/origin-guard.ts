/**
 * Control endpoints (kill the leader, and any later admin endpoint) act on the
 * machine, so a page from another site must not be able to call them: a
 * cross-site `fetch(..., {method: 'POST'})` with no body is a "simple" request
 * that browsers send without a CORS preflight. Browsers always attach `Origin`
 * to such a POST and `Sec-Fetch-Site` to every request, and a page cannot
 * forge either. curl sends neither, and is allowed: it already runs on a
 * machine that can reach the port (the servers bind loopback by default).
 */
import type { onRequestHookHandler } from 'fastify';
import type { Logger } from '../platform/logger';

/** `{error: {code, message}}` with 403, before any handler runs. */
export function refuseForeignOrigins(allowedOrigins: readonly string[], logger: Logger): onRequestHookHandler {
  // Listed origins only: a `*` in CAUSEWAY_CORS_ORIGINS lets any page read the shop, never kill a process.
  const allowed = new Set(allowedOrigins.filter((o) => o !== '*'));
  return async (request, reply) => {
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const reason =
      origin !== undefined && !allowed.has(origin)
        ? `origin ${origin} is not allowed to use control endpoints (CAUSEWAY_CORS_ORIGINS lists the allowed ones)`
        : site === 'cross-site'
          ? 'control endpoints refuse cross-site requests'
          : undefined;
    if (reason) {
      logger.warn(`refused ${request.method} ${request.url}: ${reason}`, { origin, sec_fetch_site: site });
      return reply.code(403).send({ error: { code: 'FORBIDDEN_ORIGIN', message: reason } });
    }
  };
}
