import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../platform/logger';
import { CheckoutAdmission } from './admission';
import { checkoutWaiting } from './checkout-metrics';
import { DependencyError, type CheckoutFlow } from './checkout';
import type { ClusterView } from './cluster';
import type { DownstreamHealth } from './health';
import type { LeaderKiller } from './leader-killer';
import { withCommit, type OrderStore } from './order-store';
import type { CheckoutResult } from './api-types';
import { traceRequests, withRequestSpan } from './http-tracing';
import { refuseForeignOrigins } from './origin-guard';
import { checkoutRequestSchema, setStockRequestSchema, type CheckoutRequest, type SetStockBody } from './schema';
import { bearerMatches, type BooksInventory } from './books';

export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpDeps {
  /** The shop's catalog, as the web app lists it. */
  catalog: readonly { bookId: string; title: string; author: string; genres: string[]; year: number }[];
  /** The books with live stock (GET /books) and the admin's stock changes (PUT /books/:bookId/stock). */
  books: BooksInventory;
  /** CAUSEWAY_ADMIN_TOKEN: PUT /books/:bookId/stock needs it as a Bearer token; unset, the endpoint answers 403. */
  adminToken?: string;
  /** Local runs only: kills the current leader. Undefined elsewhere, and then POST /cluster/kill-leader is 404. */
  leaderKiller?: LeaderKiller;
  flow: CheckoutFlow;
  /** Every answered order, durable before its answer is sent. */
  store: OrderStore;
  health: DownstreamHealth;
  cluster: ClusterView;
  corsOrigins: readonly string[];
  /** Checkouts in progress (running and waiting their turn); beyond this, 503 with Retry-After instead of unbounded latency. */
  maxInFlight: number;
  /** Checkouts running at once; the others wait in arrival order (src/orchestrator/admission.ts). Default: maxInFlight. */
  checkoutConcurrency?: number;
  logger: Logger;
}

/** `{error: {code, message}}`, the one error shape every endpoint answers with. */
const errorBody = (code: string, message: string) => ({ error: { code, message } });

/** Fastify's error codes, as the stable codes clients see. */
const FASTIFY_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
};

