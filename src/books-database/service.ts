import { ServerError, Status } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import type {
  DecrementBatchRequest,
  DecrementBatchResponse,
  BookStock,
  BooksDatabaseServiceImplementation,
  BooksDatabaseStatus,
  DecrementRequest,
  DecrementResponse,
  DumpResponse,
  FinishStockBatchRequest,
  FinishStockBatchResponse,
  FinishStockResponse,
  PrepareStockBatchRequest,
  PrepareStockBatchResponse,
  PrepareStockResponse,
  StockTransactionsRequest,
  StockTransactionsResponse,
  ReadStockRequest,
  ReadStockResponse,
  SetStockRequest,
  SetStockResponse,
} from '../gen/causeway/v1/books_database';
import type { StepRequest } from '../gen/causeway/v1/raft';
import { notLeaderMessage } from '../books-database-client/not-leader';
import { NotLeaderError, RaftDriver, ReadTimeoutError } from '../platform/raft-host/driver';
import { stepPeerStream, raftStatusFields } from '../platform/raft-host/host';
import type { Membership } from '../platform/raft-host/wire';
import { OutcomeUnknownError, Proposals, WRITE_TIMEOUT_MS } from './proposals';
import { StockState, validateCommand, type Applied, type BookView, type StockCommand } from './stock-state';

/** Injection token: this replica's id and its peers', for validating incoming Raft messages. */
export const BOOKS_MEMBERSHIP = Symbol('BooksMembership');

const toWire = (b: BookView): BookStock => ({ bookId: b.bookId, title: b.title, priceCents: b.priceCents, stock: b.stock });

/** How a refused decision (a coordinator bug: commit after abort, or the reverse) reaches the caller. */
export const DECISION_CONFLICT = 'DECISION_CONFLICT';

export function prepareResponse(a: Applied): PrepareStockResponse {
  if (a.kind !== 'prepare') throw new Error(`a prepare applied as ${a.kind}`);
  return { vote: a.vote, bookId: a.bookId ?? '', index: a.index };
}

/** A finish's answer; a refused decision throws FAILED_PRECONDITION (the caller holds a decision we contradict). */
export function finishResponse(a: Applied): FinishStockResponse {
  if (a.kind !== 'finish') throw new Error(`a finish applied as ${a.kind}`);
  if (a.refused) throw new ServerError(Status.FAILED_PRECONDITION, `${DECISION_CONFLICT}: ${a.refused}`);
  return { state: a.state, index: a.index };
}

/**
 * The books database's gRPC face. Writes go through the Raft log on the leader and are answered with their
 * applied outcome; reads are served by the leader after a ReadIndex round, so both are linearizable. A replica
 * that does not lead answers FAILED_PRECONDITION `NOT_LEADER leader=<id>`.
 */
@injectable()
export class BooksDatabaseService implements BooksDatabaseServiceImplementation {
  constructor(
    @inject(RaftDriver) private readonly raft: RaftDriver,
    @inject(StockState) private readonly state: StockState,
    @inject(Proposals) private readonly proposals: Proposals,
    @inject(BOOKS_MEMBERSHIP) private readonly members: Membership,
    @inject(WRITE_TIMEOUT_MS) private readonly timeoutMs: number,
  ) {}

  /**
   * Two-phase commit, phase one: each transaction's items reserved (all or none) by its own log entry, all proposed
   * in this turn like a DecrementBatch; a vote is answered once its entry is applied, so a yes is replicated (on a
   * majority's disk) before it is given.
   */
  async prepareBatch(request: PrepareStockBatchRequest): Promise<PrepareStockBatchResponse> {
    const commands = request.txs.map((t): StockCommand => ({ type: 'prepare', txId: t.txId, items: t.items, term: t.term }));
    const applied = await this.writeAll(commands, 'txs');
    return { votes: applied.map(prepareResponse) };
  }

  /**
   * Phase two: the coordinator's decisions, idempotent. One that contradicts a decision taken before refuses the
   * call with FAILED_PRECONDITION `DECISION_CONFLICT: …` (the others in the batch are applied: each is its own entry).
   */
  async finishBatch(request: FinishStockBatchRequest): Promise<FinishStockBatchResponse> {
    const commands = request.txs.map((t): StockCommand => ({ type: 'finish', txId: t.txId, commit: t.commit, source: 'coordinator' }));
    const applied = await this.writeAll(commands, 'txs');
    return { results: applied.map(finishResponse) };
  }

  /** The prepared transactions, on the leader after a ReadIndex round: every Prepare and Finish answered before is in it. */
  async transactions(request: StockTransactionsRequest): Promise<StockTransactionsResponse> {
    if (request.txIds.length > 10_000) throw new ServerError(Status.INVALID_ARGUMENT, 'at most 10000 tx ids per call');
    await this.guard(() => this.raft.linearizableRead(this.timeoutMs));
    const prepared = this.state.prepared().map(({ txId, items }) => ({ txId, state: 'prepared', items }));
    const byId = new Map(prepared.map((t) => [t.txId, t]));
    const asked = request.txIds.map((txId) => byId.get(txId) ?? { txId, state: this.state.transaction(txId) ?? 'unknown', items: [] });
    return { prepared, asked };
  }

