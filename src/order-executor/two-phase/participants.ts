import { waitForChannelReady, type Channel } from 'nice-grpc';
import type {
  FinishStockRequest,
  FinishStockResponse,
  PrepareStockRequest,
  PrepareStockResponse,
  ReadStockResponse,
} from '../../gen/causeway/v1/books_database';
import {
  PaymentDefinition,
  type PaymentClient,
  type PaymentFinishRequest,
  type PaymentPrepareRequest,
  type PaymentPrepareResponse,
  type PaymentRecord,
} from '../../gen/causeway/v1/payment';
import { createGrpcClient } from '../../platform/grpc';
import { normalizeTitle } from '../../books-database-client/client';
import type { Participant, Vote } from './types';

/**
 * The seam between the coordinator's driver and the participants: a port per participant with the proto's batch
 * shapes (one answer per transaction, in the request's order), and an adapter per participant that turns the
 * proto's vote strings into the coordinator's votes. The books port is what BooksDatabaseClient offers (it follows
 * the database's Raft leader); the payment port is the generated Payment client behind GrpcPaymentPort.
 */

export interface BooksParticipantPort {
  /** Linearizable read of every book: titles to ids (the course's API sends titles). */
  read(): Promise<ReadStockResponse>;
  prepareBatch(txs: readonly PrepareStockRequest[]): Promise<PrepareStockResponse[]>;
  finishBatch(txs: readonly FinishStockRequest[]): Promise<FinishStockResponse[]>;
}

export interface PaymentParticipantPort {
  /** Resolves once connected (rejects if not within the call deadline). */
  ready(): Promise<void>;
  prepareBatch(txs: readonly PaymentPrepareRequest[]): Promise<PaymentPrepareResponse[]>;
  finishBatch(txs: readonly PaymentFinishRequest[]): Promise<PaymentRecord[]>;
}

/** A transaction as the driver hands it to the participants: the queued order's part each needs. */
export interface TxOrder {
  txId: string;
  /** By title, as the queued order carries them. */
  items: readonly { name: string; quantity: number }[];
  paymentToken: string;
  amountCents: number;
}

/** One participant, uniformly: votes and states in the coordinator's terms. Throws when it cannot be reached. */
export interface TwoPhaseParticipant {
  readonly name: Participant;
  prepare(txs: readonly TxOrder[], term: number): Promise<Vote[]>;
  /** The participant's state after the decision, per transaction ("committed", "captured", "voided", …). */
  finish(txs: readonly { txId: string; commit: boolean }[]): Promise<string[]>;
  /**
   * Gets ready to be asked: connected, and whatever the first Prepare would otherwise fetch. Every replica does it
   * at start, so a new leader's first commit after a failover pays for none of it. Throws while it cannot.
   */
  warm(): Promise<void>;
}

/** The participant answered something this build does not know: fail loudly rather than guess a vote. */
class UnknownAnswerError extends Error {
  constructor(participant: Participant, answer: string) {
    super(`${participant} answered an unknown vote ${JSON.stringify(answer)}`);
  }
}

/** The books database's vote (PrepareStockResponse.vote) in the coordinator's terms. Pure. */
export function booksVote(response: Pick<PrepareStockResponse, 'vote' | 'bookId'>): Vote {
  switch (response.vote) {
    case 'YES':
    // A retried Prepare of a transaction already committed: only a logged commit gets there, so it voted yes.
    case 'COMMITTED':
      return { kind: 'yes' };
    case 'OUT_OF_STOCK':
    case 'UNKNOWN_BOOK':
      return { kind: 'no', reason: response.vote, detail: response.bookId };
    case 'ABORTED':
      return { kind: 'no', reason: 'PARTICIPANT_ABORTED', detail: 'books-database' };
    case 'STALE_TERM':
      return { kind: 'stale' };
    default:
      throw new UnknownAnswerError('books-database', response.vote);
  }
}

/** The payment service's vote (PaymentPrepareResponse.vote) in the coordinator's terms. Pure. */
export function paymentVote(response: Pick<PaymentPrepareResponse, 'vote' | 'message'>): Vote {
  switch (response.vote) {
    case 'YES':
      return { kind: 'yes' };
    case 'DECLINED':
      return { kind: 'no', reason: 'PAYMENT_DECLINED', detail: response.message };
    case 'UNKNOWN_TOKEN':
      return { kind: 'no', reason: 'UNKNOWN_TOKEN', detail: response.message };
    case 'ABORTED':
      return { kind: 'no', reason: 'PARTICIPANT_ABORTED', detail: 'payment' };
    case 'STALE_TERM':
      return { kind: 'stale' };
    default:
      throw new UnknownAnswerError('payment', response.vote);
  }
}

const expectCount = (participant: Participant, got: number, want: number) => {
  if (got !== want) throw new Error(`${participant} answered ${got} results for ${want} transactions`);
};

