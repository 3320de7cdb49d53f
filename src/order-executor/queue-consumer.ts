import { ClientError, Status } from 'nice-grpc';
import type { Lease, OrderQueueClient } from '../gen/causeway/v1/order_queue';
import { inject, injectable } from 'tsyringe';
import { LOGGER, type Logger } from '../platform/logger';
import { encodeCommand, ExecutionLedger, type OrderOutcome } from './execution-ledger';
import { DeposedError, EXECUTE_ORDER, type ExecuteOrder } from './execute-order';
import { RaftDriver } from '../platform/raft-host/driver';
import { ORDER_QUEUE_CLIENT } from './tokens';
import type { LeaseCommitter } from './two-phase/driver';

/** Injection token of the two-phase-commit coordinator the consumer hands leases to (undefined: decrement path). */
export const LEASE_COMMITTER = Symbol('LeaseCommitter');

/** Injection token of the consumer's options. */
export const CONSUMER_OPTIONS = Symbol('QueueConsumerOptions');

export interface QueueConsumerOptions {
  id: string;
  batch: number;
  leaseMs: number;
  /** Back-off after a failed queue call, and the longest wait for leadership before checking again. */
  backoffMs: number;
  /** Long-poll wait of one Dequeue while the queue is empty. */
  waitMs: number;
  /** Under two-phase commit: the wait after a lease that was not full, before leasing again (ConsumerConfig). */
  lingerMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The leader's work loop: lease orders from the queue (fenced by the Raft term),
 * execute each (the books database's decrement, see execute-order.ts), propose
 * it with its outcome to the log, and ack the lease only after the order is
 * committed and applied. A lease that is never acked (leader crashed, lost
 * leadership) expires and the order is delivered again; the database replays
 * its first outcome and the ledger makes a second copy a no-op, so no order is
 * lost and none runs twice.
 *
 * Under two-phase commit (CAUSEWAY_COMMIT_PROTOCOL=2pc) a `committer` takes the leased orders instead: the
 * coordinator proposes each order's decision itself, and the lease is acked the same way, once that entry applies.
 */
/** Under two-phase commit: how many leases' worth (of the current lease size each) the coordinator may hold at once. */
export const MAX_IN_FLIGHT_BATCHES = 4;

/**
 * A leader's leases start at RAMP_START orders in each term and grow by one for every RAMP_STEP orders applied in it,
 * up to `batch` (so 256 after 3,072 orders): slow start. A new leader runs its leader code cold (a follower never ran
 * it), and a cold leader handed too many orders at once falls silent past the election timeout, so that a new one is
 * elected in the middle of the burst. In first bursts of 3,000 orders into a fresh system:
 * - on a fast day (R about 5,000 calls/s): 4 leases of 256 at once, an election in 7 of 17; growing by one per order
 *   applied, 2 of 5; by one per 4, none of 10; leases of 64, none of 17;
 * - on a slow day (R about 3,700): by one per 4, 5 of 10; by one per 16, 1 of 6; leases of 64, 1 of 7.
 * A term's later bursts run at the full batch either way.
 */
export const RAMP_START = 64;
export const RAMP_STEP = 16;

@injectable()
export class QueueConsumer {
  private stopped = false;
  private readonly pendingAcks = new Set<string>();
  /** Orders proposed in the current term and not yet applied. */
  private readonly inFlight = new Set<string>();
  private inFlightTerm = 0;
  /** Orders applied while leading in `inFlightTerm`: the lease size grows with them (RAMP_START). */
  private appliedThisTerm = 0;
  private loop: Promise<void> | undefined;
  private acking = false;

  constructor(
    @inject(ORDER_QUEUE_CLIENT) private readonly queue: OrderQueueClient,
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(ExecutionLedger) private readonly ledger: ExecutionLedger,
    @inject(EXECUTE_ORDER) private readonly execute: ExecuteOrder,
    @inject(CONSUMER_OPTIONS) private readonly options: QueueConsumerOptions,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(LEASE_COMMITTER) private readonly committer?: LeaseCommitter,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Called for each applied order. Only the leader acks; followers just apply. */
  onApplied(orderId: string): void {
    this.inFlight.delete(orderId);
    if (this.raft.status().role !== 'leader') return;
    this.appliedThisTerm++;
    this.pendingAcks.add(orderId);
    this.flushAcksSoon();
  }

  /** Acks go out as soon as orders apply, batched: at most one Ack call in flight. */
  private flushAcksSoon(): void {
    if (this.acking || this.pendingAcks.size === 0) return;
    this.acking = true;
    setImmediate(() => {
      this.flushAcks(this.raft.status().term)
        .catch((err: Error) => this.logger.warn(`ack failed, the orders will be redelivered and acked then: ${err.message}`))
        .finally(() => {
          this.acking = false;
          if (this.raft.status().role === 'leader') this.flushAcksSoon();
        });
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.raft.isServingLeader()) {
          this.pendingAcks.clear();
          this.inFlight.clear();
          // Wake the moment this node can serve (leader with its own term's entry applied).
          await this.raft.waitUntilServing(this.options.backoffMs);
          continue;
        }
        const term = this.raft.status().term;
        if (term !== this.inFlightTerm) {
          this.inFlight.clear();
          this.inFlightTerm = term;
          this.appliedThisTerm = 0;
        }
        // Under two-phase commit leases are handed over without waiting for their decisions, so the consumer holds
        // back here instead: at most MAX_IN_FLIGHT_BATCHES leases' worth in the coordinator's hands. Without it a
        // burst was leased whole, and its Prepare, decision and Finish batches grew to thousands of orders each,
        // whose synchronous encoding and applying stalled the leader past the election timeout, again and again.
        const window = Math.min(this.options.batch, RAMP_START + Math.floor(this.appliedThisTerm / RAMP_STEP));
        let max = window;
        if (this.committer) {
          const room = window * MAX_IN_FLIGHT_BATCHES - this.committer.inFlight();
          if (room <= 0) {
            await this.committer.roomChanged(this.options.backoffMs);
            continue;
          }
          max = Math.min(max, room);
        }
        const { leases } = await this.queue.dequeue({
          consumerId: this.options.id,
          term,
          max,
          leaseMs: this.options.leaseMs,
          waitMs: this.options.waitMs,
        });
        const fresh = this.triage(leases);
        if (this.committer) {
          for (const lease of fresh) this.handOver(lease, term);
          // A lease short of `max` took all there was: let the next orders gather for one commit. A full one
          // means more are waiting, so lease again at once.
          if (leases.length > 0 && leases.length < max && this.options.lingerMs > 0) await sleep(this.options.lingerMs);
          continue;
        }
        if (fresh.length > 0 && this.raft.isServingLeader() && this.raft.status().term === term) {
          for (const lease of fresh) this.inFlight.add(lease.order!.orderId);
          const decided = await this.executeAll(fresh, term);
          // Proposed only in the term the decrements were fenced with: a deposed leader's proposals would be
          // replaced anyway, and the next leader executes the orders again (getting the same outcomes).
          if (decided.length > 0 && this.raft.isServingLeader() && this.raft.status().term === term) {
            this.raft.propose(decided.map(({ lease, outcome }) => this.command(lease, outcome)));
          } else {
            for (const { lease } of decided) this.inFlight.delete(lease.order!.orderId);
          }
        }
      } catch (err) {
        if (err instanceof ClientError && err.code === Status.FAILED_PRECONDITION) {
          this.logger.warn(`queue fenced us off: ${err.details}`);
        } else {
          this.logger.warn(`queue call failed: ${(err as Error).message}`);
        }
        await sleep(this.options.backoffMs);
      }
    }
  }

  /**
   * Executes the orders at once; returns those with an outcome. An order whose execution failed (the database
   * unreachable, or our fence refused) is left leased and not in flight: the queue delivers it again.
   */
  private async executeAll(leases: readonly Lease[], term: number): Promise<{ lease: Lease; outcome: OrderOutcome }[]> {
    const results = await Promise.all(
      leases.map(async (lease) => {
        const order = lease.order!;
        try {
          return { lease, outcome: await this.execute({ orderId: order.orderId, items: order.items, traceparent: order.traceparent }, term) };
        } catch (err) {
          this.inFlight.delete(order.orderId);
          if (err instanceof DeposedError) this.logger.warn(`order ${order.orderId} not executed: ${err.message}`, { order_id: order.orderId });
          else this.logger.warn(`order ${order.orderId} could not be executed now, it will be delivered again: ${(err as Error).message}`, { order_id: order.orderId });
          return undefined;
        }
      }),
    );
    return results.filter((r) => r !== undefined);
  }

  /** Two-phase commit: the coordinator drives the order; a decision the log already holds acks it now. */
  private handOver(lease: Lease, term: number): void {
    const result = this.committer!.begin(lease.order!, term);
    if (result === 'decided') {
      this.pendingAcks.add(lease.order!.orderId);
      this.flushAcksSoon();
    }
  }

  /** Already executed (a redelivery after a failover): just ack. Already proposed this term: wait. */
  private triage(leases: readonly Lease[]): Lease[] {
    const fresh: Lease[] = [];
    for (const lease of leases) {
      const orderId = lease.order?.orderId;
      if (!orderId) continue;
      if (this.ledger.get(orderId)) {
        this.pendingAcks.add(orderId);
        this.flushAcksSoon();
      } else if (!this.inFlight.has(orderId)) fresh.push(lease);
    }
    return fresh;
  }

  private command(lease: Lease, outcome: OrderOutcome) {
    const order = lease.order!;
    return encodeCommand({
      orderId: order.orderId,
      leader: this.options.id,
      shippingMethod: order.shippingMethod,
      customerName: order.customerName,
      maskedCard: order.maskedCard,
      items: order.items.map((i) => ({ name: i.name, quantity: i.quantity })),
      traceparent: order.traceparent,
      outcome,
    });
  }

  private async flushAcks(term: number): Promise<void> {
    if (this.pendingAcks.size === 0) return;
    const orderIds = [...this.pendingAcks];
    this.pendingAcks.clear();
    try {
      await this.queue.ack({ consumerId: this.options.id, term, orderIds });
    } catch (err) {
      for (const id of orderIds) this.pendingAcks.add(id);
      throw err;
    }
  }
}
