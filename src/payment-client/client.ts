import type { Channel } from 'nice-grpc';
import {
  PaymentDefinition,
  type PaymentClient as GeneratedClient,
  type PaymentFinishRequest,
  type PaymentPrepareRequest,
  type PaymentPrepareResponse,
  type PaymentRecord,
  type PaymentStatus,
  type TokenizeResponse,
} from '../gen/causeway/v1/payment';
import { createGrpcClient } from '../platform/grpc';

export interface PaymentClientOptions {
  /** Deadline of one call. */
  deadlineMs: number;
  /** A trace span per call (false for pollers). */
  traced?: boolean;
}

/** The votes a Prepare is answered with (payment.proto). */
export type PaymentVote = 'YES' | 'DECLINED' | 'UNKNOWN_TOKEN' | 'ABORTED' | 'STALE_TERM';

type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/**
 * The payment service's client side. Every call but Tokenize is idempotent (by transaction id), so callers may
 * retry them freely; a retried Tokenize only leaves an unused token behind.
 */
export class PaymentClient {
  private readonly client: GeneratedClient;
  private readonly channel: Channel;

  constructor(address: string, options: PaymentClientOptions) {
    ({ client: this.client, channel: this.channel } = createGrpcClient(PaymentDefinition, address, {
      deadlineMs: options.deadlineMs,
      traced: options.traced ?? true,
      maxReconnectBackoffMs: 500,
    }));
  }

  /** The card's token and its masked form; INVALID_ARGUMENT for a number failing Luhn or an expiry not MM/YY. */
  tokenize(cardNumber: string, expirationDate: string): Promise<TokenizeResponse> {
    return this.client.tokenize({ cardNumber, expirationDate });
  }

  /** One vote per transaction, in order. `term`: the coordinator's fence (0 or left out: none). */
  async prepareBatch(txs: readonly Optional<PaymentPrepareRequest, 'term'>[]): Promise<PaymentPrepareResponse[]> {
    const { votes } = await this.client.prepareBatch({ txs: txs.map((t) => ({ term: 0, ...t })) });
    if (votes.length !== txs.length) throw new Error(`payment answered ${votes.length} votes for ${txs.length} transactions`);
    return votes;
  }

  /** Each transaction's record after its decision, in order. */
  async finishBatch(txs: readonly PaymentFinishRequest[]): Promise<PaymentRecord[]> {
    const { records } = await this.client.finishBatch({ txs: [...txs] });
    if (records.length !== txs.length) throw new Error(`payment answered ${records.length} records for ${txs.length} transactions`);
    return records;
  }

  /** A transaction's record (state "unknown" when it has none). */
  get(txId: string): Promise<PaymentRecord> {
    return this.client.get({ txId });
  }

  status(): Promise<PaymentStatus> {
    return this.client.status({});
  }

  close(): void {
    this.channel.close();
  }
}
