import { trace } from '@opentelemetry/api';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';

export type Logger = winston.Logger;

/** Injection token for the process's logger. */
export const LOGGER = Symbol('Logger');

// 13–19 digits, optionally grouped by spaces or dashes: anything shaped like a
// card number. Nothing should ever log one; this is defence in depth.
const PAN_LIKE = /\b\d(?:[ -]?\d){12,18}\b/g;
const SECRET_KEYS = /^(cvv|cvc|card_?number|credit_?card|pan)$/i;

/** Masks card-like data in a log record's message and metadata. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(PAN_LIKE, '[redacted]');
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEYS.test(key) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    (info as Record<string, unknown>)[key] = SECRET_KEYS.test(key) ? '[redacted]' : redact(info[key]);
  }
  return info;
});

/** Adds the active span's ids, so a log line leads to its trace and back. */
const traceCorrelation = winston.format((info) => {
  const span = trace.getActiveSpan();
  const ctx = span?.spanContext();
  if (ctx && trace.isSpanContextValid(ctx)) {
    info.trace_id = ctx.traceId;
    info.span_id = ctx.spanId;
  }
  return info;
});

/**
 * JSON lines on stdout, one object per record with service, trace and span ids;
 * and the same records as OpenTelemetry logs (exported over OTLP when the SDK
 * runs, a no-op otherwise). Redaction runs before either sees a record.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', meta: Record<string, string> = {}): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service, ...meta },
    format: winston.format.combine(
      traceCorrelation(),
      redaction(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console(), new OpenTelemetryTransportV3()],
  });
}