/**
 * The books database as a participant: resolves titles to book ids (a title no book has votes UNKNOWN_BOOK
 * without a call: the set of titles is fixed once seeded), then reserves at Prepare.
 */
export class BooksParticipant implements TwoPhaseParticipant {
  readonly name = 'books-database' as const;
  private idByTitle: Map<string, string> | undefined;
  /** The book's title for a no vote's message ("not enough copies of \"Animal Farm\""), as the customer knows it. */
  private titleById = new Map<string, string>();

  constructor(private readonly port: BooksParticipantPort) {}

  /** The titles' ids (a linearizable read, which also finds the database's leader). */
  async warm(): Promise<void> {
    await this.titles();
  }

  async prepare(txs: readonly TxOrder[], term: number): Promise<Vote[]> {
    const ids = await this.titles();
    const votes: (Vote | undefined)[] = [];
    const requests: PrepareStockRequest[] = [];
    const asked: number[] = [];
    txs.forEach((tx, i) => {
      const items: { bookId: string; quantity: number }[] = [];
      for (const item of tx.items) {
        const bookId = ids.get(normalizeTitle(item.name));
        if (bookId === undefined) {
          votes[i] = { kind: 'no', reason: 'UNKNOWN_BOOK', detail: item.name };
          return;
        }
        items.push({ bookId, quantity: item.quantity });
      }
      requests.push({ txId: tx.txId, items, term });
      asked.push(i);
    });
    if (requests.length > 0) {
      const responses = await this.port.prepareBatch(requests);
      expectCount(this.name, responses.length, requests.length);
      responses.forEach((response, j) => {
        const vote = booksVote(response);
        votes[asked[j]] = vote.kind === 'no' && vote.detail !== undefined && this.titleById.has(vote.detail) ? { ...vote, detail: this.titleById.get(vote.detail) } : vote;
      });
    }
    return votes as Vote[];
  }

  async finish(txs: readonly { txId: string; commit: boolean }[]): Promise<string[]> {
    const results = await this.port.finishBatch(txs.map(({ txId, commit }) => ({ txId, commit })));
    expectCount(this.name, results.length, txs.length);
    return results.map((r) => r.state);
  }

  private async titles(): Promise<Map<string, string>> {
    if (this.idByTitle) return this.idByTitle;
    const { books } = await this.port.read();
    // Before the first leader's seed commits the database is empty: not "every title unknown", just not ready.
    if (books.length === 0) throw new Error('the books database holds no books yet (not seeded)');
    this.idByTitle = new Map(books.map((b) => [normalizeTitle(b.title), b.bookId]));
    this.titleById = new Map(books.map((b) => [b.bookId, b.title]));
    return this.idByTitle;
  }
}

/** The payment service as a participant: holds the amount at Prepare, captures or voids it at Finish. */
export class PaymentParticipant implements TwoPhaseParticipant {
  readonly name = 'payment' as const;

  constructor(private readonly port: PaymentParticipantPort) {}

  warm(): Promise<void> {
    return this.port.ready();
  }

  async prepare(txs: readonly TxOrder[], term: number): Promise<Vote[]> {
    const responses = await this.port.prepareBatch(txs.map((tx) => ({ txId: tx.txId, token: tx.paymentToken, amountCents: tx.amountCents, term })));
    expectCount(this.name, responses.length, txs.length);
    return responses.map(paymentVote);
  }

  async finish(txs: readonly { txId: string; commit: boolean }[]): Promise<string[]> {
    const records = await this.port.finishBatch(txs.map(({ txId, commit }) => ({ txId, commit })));
    expectCount(this.name, records.length, txs.length);
    return records.map((r) => r.state);
  }
}

/** The payment port over gRPC (one process, no leader to follow): the generated client, one call per batch. */
export class GrpcPaymentPort implements PaymentParticipantPort {
  private readonly client: PaymentClient;
  private readonly channel: Channel;
  private readonly deadlineMs: number;

  constructor(address: string, deadlineMs: number) {
    ({ client: this.client, channel: this.channel } = createGrpcClient(PaymentDefinition, address, { deadlineMs, maxReconnectBackoffMs: 500 }));
    this.deadlineMs = deadlineMs;
  }

  ready(): Promise<void> {
    return waitForChannelReady(this.channel, new Date(Date.now() + this.deadlineMs));
  }

  async prepareBatch(txs: readonly PaymentPrepareRequest[]): Promise<PaymentPrepareResponse[]> {
    return (await this.client.prepareBatch({ txs: [...txs] })).votes;
  }

  async finishBatch(txs: readonly PaymentFinishRequest[]): Promise<PaymentRecord[]> {
    return (await this.client.finishBatch({ txs: [...txs] })).records;
  }

  close(): void {
    this.channel.close();
  }
}
