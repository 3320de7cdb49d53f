import { trace } from '@opentelemetry/api';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import { CARD_FIELDS, REDACTED, redact } from './redaction';

export type Logger = winston.Logger;

/** Injection token for the process's logger. */
export const LOGGER = Symbol('Logger');

/** Card data out of every record, before any transport sees it (the rules are in redaction.ts). */
const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'timestamp') continue;
    (info as Record<string, unknown>)[key] = CARD_FIELDS.test(key) ? REDACTED : redact(info[key]);
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
  const logger = winston.createLogger({
    level,
    defaultMeta: { service, ...meta },
    format: winston.format.combine(
      redaction(),
      // After redaction: the record's own trace and span ids are never scanned for card numbers.
      traceCorrelation(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      winston.format.json(),
    ),
    // The console write is synchronous (stdout is a pipe or a file): a line is out before the call it
    // announces is sent, so the launcher's merged log keeps the causal order of the events.
    transports: [new winston.transports.Console(), new OpenTelemetryTransportV3()],
  });
  skipDisabledLevels(logger);
  return logger;
}

/**
 * winston formats every record (trace ids, redaction, JSON) before its
 * transports drop the ones below their level, so a hot path's debug lines cost
 * nearly as much as printed ones. Check the level first; it is read on every
 * call, so changing `logger.level` at run time still works. The methods stay
 * bound to this logger (no winston child loggers are made from it).
 */
function skipDisabledLevels(logger: Logger): void {
  for (const level of Object.keys(logger.levels)) {
    const write = (logger as unknown as Record<string, winston.LeveledLogMethod>)[level];
    if (typeof write !== 'function') continue;
    (logger as unknown as Record<string, unknown>)[level] = (...args: unknown[]) => {
      return logger.isLevelEnabled(level) ? (write as (...a: unknown[]) => Logger).apply(logger, args) : logger;
    };
  }
}
