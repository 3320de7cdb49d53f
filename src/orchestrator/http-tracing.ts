import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span, when it is traced. */
    span?: Span;
  }
}

const tracer = trace.getTracer('causeway.orchestrator.http');

/**
 * One SERVER span per HTTP request, named by its route ("POST /checkout"), the
 * caller's traceparent as its parent. Two Fastify hooks instead of the generic
 * http instrumentation, which patches Node's http module and cost a tenth of the
 * orchestrator's CPU per checkout; `skip` leaves out health probes, preflights
 * and streams.
 */
export function traceRequests(app: FastifyInstance, skip: (request: FastifyRequest) => boolean): void {
  app.decorateRequest('span', undefined);
  app.addHook('onRequest', async (request) => {
    if (skip(request)) return;
    const urlPath = request.url.split('?')[0];
    const route = request.routeOptions.url ?? urlPath;
    request.span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': urlPath },
      },
      propagation.extract(ROOT_CONTEXT, request.headers),
    );
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = request.span;
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** Runs `work` with the request's span active, so the spans and calls it makes join the request's trace. */
export function withRequestSpan<T>(request: FastifyRequest, work: () => T): T {
  return request.span ? context.with(trace.setSpan(context.active(), request.span), work) : work();
}
