import { metrics, type ObservableResult } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import type { RaftStatus } from '../raft/node';
import { TallyCounter } from '../platform/tally-counter';
import { EXECUTOR_ID } from './tokens';

/** Injection tokens: how the metrics read the node's status and the queue depth last seen by the leader. */
export const RAFT_STATUS = Symbol('RaftStatus');
export const QUEUE_DEPTH = Symbol('QueueDepth');

/**
 * The executor's metrics (OTLP, and Prometheus on CAUSEWAY_METRICS_PORT). Names
 * map to Prometheus as: executor.is_leader → executor_is_leader,
 * executor.leader.changes → executor_leader_changes_total, and so on.
 */
@injectable()
export class ExecutorMetrics {
  private readonly meter = metrics.getMeter('causeway.executor');
  private readonly leaderChanges = this.meter.createCounter('executor.leader.changes', {
    unit: '{change}',
    description: 'Times this executor saw the cluster leader change',
  });
  // Counted on every applied entry of every replica: tallies (see TallyCounter); the rare events keep plain counters.
  private readonly executed = new TallyCounter(this.meter, 'orders.executed', { unit: '{order}', description: 'Orders this replica executed' });
  private readonly failed = new TallyCounter(this.meter, 'orders.failed', {
    unit: '{order}',
    description: 'Orders this replica recorded as failed (nothing taken from stock), by failure.code',
  });
  private readonly elections = this.meter.createCounter('executor.elections', { unit: '{election}', description: 'Elections this executor started' });
  private readonly decisions = new TallyCounter(this.meter, 'executor.commit.decisions', {
    unit: '{transaction}',
    description: 'Two-phase commit decisions this replica applied, by decision (commit, abort) and abort.reason',
  });
  private readonly commitDuration = this.meter.createHistogram('executor.commit.duration', {
    unit: 'ms',
    description: 'Leader: from a leased order handed to the coordinator to its decision applied, by decision',
    advice: { explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] },
  });
  private readonly attributes: { executor: string };

  constructor(
    @inject(EXECUTOR_ID) id: string,
    @inject(RAFT_STATUS) status: () => RaftStatus,
    @inject(QUEUE_DEPTH) queueDepth: () => number | undefined,
  ) {
    this.attributes = { executor: id };
    // Counters export nothing until their first add: start them at 0 so increase() sees the first change.
    this.leaderChanges.add(0, this.attributes);
    this.executed.add('', () => this.attributes, 0);
    this.elections.add(0, this.attributes);
    this.decisions.add('commit|', () => ({ ...this.attributes, decision: 'commit' }), 0);
    const gauge = (name: string, unit: string, description: string, read: (s: RaftStatus) => number) =>
      this.meter
        .createObservableGauge(name, { unit, description })
        .addCallback((result: ObservableResult) => result.observe(read(status()), this.attributes));
    gauge('executor.is_leader', '{leader}', '1 while this executor is the leader', (s) => (s.role === 'leader' ? 1 : 0));
    gauge('executor.raft.term', '{term}', 'Current Raft term', (s) => s.term);
    gauge('executor.commit.index', '{entry}', 'Highest committed log index', (s) => s.commit);
    gauge('executor.applied.index', '{entry}', 'Highest applied log index', (s) => s.applied);
    gauge('executor.replication.lag', '{entry}', 'Leader: entries the slowest follower lacks; follower: committed but unapplied', (s) =>
      s.role === 'leader'
        ? Math.max(0, ...Object.values(s.progress).map((p) => s.lastIndex - p.match))
        : Math.max(0, s.commit - s.applied),
    );
    // Not order.queue.depth: that is the queue's own gauge; this is a possibly stale copy, kept after losing the lead.
    this.meter
      .createObservableGauge('executor.queue.depth.observed', { unit: '{order}', description: 'Orders in the queue when this executor last polled it as leader' })
      .addCallback((result) => {
        const depth = queueDepth();
        if (depth !== undefined) result.observe(depth, this.attributes);
      });
  }

  leaderChanged(): void {
    this.leaderChanges.add(1, this.attributes);
  }

  orderExecuted(): void {
    this.executed.add('', () => this.attributes);
  }

  orderFailed(code: string): void {
    this.failed.add(code, () => ({ ...this.attributes, 'failure.code': code }));
  }

  /** A two-phase commit's decision entry applied on this replica. */
  decisionApplied(decision: 'commit' | 'abort', reason: string | undefined): void {
    this.decisions.add(`${decision}|${reason ?? ''}`, () => ({ ...this.attributes, decision, ...(reason ? { 'abort.reason': reason } : {}) }));
  }

  commitLatency(ms: number, decision: 'commit' | 'abort'): void {
    this.commitDuration.record(ms, { ...this.attributes, decision });
  }

  /** The leader's transactions in flight, by phase (preparing, deciding, finishing, completing). */
  observeTransactions(read: () => Record<string, number>): void {
    this.meter
      .createObservableGauge('executor.commit.in_flight', {
        unit: '{transaction}',
        description: "Leader: two-phase commits in the coordinator's hands, by phase (preparing: participants may hold them prepared)",
      })
      .addCallback((result) => {
        for (const [phase, count] of Object.entries(read())) result.observe(count, { ...this.attributes, phase });
      });
  }

  electionStarted(): void {
    this.elections.add(1, this.attributes);
  }
}
