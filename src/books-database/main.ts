/**
 * Composition root of one books database replica: the pure Raft core on the shared Raft host (file storage, gRPC
 * transport, timer), the pure stock state machine, and the service that writes through the log and reads by
 * ReadIndex. The first leader of an empty database seeds the catalog.
 */
import 'reflect-metadata';
import { container } from 'tsyringe';
import { BooksDatabaseDefinition } from '../gen/causeway/v1/books_database';
import { hostGrpcService } from '../platform/grpc-host';
import { createLogger, LOGGER } from '../platform/logger';
import { RAFT_DRIVER_OPTIONS, RAFT_HOOKS, RAFT_STORAGE, RaftDriver, type RaftDriverHooks } from '../platform/raft-host/driver';
import { ElectionTelemetry } from '../platform/raft-host/election-telemetry';
import { openRaftReplica, sharedRaftHooks } from '../platform/raft-host/host';
import { RAFT_ELECTION_METRICS, RAFT_NODE_ID, RAFT_PEER_ADDRESSES, RAFT_SERVICE_DEFINITION } from '../platform/raft-host/tokens';
import { RaftTransport } from '../platform/raft-host/transport';
import { runMain } from '../platform/run-main';
import { RaftNode } from '../raft/node';
import { loadBooksDatabaseConfig } from './config';
import { ExecutorDecisionClient } from '../order-executor-client/decision-client';
import { systemTime } from '../platform/time';
import { BOOKS_PREPARED_COUNT, BOOKS_RAFT_STATUS, BooksDatabaseMetrics } from './metrics';
import { Proposals, WRITE_TIMEOUT_MS } from './proposals';
import { seedBooks } from './seed';
import { BOOKS_MEMBERSHIP, BooksDatabaseService, finishResponse } from './service';
import { StockState, type Applied } from './stock-state';
import { CooperativeTermination } from './termination';

/** A snapshot travels in one Raft message: allow far more than the books and remembered outcomes need. */
const MAX_RAFT_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How often a leader checks whether the database still needs its seed. */
const SEED_CHECK_MS = 100;

