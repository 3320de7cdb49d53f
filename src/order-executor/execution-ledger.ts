import type { Entry } from '../raft/types';

/**
 * The replicated state machine of the executors: which orders were executed,
 * by which leader, at which log position. Pure and deterministic, so every
 * replica that applies the same committed log holds the same ledger.
 */

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
}

export interface Execution {
  orderId: string;
  executor: string;
  term: number;
  index: number;
}

export function encodeCommand(command: OrderCommand): string {
  return JSON.stringify(command);
}

export function decodeCommand(data: string): OrderCommand {
  const command = JSON.parse(data) as OrderCommand;
  if (typeof command?.orderId !== 'string' || command.orderId === '') throw new Error('command without an orderId');
  return command;
}

export type Applied =
  | { kind: 'noop' }
  | { kind: 'executed'; execution: Execution; command: OrderCommand }
  /** The order was proposed twice (redelivered before its first copy committed): executed once, at its first index. */
  | { kind: 'duplicate'; execution: Execution; command: OrderCommand };

export class ExecutionLedger {
  private readonly executions = new Map<string, Execution>();
  private lastApplied = 0;

  apply(entry: Entry): Applied {
    if (entry.index <= this.lastApplied) throw new Error(`entry ${entry.index} applied out of order (after ${this.lastApplied})`);
    this.lastApplied = entry.index;
    if (entry.type !== 'command' || !entry.data) return { kind: 'noop' };
    const command = decodeCommand(entry.data);
    const existing = this.executions.get(command.orderId);
    if (existing) return { kind: 'duplicate', execution: existing, command };
    const execution = { orderId: command.orderId, executor: command.leader, term: entry.term, index: entry.index };
    this.executions.set(command.orderId, execution);
    return { kind: 'executed', execution, command };
  }

  get(orderId: string): Execution | undefined {
    return this.executions.get(orderId);
  }

  all(): Execution[] {
    return [...this.executions.values()];
  }

  get size(): number {
    return this.executions.size;
  }
}