export function buildHttpApp(deps: HttpDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: MAX_BODY_BYTES,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Types are checked, not coerced: "2" is not a quantity.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // URLs the router refuses before any route runs: answered in the API's error shape, without echoing them.
    frameworkErrors: (error, _request, reply) => {
      const [status, code, message] =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? [404, 'NOT_FOUND', 'a path segment is too long to name anything here']
          : error.code === 'FST_ERR_BAD_URL'
            ? [400, 'BAD_URL', 'the URL is not valid percent-encoded UTF-8']
            : [400, 'BAD_REQUEST', 'the request could not be routed'];
      void (reply as FastifyReply).code(status).send(errorBody(code, message));
    },
    // Errors Node's HTTP parser raises before any route runs (headers over 16 KiB, garbage on the wire)
    // still answer in the API's error shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      // A reset connection is already gone: nothing to answer (as Fastify's own handler does).
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, reason, code, message] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'HEADERS_TOO_LARGE', 'request headers exceed 16 KiB']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout', 'REQUEST_TIMEOUT', 'the request was not completed in time']
            : [400, 'Bad Request', 'BAD_REQUEST', 'malformed HTTP request'];
      if (socket.writable) {
        const body = JSON.stringify(errorBody(code, message));
        socket.write(
          `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(err);
    },
  });

  // The course's page posts JSON without a Content-Type (so as text/plain): every body is parsed as JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  const allowedOrigin = (origin: string | undefined) =>
    origin && (deps.corsOrigins.includes('*') || deps.corsOrigins.includes(origin)) ? origin : undefined;

  app.addHook('onRequest', async (request, reply) => {
    const origin = allowedOrigin(request.headers.origin);
    if (origin) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Vary', 'Origin');
      if (request.method === 'OPTIONS') {
        reply.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        reply.header('Access-Control-Allow-Headers', 'Content-Type');
        reply.header('Access-Control-Max-Age', '600');
        return reply.code(204).send();
      }
    }
  });

  traceRequests(app, (request) => request.method === 'OPTIONS' || request.url === '/health' || request.url.startsWith('/cluster/events'));

  const admission = new CheckoutAdmission(Math.min(deps.checkoutConcurrency ?? deps.maxInFlight, deps.maxInFlight), deps.maxInFlight, checkoutWaiting);
  app.post<{ Body: CheckoutRequest }>('/checkout', { schema: { body: checkoutRequestSchema } }, async (request, reply) => {
    const answered = admission.run(async () => {
      if (request.raw.socket?.destroyed || reply.raw.destroyed) {
        // The client gave up while this checkout waited its turn: nobody will read the answer, and a client that
        // retries would otherwise buy twice. Nothing has been done for it yet, so nothing is lost.
        deps.logger.info('checkout not run: its client left while it waited in line');
        return reply.code(503).send(errorBody('CLIENT_GONE', 'the client closed the connection before the checkout began'));
      }
      const result = await withRequestSpan(request, () => deps.flow.checkout(request.body));
      // Recorded before the answer leaves: an order the customer saw can always be looked up again.
      try {
        await deps.store.put(result);
      } catch (err) {
        // Like a dependency failure: the outcome is unknown to the client (an approved order is already queued).
        deps.logger.error(`order ${result.orderId} could not be recorded: ${(err as Error).message}`, { order_id: result.orderId });
        return reply
          .code(503)
          .header('Retry-After', '1')
          .send(errorBody('ORDER_NOT_RECORDED', 'the order was processed but could not be recorded; its outcome is unknown'));
      }
      return result;
    });
    if (answered) return answered;
    return reply
      .code(503)
      .header('Retry-After', '1')
      .send(errorBody('OVERLOADED', `${admission.inProgress} checkouts are already in progress or in line; retry in a second`));
  });

  app.get<{ Params: { id: string } }>('/orders/:id', async (request, reply) => {
    // Ids longer than Fastify's maxParamLength (100) never get here: see frameworkErrors.
    const result = deps.store.get(request.params.id);
    if (!result) return reply.code(404).send(errorBody('ORDER_NOT_FOUND', `no order ${request.params.id} is known here`));
    if (result.state === 'queued') {
      // The reconciler records executions in the background; a reader need not wait for its next pass.
      const found = await deps.cluster.findExecution(result.orderId);
      if (found) {
        // Recorded in the background: the answer needs the lookup, not the write.
        deps.store.markExecuted([[result.orderId, found]]).catch((err: Error) =>
          deps.logger.warn(`order ${result.orderId} could not be marked ${found.failure ? 'failed' : 'executed'}: ${err.message}`, { order_id: result.orderId }),
        );
        const { failure, commit, ...execution } = found;
        const decided: CheckoutResult = failure ? { ...result, state: 'failed', execution, failure } : { ...result, state: 'executed', execution };
        return commit ? withCommit(decided, commit) : decided;
      }
    } else if (result.commit && !result.commit.finished) {
      // Decided, but the decision is still being delivered: the participants' states move on (votes → captured,
      // committed, …), so ask the executors again and keep what they say.
      const commit = (await deps.cluster.findExecution(result.orderId))?.commit;
      if (commit) {
        deps.store.updateCommits([[result.orderId, commit]]).catch((err: Error) =>
          deps.logger.warn(`order ${result.orderId}: its commit could not be updated: ${err.message}`, { order_id: result.orderId }),
        );
        return withCommit(result, commit);
      }
    }
    return result;
  });

  app.get('/cluster', async () => deps.cluster.snapshot());

  app.get('/catalog', async () => ({ books: deps.catalog }));

  app.get('/books', async (_request, reply) => {
    try {
      return { books: await deps.books.list() };
    } catch (err) {
      deps.logger.warn(`GET /books: the books database did not answer: ${(err as Error).message}`);
      return reply.code(503).header('Retry-After', '1').send(errorBody('BOOKS_DATABASE_UNAVAILABLE', 'the books database cannot be reached right now'));
    }
  });

  // Administration: refused before the body is even parsed unless the request comes from this shop's origin (or
  // none, as curl) and carries the configured token.
  const adminToken = deps.adminToken;
  const admin = {
    onRequest: [
      refuseForeignOrigins(deps.corsOrigins, deps.logger),
      async (request: FastifyRequest, reply: FastifyReply) => {
        if (!adminToken) return reply.code(403).send(errorBody('ADMIN_DISABLED', 'administration is disabled: set CAUSEWAY_ADMIN_TOKEN to enable it'));
        if (!bearerMatches(request.headers.authorization, adminToken)) {
          deps.logger.warn(`refused ${request.method} ${request.url}: no valid admin token`);
          return reply.code(401).header('WWW-Authenticate', 'Bearer').send(errorBody('UNAUTHORIZED', 'a valid admin token is required (Authorization: Bearer <token>)'));
        }
      },
    ],
    schema: { body: setStockRequestSchema },
  };
  app.put<{ Params: { bookId: string }; Body: SetStockBody }>('/books/:bookId/stock', admin, async (request, reply) => {
    const { bookId } = request.params;
    let book;
    try {
      book = await deps.books.setStock(bookId, request.body.stock);
    } catch (err) {
      deps.logger.warn(`PUT /books/${bookId}/stock failed: ${(err as Error).message}`);
      return reply.code(503).header('Retry-After', '1').send(errorBody('BOOKS_DATABASE_UNAVAILABLE', 'the books database cannot be reached right now'));
    }
    if (!book) return reply.code(404).send(errorBody('BOOK_NOT_FOUND', `no book ${bookId} is known here`));
    deps.logger.info(`stock of ${bookId} set to ${book.stock} by the admin`, { book_id: bookId, stock: book.stock });
    return book;
  });

  // Control endpoints: only in local mode (otherwise the route does not exist), and only for this shop's pages.
  const control = { onRequest: refuseForeignOrigins(deps.corsOrigins, deps.logger) };
  const leaderKiller = deps.leaderKiller;
  if (leaderKiller) {
    for (const [path, target] of [
      ['/cluster/kill-leader', 'executors'],
      ['/cluster/books-database/kill-leader', 'booksDatabase'],
    ] as const) {
      app.post(path, control, async (_request, reply) => {
        try {
          return await leaderKiller.killLeader(target);
        } catch (err) {
          return reply.code(409).send(errorBody('NO_LEADER', (err as Error).message));
        }
      });
    }
  }

  // Server-Sent Events: a snapshot first, then every role and leader change.
  app.get('/cluster/events', (request, reply) => {
    reply.hijack();
    const origin = allowedOrigin(request.headers.origin);
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...(origin ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {}),
    });
    reply.raw.write('retry: 1000\n\n');
    const unsubscribe = deps.cluster.subscribe((event) => {
      reply.raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    });
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    // The response's close (not the request's, which fires once the request is read) means the client left.
    reply.raw.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  app.get('/health', async (_request, reply) => {
    const report = await deps.health.check();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody('NOT_FOUND', `${request.method} ${request.url} does not exist`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const first = error.validation[0];
      const where = `${error.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
      return reply.code(400).send(errorBody('INVALID_REQUEST', `${where} ${first?.message ?? 'is invalid'}`));
    }
    if (error instanceof DependencyError) {
      return reply.code(error.timedOut ? 504 : 503).header('Retry-After', '1').send(errorBody(error.timedOut ? 'UPSTREAM_TIMEOUT' : 'SERVICE_UNAVAILABLE', error.message));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = FASTIFY_ERRORS[error.code] ?? (error instanceof SyntaxError ? 'MALFORMED_JSON' : 'BAD_REQUEST');
      return reply.code(status).send(errorBody(code, error.message));
    }
    deps.logger.error(`unexpected error on ${request.method} ${request.url}`, { error: error.message, stack: error.stack });
    return reply.code(500).send(errorBody('INTERNAL', 'internal error'));
  });

  return app;
}