runMain('books-database', async () => {
  const db = loadBooksDatabaseConfig();
  const logger = createLogger('books-database', db.logLevel, { replica: db.id });

  const { storage, state, node } = await openRaftReplica({ id: db.id, peers: Object.keys(db.peers), dataDir: db.dataDir, raft: db.raft, logger });
  const stock = new StockState(db.outcomesRetain);
  if (state.snapshot) stock.restore(state.snapshot.data);

  container.register(LOGGER, { useValue: logger });
  container.register(RAFT_NODE_ID, { useValue: db.id });
  container.register(RAFT_PEER_ADDRESSES, { useValue: db.peers });
  container.register(RAFT_SERVICE_DEFINITION, { useValue: BooksDatabaseDefinition });
  container.register(BOOKS_MEMBERSHIP, { useValue: { self: db.id, peers: Object.keys(db.peers) } });
  container.register(RaftNode, { useValue: node });
  container.register(RAFT_STORAGE, { useValue: storage });
  container.register(RAFT_DRIVER_OPTIONS, { useValue: db.raft });
  container.register(StockState, { useValue: stock });
  container.register(WRITE_TIMEOUT_MS, { useValue: db.writeTimeoutMs });
  container.register(BOOKS_RAFT_STATUS, { useValue: () => node.status() });
  container.register(BOOKS_PREPARED_COUNT, { useValue: () => stock.preparedCount });
  container.registerSingleton(RaftTransport);
  container.registerSingleton(BooksDatabaseMetrics);
  container.registerSingleton(ElectionTelemetry);
  container.registerSingleton(RaftDriver);
  container.registerSingleton(Proposals);
  const transport = container.resolve(RaftTransport);
  const metrics = container.resolve(BooksDatabaseMetrics);
  container.register(RAFT_ELECTION_METRICS, { useValue: metrics });
  const elections = container.resolve(ElectionTelemetry);

  // Resolved after the driver (which needs the hooks): the hooks reach it through this variable.
  let proposals: Proposals | undefined;
  /** Telemetry of an applied two-phase-commit entry (on every replica, as the writes'). */
  const observeTransaction = (applied: Extract<Applied, { kind: 'prepare' | 'finish' }>) => {
    if (applied.kind === 'prepare') {
      metrics.prepared(applied.vote, applied.replayed);
      return;
    }
    if (applied.refused) {
      // A coordinator bug: the decision contradicts the one taken. Nothing was applied; the caller is refused.
      logger.error(`refused a ${applied.commit ? 'commit' : 'abort'} of ${applied.txId}: ${applied.refused}`, { tx_id: applied.txId, source: applied.source });
    }
    metrics.finished(applied.refused ? 'refused' : applied.state, applied.source, applied.replayed);
  };
  container.register<RaftDriverHooks>(RAFT_HOOKS, {
    useValue: {
      ...sharedRaftHooks(transport, elections, logger),
      apply: (entries, replay) => {
        for (const entry of entries) {
          const applied = stock.apply(entry);
          proposals?.applied(entry, applied);
          if (replay || applied.kind === 'noop') continue;
          if (applied.kind === 'seed') {
            if (applied.seeded) logger.info(`seeded ${stock.bookCount} books at index ${entry.index}`, { index: entry.index });
            metrics.write('seed', applied.seeded ? 'OK' : 'ALREADY_SEEDED');
          } else if (applied.kind === 'prepare' || applied.kind === 'finish') {
            observeTransaction(applied);
          } else {
            metrics.write(applied.kind, applied.kind === 'decrement' && applied.replayed ? 'REPLAYED' : applied.outcome.code);
          }
        }
      },
      restore: (snapshot) => {
        stock.restore(snapshot.data);
        proposals?.skipped(snapshot.index);
        logger.info(`installed the leader's snapshot at index ${snapshot.index} (term ${snapshot.term}): ${stock.bookCount} books`, {
          snapshot_index: snapshot.index,
        });
      },
      capture: () => stock.snapshot(),
    },
  });
  const driver = container.resolve(RaftDriver);
  // A peer whose connection is reset or refused has crashed: if it led, campaign now, not after the timeout.
  transport.onPeerLost((peer) => driver.peerLost(peer));
  proposals = container.resolve(Proposals);
  const service = container.resolve(BooksDatabaseService);

  // Cooperative termination: the leader asks the executors about transactions prepared too long (termination.ts).
  const decisions = new ExecutorDecisionClient(db.executors, { callDeadlineMs: 1000, totalMs: 3000, traced: true }, logger);
  const termination = new CooperativeTermination(
    {
      prepared: () => stock.prepared(),
      isLeader: () => driver.isServingLeader(),
      finish: async (txId, commit) => {
        finishResponse(await proposals!.submit({ type: 'finish', txId, commit, source: 'termination' }));
      },
    },
    decisions,
    systemTime,
    { timeoutMs: db.decisionTimeoutMs, retryMs: Math.min(db.decisionTimeoutMs, 5000), participant: 'books-database' },
    logger,
    (answer) => metrics.terminationAsked(answer),
  );
  let terminating: Promise<void> | undefined;
  const terminator = setInterval(
    () => {
      // One round at a time: a slow executor cluster does not pile up questions.
      terminating ??= termination.check().finally(() => (terminating = undefined));
    },
    Math.max(20, Math.min(1000, Math.floor(db.decisionTimeoutMs / 4))),
  );
  terminator.unref();

  // Seeding: the first serving leader of an empty database proposes the catalog; the state machine applies only the
  // first seed, so a second leader's (or a retry's) changes nothing.
  let seeding = false;
  const seeder = setInterval(() => {
    if (!db.seed || stock.isSeeded) {
      clearInterval(seeder);
      return;
    }
    if (seeding || !driver.isServingLeader()) return;
    seeding = true;
    proposals!
      .submit({ type: 'seed', books: seedBooks() })
      .catch((err: Error) => logger.warn(`seeding not done yet: ${err.message}`))
      .finally(() => (seeding = false));
  }, SEED_CHECK_MS);
  seeder.unref();

  await hostGrpcService({
    name: 'books-database',
    host: db.host,
    port: db.port,
    logger,
    register: (server) => server.add(BooksDatabaseDefinition, service),
    maxReceiveBytes: MAX_RAFT_MESSAGE_BYTES,
    // Raft traffic and status polls would be hundreds of traces a second; reads and writes are traced.
    untraced: ['/causeway.v1.BooksDatabase/Stream', '/causeway.v1.BooksDatabase/Status', '/causeway.v1.BooksDatabase/Dump'],
    onShutdown: async () => {
      clearInterval(seeder);
      clearInterval(terminator);
      decisions.close();
      proposals?.close();
      await driver.stop();
      transport.close();
      await storage.close();
    },
  });
  logger.info(
    `books database replica ${db.id} recovered term ${state.hardState.term}, snapshot at ${state.snapshot?.index ?? 0}, ${state.entries.length} log entries after it; peers ${Object.keys(db.peers).join(', ')}`,
  );
  driver.start();
});
