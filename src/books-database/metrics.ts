import { metrics, type ObservableResult } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import type { RaftStatus } from '../raft/node';
import { RAFT_NODE_ID } from '../platform/raft-host/tokens';
import { TallyCounter } from '../platform/tally-counter';

/** Injection token: how the metrics read the node's status. */
export const BOOKS_RAFT_STATUS = Symbol('BooksRaftStatus');

/** Injection token: how the metrics read the number of prepared (undecided) transactions. */
export const BOOKS_PREPARED_COUNT = Symbol('BooksPreparedCount');

/**
 * A replica's metrics (OTLP, and Prometheus on CAUSEWAY_METRICS_PORT): role, term, commit and applied index,
 * writes by outcome, and the two-phase commit: prepared transactions in flight, prepares by vote, finishes by
 * decision. In Prometheus: books_database_is_leader, books_database_writes_total{outcome},
 * books_database_tx_prepared, books_database_tx_prepares_total{vote}, books_database_tx_finishes_total{decision}, …
 */
@injectable()
export class BooksDatabaseMetrics {
  private readonly meter = metrics.getMeter('causeway.books-database');
  // Counted on every applied entry of every replica: tallies (see TallyCounter); the rare events keep plain counters.
  private readonly writes = new TallyCounter(this.meter, 'books_database.writes', { unit: '{write}', description: 'Writes applied by this replica, by kind and outcome' });
  private readonly leaderChanges = this.meter.createCounter('books_database.leader.changes', { unit: '{change}', description: 'Times this replica saw the leader change' });
  private readonly elections = this.meter.createCounter('books_database.elections', { unit: '{election}', description: 'Elections this replica started' });
  private readonly prepares = new TallyCounter(this.meter, 'books_database.tx.prepares', {
    unit: '{prepare}',
    description: 'Prepares applied by this replica, by vote (replayed: a retry answered with the standing vote)',
  });
  private readonly finishes = new TallyCounter(this.meter, 'books_database.tx.finishes', {
    unit: '{finish}',
    description: 'Finishes applied by this replica, by decision and source (coordinator, or termination: learned by asking the executors)',
  });
  private readonly terminationAsks = this.meter.createCounter('books_database.tx.termination.asks', {
    unit: '{ask}',
    description: 'Times the leader asked the executors for the decision of a transaction prepared too long, by answer',
  });
  private readonly attributes: { replica: string };

  constructor(
    @inject(RAFT_NODE_ID) id: string,
    @inject(BOOKS_RAFT_STATUS) status: () => RaftStatus,
    @inject(BOOKS_PREPARED_COUNT) preparedCount: () => number,
  ) {
    this.attributes = { replica: id };
    this.leaderChanges.add(0, this.attributes);
    this.elections.add(0, this.attributes);
    const gauge = (name: string, unit: string, description: string, read: (s: RaftStatus) => number) =>
      this.meter
        .createObservableGauge(name, { unit, description })
        .addCallback((result: ObservableResult) => result.observe(read(status()), this.attributes));
    gauge('books_database.is_leader', '{leader}', '1 while this replica is the leader', (s) => (s.role === 'leader' ? 1 : 0));
    gauge('books_database.raft.term', '{term}', 'Current Raft term', (s) => s.term);
    gauge('books_database.commit.index', '{entry}', 'Highest committed log index', (s) => s.commit);
    gauge('books_database.applied.index', '{entry}', 'Highest applied log index', (s) => s.applied);
    this.meter
      .createObservableGauge('books_database.tx.prepared', { unit: '{transaction}', description: 'Transactions prepared (items reserved) and not yet decided' })
      .addCallback((result: ObservableResult) => result.observe(preparedCount(), this.attributes));
  }

  prepared(vote: string, replayed: boolean): void {
    this.prepares.add(`${vote}|${replayed}`, () => ({ ...this.attributes, vote, replayed: String(replayed) }));
  }

  /** `decision`: committed or aborted, or refused (a decision contradicting the one taken, nothing applied). */
  finished(decision: 'committed' | 'aborted' | 'refused', source: string, replayed: boolean): void {
    this.finishes.add(`${decision}|${source}|${replayed}`, () => ({ ...this.attributes, decision, source, replayed: String(replayed) }));
  }

  terminationAsked(answer: 'commit' | 'abort' | 'pending' | 'error'): void {
    this.terminationAsks.add(1, { ...this.attributes, answer });
  }

  write(kind: 'decrement' | 'set' | 'seed', outcome: string): void {
    this.writes.add(`${kind}|${outcome}`, () => ({ ...this.attributes, kind, outcome }));
  }

  leaderChanged(): void {
    this.leaderChanges.add(1, this.attributes);
  }

  electionStarted(): void {
    this.elections.add(1, this.attributes);
  }
}
