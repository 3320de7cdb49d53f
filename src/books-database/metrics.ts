import { metrics, type ObservableResult } from '@opentelemetry/api';
import { inject, injectable } from 'tsyringe';
import type { RaftStatus } from '../raft/node';
import { RAFT_NODE_ID } from '../platform/raft-host/tokens';

/** Injection token: how the metrics read the node's status. */
export const BOOKS_RAFT_STATUS = Symbol('BooksRaftStatus');

/**
 * A replica's metrics (OTLP, and Prometheus on CAUSEWAY_METRICS_PORT): role, term, commit and applied index, and
 * writes by outcome. In Prometheus: books_database_is_leader, books_database_writes_total{outcome}, and so on.
 */
@injectable()
export class BooksDatabaseMetrics {
  private readonly meter = metrics.getMeter('causeway.books-database');
  private readonly writes = this.meter.createCounter('books_database.writes', { unit: '{write}', description: 'Writes applied by this replica, by kind and outcome' });
  private readonly leaderChanges = this.meter.createCounter('books_database.leader.changes', { unit: '{change}', description: 'Times this replica saw the leader change' });
  private readonly elections = this.meter.createCounter('books_database.elections', { unit: '{election}', description: 'Elections this replica started' });
  private readonly attributes: { replica: string };

  constructor(@inject(RAFT_NODE_ID) id: string, @inject(BOOKS_RAFT_STATUS) status: () => RaftStatus) {
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
  }

  write(kind: 'decrement' | 'set' | 'seed', outcome: string): void {
    this.writes.add(1, { ...this.attributes, kind, outcome });
  }

  leaderChanged(): void {
    this.leaderChanges.add(1, this.attributes);
  }

  electionStarted(): void {
    this.elections.add(1, this.attributes);
  }
}
