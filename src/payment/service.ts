import { ServerError, Status } from 'nice-grpc';
import { inject, injectable } from 'tsyringe';
import type {
  GetPaymentRequest,
  PaymentFinishBatchRequest,
  PaymentFinishBatchResponse,
  PaymentPrepareBatchRequest,
  PaymentPrepareBatchResponse,
  PaymentRecord,
  PaymentServiceImplementation,
  PaymentStatus,
  TokenizeRequest,
  TokenizeResponse,
} from '../gen/causeway/v1/payment';
import { LOGGER, type Logger } from '../platform/logger';
import { InvalidPaymentRequest, PaymentLedger } from './ledger';
import { DecisionConflict, type TxRecord } from './payment-state';

/** Most transactions in one PrepareBatch or FinishBatch. */
export const MAX_BATCH = 10_000;

/**
 * A record on the wire. A transaction aborted before any Prepare reached this service holds nothing: it is reported
 * `voided` with 0 cents (the contract's states are unknown, held, captured, voided, declined).
 */
export function toWire(tx: TxRecord): PaymentRecord {
  return { txId: tx.txId, state: tx.state === 'aborted' ? 'voided' : tx.state, amountCents: tx.amountCents, maskedCard: tx.maskedCard, updatedAtMs: tx.updatedAtMs };
}

/**
 * The payment service's gRPC face over the ledger. Refused input is INVALID_ARGUMENT with a message that names the
 * field, never its value; a decision that contradicts a recorded one is FAILED_PRECONDITION and an error in the log
 * (the coordinator broke the protocol), with nothing of the batch applied.
 */
@injectable()
export class PaymentService implements PaymentServiceImplementation {
  constructor(
    @inject(PaymentLedger) private readonly ledger: PaymentLedger,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async tokenize(request: TokenizeRequest): Promise<TokenizeResponse> {
    const tokenized = this.guard(() => this.ledger.tokenize(request.cardNumber, request.expirationDate));
    this.logger.debug(`tokenized card ${tokenized.maskedCard}`, { masked_card: tokenized.maskedCard });
    return tokenized;
  }

  async prepareBatch(request: PaymentPrepareBatchRequest): Promise<PaymentPrepareBatchResponse> {
    checkBatch(request.txs.length);
    const answers = this.guard(() => this.ledger.prepareBatch(request.txs.map((t) => ({ txId: t.txId, token: t.token, amountCents: t.amountCents, term: t.term }))));
    answers.forEach((a, i) => {
      if (a.vote !== 'YES') this.logger.info(`transaction ${request.txs[i].txId}: vote ${a.vote} (${a.message})`, { tx_id: request.txs[i].txId, vote: a.vote });
    });
    return { votes: answers.map((a) => ({ vote: a.vote, message: a.message })) };
  }

  async finishBatch(request: PaymentFinishBatchRequest): Promise<PaymentFinishBatchResponse> {
    checkBatch(request.txs.length);
    const records = this.guard(() => this.ledger.finishBatch(request.txs.map((t) => ({ txId: t.txId, commit: t.commit }))));
    return { records: records.map(toWire) };
  }

  async get(request: GetPaymentRequest): Promise<PaymentRecord> {
    if (request.txId.trim() === '') throw new ServerError(Status.INVALID_ARGUMENT, 'tx_id is required');
    const tx = this.ledger.state.tx(request.txId);
    return tx ? toWire(tx) : { txId: request.txId, state: 'unknown', amountCents: 0, maskedCard: '', updatedAtMs: 0 };
  }

  async status(): Promise<PaymentStatus> {
    const s = this.ledger.state.stats();
    return {
      inFlight: this.ledger.state.held().map(toWire),
      capturedCount: s.captured,
      voidedCount: s.voided,
      declinedCount: s.declined,
      capturedCents: s.capturedCents,
    };
  }

  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (err instanceof InvalidPaymentRequest) throw new ServerError(Status.INVALID_ARGUMENT, err.message);
      if (err instanceof DecisionConflict) {
        this.logger.error(`refused a decision that contradicts the recorded one: ${err.message}`, { tx_id: err.txId });
        throw new ServerError(Status.FAILED_PRECONDITION, err.message);
      }
      throw err;
    }
  }
}

function checkBatch(size: number): void {
  if (size > MAX_BATCH) throw new ServerError(Status.INVALID_ARGUMENT, `at most ${MAX_BATCH} transactions per batch`);
}
