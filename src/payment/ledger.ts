import { checkCard } from './card';
import {
  type Change,
  finishProblem,
  prepareProblem,
  type FinishRequest,
  type PaymentState,
  type PrepareAnswer,
  type PrepareRequest,
  type TxRecord,
} from './payment-state';
import type { PaymentStore } from './payment-store';
import type { TokenSeal } from './token-seal';
import type { TimeSource } from '../platform/time';

/** A request the service cannot read (INVALID_ARGUMENT); its message never holds card data. */
export class InvalidPaymentRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPaymentRequest';
  }
}

/** What the ledger reports as it changes records (metrics). */
export interface LedgerObserver {
  /** Every vote answered, retries included. */
  voted(answers: readonly PrepareAnswer[]): void;
  /** Transactions whose state changed (once per change: a retry changes nothing). */
  recorded(txs: readonly TxRecord[]): void;
  tokenized(declined: boolean): void;
}

export interface LedgerOptions {
  state: PaymentState;
  store: PaymentStore;
  time: TimeSource;
  /** Seals a card's record into its token (Tokenize writes nothing). */
  seal: TokenSeal;
  /** The decline list, as digits. */
  declinedCards: ReadonlySet<string>;
  observer?: LedgerObserver;
  /**
   * A write did not reach the disk: the state in memory is ahead of it, and answering on would promise what a
   * restart cannot keep. Called before the error is rethrown; main stops the process.
   */
  onStoreFailure: (err: Error) => void;
}

/**
 * The payment service's operations: the pure state machine, with every change written to the store (and fsynced)
 * before the caller gets its answer.
 */
export class PaymentLedger {
  constructor(private readonly o: LedgerOptions) {}

  get state(): PaymentState {
    return this.o.state;
  }

  tokenize(cardNumber: string, expirationDate: string): { token: string; maskedCard: string } {
    const checked = checkCard(cardNumber, expirationDate, this.o.declinedCards);
    if (!checked.ok) throw new InvalidPaymentRequest(checked.problem);
    // Nothing to write: the token carries its record, sealed (token-seal.ts), so no fsync holds up the checkout.
    const token = this.o.seal.seal({ maskedCard: checked.card.maskedCard, declined: checked.card.declined, createdAtMs: this.o.time.now() });
    this.o.observer?.tokenized(checked.card.declined);
    return { token, maskedCard: checked.card.maskedCard };
  }

  prepareBatch(requests: readonly PrepareRequest[]): PrepareAnswer[] {
    for (const [i, r] of requests.entries()) {
      const problem = prepareProblem(r);
      if (problem) throw new InvalidPaymentRequest(`txs[${i}]: ${problem}`);
    }
    const { answers, changes } = this.o.state.prepareBatch(requests, this.o.time.now());
    this.persist(changes);
    this.o.observer?.voted(answers);
    this.o.observer?.recorded(txChanges(changes));
    return answers;
  }

  finishBatch(requests: readonly FinishRequest[]): TxRecord[] {
    for (const [i, r] of requests.entries()) {
      const problem = finishProblem(r);
      if (problem) throw new InvalidPaymentRequest(`txs[${i}]: ${problem}`);
    }
    const { records, changes } = this.o.state.finishBatch(requests, this.o.time.now());
    this.persist(changes);
    this.o.observer?.recorded(txChanges(changes));
    return records;
  }

  private persist(changes: readonly Change[]): void {
    try {
      this.o.store.write(changes);
    } catch (err) {
      this.o.onStoreFailure(err as Error);
      throw err;
    }
  }
}

const txChanges = (changes: readonly Change[]): TxRecord[] => changes.flatMap((c) => (c.kind === 'tx' ? [c.tx] : []));
