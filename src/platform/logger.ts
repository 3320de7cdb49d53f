import { trace } from '@opentelemetry/api';
import { OpenTelemetryTransportV3 } from '@opentelemetry/winston-transport';
import winston from 'winston';
import { readOtlpSignals } from './config';
import { CARD_FIELDS, REDACTED, redact } from './redaction';

/** The levels Causeway logs at (winston's npm levels, the ones in use). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * What the services log through. A small port of our own instead of winston's whole Logger: it is all the code
 * uses, and it lets the level be checked before winston builds a record (see LevelCheckedLogger).
 */
export interface Logger {
  /** The lowest level written; assignable at run time. */
  level: string;
  isLevelEnabled(level: LogLevel): boolean;
  error(message: string, meta?: object): void;
  warn(message: string, meta?: object): void;
  info(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
}


/** Injection token for the process's logger. */
export const LOGGER = Symbol('Logger');

/** Where winston's transports find a record's finished line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/**
 * The whole record in one pass, instead of a chain of five formats (each a function call and a walk over the
 * record): card data out of every field before any transport sees it (the rules are in redaction.ts); then the
 * active span's ids, so a log line leads to its trace and back (after redaction: the record's own trace and span
 * ids are never scanned for card numbers); the time; and the JSON line.
 */
const causewayRecord = winston.format((info) => {
  const record = info as Record<string | symbol, unknown>;
  for (const key of Object.keys(record)) {
    if (key === 'level') continue;
    record[key] = CARD_FIELDS.test(key) ? REDACTED : redact(record[key]);
  }
  const ctx = trace.getActiveSpan()?.spanContext();
  if (ctx && trace.isSpanContextValid(ctx)) {
    record.trace_id = ctx.traceId;
    record.span_id = ctx.spanId;
  }
  record.timestamp = new Date().toISOString();
  record[MESSAGE] = toJsonLine(record);
  return info;
});

/** JSON.stringify, which is fast; a record it cannot write (a cycle, a bigint) is written with those replaced. */
function toJsonLine(record: object): string {
  try {
    return JSON.stringify(record);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (value && typeof value === 'object') {
        if (seen.has(value)) return '[Circular]';
        seen.add(value);
      }
      return value;
    });
  }
}

/**
 * winston builds and formats every record (copies the metadata, trace ids, redaction, JSON) before its transports
 * drop the ones below their level, so a hot path's debug lines would cost nearly as much as printed ones. This
 * wrapper asks winston's own `isLevelEnabled` first, on every call (so a changed `level` applies at once), and only
 * then calls its public `log`.
 */
class LevelCheckedLogger implements Logger {
  constructor(private readonly winston: winston.Logger) {}

  get level(): string {
    return this.winston.level;
  }

  set level(level: string) {
    this.winston.level = level;
  }

  isLevelEnabled(level: LogLevel): boolean {
    return this.winston.isLevelEnabled(level);
  }

  error(message: string, meta?: object): void {
    this.write('error', message, meta);
  }

  warn(message: string, meta?: object): void {
    this.write('warn', message, meta);
  }

  info(message: string, meta?: object): void {
    this.write('info', message, meta);
  }

  debug(message: string, meta?: object): void {
    this.write('debug', message, meta);
  }

  private write(level: LogLevel, message: string, meta: object | undefined): void {
    if (!this.winston.isLevelEnabled(level)) return;
    if (meta === undefined) this.winston.log(level, message);
    else this.winston.log(level, message, meta);
  }
}

/**
 * Node writes to a pipe at once only while the pipe has room: past the 64 KiB its reader has not taken yet, the rest
 * waits in a queue in memory, and `process.exit()` drops that queue. A service logging a burst just before it exits
 * (a broken invariant, a refused start) lost the end of it whenever the launcher was slow to read: 641 of 2,000
 * lines reached a reader that waited a second. A blocking pipe makes the write wait for the reader instead. Files
 * and terminals are written synchronously already.
 */
function blockOnStdoutPipe(): void {
  const stdout = process.stdout as typeof process.stdout & { _type?: string; _handle?: { setBlocking?: (on: boolean) => number } };
  if (stdout._type === 'pipe') stdout._handle?.setBlocking?.(true);
}

/**
 * JSON lines on stdout, one object per record with service, trace and span ids;
 * and the same records as OpenTelemetry logs (exported over OTLP when the SDK
 * runs, a no-op otherwise). Redaction runs before either sees a record.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', meta: Record<string, string> = {}): Logger {
  blockOnStdoutPipe();
  const logger = winston.createLogger({
    level,
    defaultMeta: { service, ...meta },
    format: causewayRecord(),
    // The console write is synchronous (stdout is a pipe or a file): a line is out before the call it
    // announces is sent, so the launcher's merged log keeps the causal order of the events.
    transports: [new winston.transports.Console(), ...(readOtlpSignals(process.env).logs ? [new OpenTelemetryTransportV3()] : [])],
  });
  return new LevelCheckedLogger(logger);
}