  /** A peer's stream of Raft messages; a malformed batch ends it with INVALID_ARGUMENT before any of it is stepped. */
  stream(requests: AsyncIterable<StepRequest>) {
    return stepPeerStream(this.raft, this.members, requests);
  }

  async status(): Promise<BooksDatabaseStatus> {
    return {
      ...raftStatusFields(this.raft),
      seeded: this.state.isSeeded,
      bookCount: this.state.bookCount,
      totalStock: this.state.totalStock,
      totalReserved: this.state.totalReserved,
      preparedCount: this.state.preparedCount,
    };
  }

  async read(request: ReadStockRequest): Promise<ReadStockResponse> {
    if (request.bookIds.length > 10_000) throw new ServerError(Status.INVALID_ARGUMENT, 'at most 10000 book ids per read');
    await this.guard(() => this.raft.linearizableRead(this.timeoutMs));
    const index = this.state.applied;
    if (request.bookIds.length === 0) return { books: this.state.all().map(toWire), unknownBookIds: [], index };
    const books: BookStock[] = [];
    const unknownBookIds: string[] = [];
    for (const id of request.bookIds) {
      const book = this.state.book(id);
      if (book) books.push(toWire(book));
      else unknownBookIds.push(id);
    }
    return { books, unknownBookIds, index };
  }

  async decrement(request: DecrementRequest): Promise<DecrementResponse> {
    const applied = await this.write({ type: 'decrement', orderId: request.orderId, items: request.items, term: request.term });
    if (applied.kind !== 'decrement') throw new Error(`a decrement applied as ${applied.kind}`);
    return { outcome: applied.outcome.code, bookId: applied.outcome.bookId ?? '', index: applied.outcome.index, replayed: applied.replayed };
  }

  /** Many orders' decrements, proposed together (see writeAll), each decided on its own. */
  async decrementBatch(request: DecrementBatchRequest): Promise<DecrementBatchResponse> {
    const commands = request.orders.map((o): StockCommand => ({ type: 'decrement', orderId: o.orderId, items: o.items, term: o.term }));
    const applied = await this.writeAll(commands, 'orders');
    return {
      outcomes: applied.map((a) => {
        if (a.kind !== 'decrement') throw new Error(`a decrement applied as ${a.kind}`);
        return { outcome: a.outcome.code, bookId: a.outcome.bookId ?? '', index: a.outcome.index, replayed: a.replayed };
      }),
    };
  }

  async setStock(request: SetStockRequest): Promise<SetStockResponse> {
    const applied = await this.write({ type: 'set', bookId: request.bookId, stock: request.stock, term: request.term });
    if (applied.kind !== 'set') throw new Error(`a stock update applied as ${applied.kind}`);
    return { outcome: applied.outcome.code, book: applied.book && toWire(applied.book), index: applied.outcome.index };
  }

  async dump(): Promise<DumpResponse> {
    const books = this.state.all();
    const reserved = books.filter((b) => b.reserved > 0).map((b) => ({ bookId: b.bookId, quantity: b.reserved }));
    return { appliedIndex: this.state.applied, books: books.map(toWire), digest: this.state.digest(), reserved };
  }

  /**
   * Every command validated first (one bad command refuses the call, deciding nothing), then all submitted in this
   * turn, so they are proposed together: one Append per follower for the lot.
   */
  private async writeAll(commands: StockCommand[], field: string): Promise<Applied[]> {
    if (commands.length > 10_000) throw new ServerError(Status.INVALID_ARGUMENT, `at most 10000 ${field} per call`);
    for (const [i, command] of commands.entries()) {
      const problem = validateCommand(command);
      if (problem) throw new ServerError(Status.INVALID_ARGUMENT, `${field}[${i}]: ${problem}`);
    }
    return this.guard(() => Promise.all(commands.map((command) => this.proposals.submit(command))));
  }

  private async write(command: StockCommand) {
    const problem = validateCommand(command);
    if (problem) throw new ServerError(Status.INVALID_ARGUMENT, problem);
    return this.guard(() => this.proposals.submit(command));
  }

  /** Protocol errors as gRPC statuses the client acts on: follow the leader, or retry. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.raft.status().role !== 'leader') throw new ServerError(Status.FAILED_PRECONDITION, notLeaderMessage(this.raft.status().leader));
    try {
      return await work();
    } catch (err) {
      if (err instanceof NotLeaderError) throw new ServerError(Status.FAILED_PRECONDITION, notLeaderMessage(err.leader));
      if (err instanceof OutcomeUnknownError || err instanceof ReadTimeoutError) throw new ServerError(Status.UNAVAILABLE, err.message);
      throw err;
    }
  }
}
