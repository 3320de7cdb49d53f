import type { Entry } from '../raft/types';

/**
 * The replicated state machine of the executors: which orders were executed,
 * by which leader, at which log position. Pure and deterministic, so every
 * replica that applies the same committed log holds the same ledger.
 */

/** Why an order failed; it changed no stock. */
export interface OrderFailure {
  code: 'OUT_OF_STOCK' | 'UNKNOWN_BOOK';
  message: string;
}

/**
 * What executing an order came to, decided by the books database before the order is proposed (see
 * execute-order.ts) and replicated with it, so every replica and every later leader knows it.
 */
export type OrderOutcome = { state: 'executed' } | { state: 'failed'; failure: OrderFailure };

/** What a leader proposes for one order: everything execution needs, no card data. */
export interface OrderCommand {
  orderId: string;
  /** The leader that leased the order from the queue and proposed it. */
  leader: string;
  shippingMethod: string;
  customerName: string;
  maskedCard: string;
  items: { name: string; quantity: number }[];
  /** The checkout's W3C traceparent, so the execution span can link to it. */
  traceparent: string;
  /** The stock decrement's outcome (absent in entries written before the books database: executed). */
  outcome?: OrderOutcome;
}

export interface Execution {
  orderId: string;
  executor: string;
  term: number;
  index: number;
  /** Present when the order failed (and changed nothing). */
  failure?: OrderFailure;
}

export function encodeCommand(command: OrderCommand): string {
  return JSON.stringify(command);
}

export function decodeCommand(data: string): OrderCommand {
  const command = JSON.parse(data) as OrderCommand;
  if (typeof command?.orderId !== 'string' || command.orderId === '') throw new Error('command without an orderId');
  const outcome = command.outcome;
  if (outcome !== undefined && outcome.state !== 'executed' && !(outcome.state === 'failed' && typeof outcome.failure?.code === 'string')) {
    throw new Error(`command for ${command.orderId} has a malformed outcome`);
  }
  return command;
}

export type Applied =
  | { kind: 'noop' }
  | { kind: 'executed'; execution: Execution; command: OrderCommand }
  /** The order was proposed twice (redelivered before its first copy committed): executed once, at its first index. */
  | { kind: 'duplicate'; execution: Execution; command: OrderCommand };

/**
 * How many executions the ledger remembers (the latest ones). Exactly-once needs
 * an order's id only until no copy of it can be proposed again: a copy comes
 * from a lease that was not acked, which the queue redelivers within its
 * visibility timeout (seconds), far inside this horizon.
 */
export const DEFAULT_LEDGER_RETAIN = 50_000;

/** The ledger as a snapshot holds it: executions as compact tuples, oldest first. */
interface LedgerSnapshot {
  version: 1;
  lastApplied: number;
  executedTotal: number;
  /** A failed order's tuple adds its failure code and message. */
  executions: [orderId: string, executor: string, term: number, index: number, failureCode?: OrderFailure['code'], failureMessage?: string][];
}

export class ExecutionLedger {
  /** In application order, so the oldest is forgotten first. */
  private executions = new Map<string, Execution>();
  private lastApplied = 0;
  private total = 0;

  constructor(private readonly retain = DEFAULT_LEDGER_RETAIN) {}

  apply(entry: Entry): Applied {
    if (entry.index !== this.lastApplied + 1) throw new Error(`entry ${entry.index} applied out of order (after ${this.lastApplied})`);
    this.lastApplied = entry.index;
    if (entry.type !== 'command' || !entry.data) return { kind: 'noop' };
    const command = decodeCommand(entry.data);
    const existing = this.executions.get(command.orderId);
    if (existing) return { kind: 'duplicate', execution: existing, command };
    const execution: Execution = { orderId: command.orderId, executor: command.leader, term: entry.term, index: entry.index };
    if (command.outcome?.state === 'failed') execution.failure = { ...command.outcome.failure };
    this.executions.set(command.orderId, execution);
    this.total++;
    if (this.executions.size > this.retain) this.executions.delete(this.executions.keys().next().value!);
    return { kind: 'executed', execution, command };
  }

  get(orderId: string): Execution | undefined {
    return this.executions.get(orderId);
  }

  all(): Execution[] {
    return [...this.executions.values()];
  }

  /** Executions remembered now (at most `retain`). */
  get size(): number {
    return this.executions.size;
  }

  /** Orders executed since the cluster began, remembered or not. */
  get executedTotal(): number {
    return this.total;
  }

  /** The whole ledger as of the last applied entry, for a Raft snapshot. */
  snapshot(): string {
    const state: LedgerSnapshot = {
      version: 1,
      lastApplied: this.lastApplied,
      executedTotal: this.total,
      executions: [...this.executions.values()].map((e) =>
        e.failure ? [e.orderId, e.executor, e.term, e.index, e.failure.code, e.failure.message] : [e.orderId, e.executor, e.term, e.index],
      ),
    };
    return JSON.stringify(state);
  }

  /** Replaces the ledger by a snapshot's (at start-up, or one installed from the leader). */
  restore(data: string): void {
    const state = JSON.parse(data) as LedgerSnapshot;
    if (state?.version !== 1 || !Number.isSafeInteger(state.lastApplied) || !Array.isArray(state.executions)) {
      throw new Error('not a ledger snapshot (version 1)');
    }
    this.executions = new Map();
    for (const [orderId, executor, term, index, failureCode, failureMessage] of state.executions.slice(-this.retain)) {
      const execution: Execution = { orderId, executor, term, index };
      if (failureCode) execution.failure = { code: failureCode, message: failureMessage ?? '' };
      this.executions.set(orderId, execution);
    }
    this.lastApplied = state.lastApplied;
    this.total = state.executedTotal;
  }
}
