import type { TokenOpener } from './token-seal';

/**
 * The payment service's state machine: one record per transaction (the order id), the fence (the highest coordinator
 * term seen), and what each card's token stands for (sealed in the token itself, see token-seal.ts; stored as a row
 * only for tokens issued before). Pure and deterministic: time comes in as arguments, and every
 * operation returns the records it changed, which the caller makes durable before it answers (PaymentStore).
 *
 * A transaction's life, as a participant of the executors' two-phase commit:
 *
 *     unknown ──Prepare──▶ held (vote YES) ──commit──▶ captured
 *        │         └─────▶ declined (vote NO)   └─abort──▶ voided
 *        └──abort──▶ aborted (a late Prepare is answered ABORTED)
 *
 * Idempotent by tx id: a retried Prepare gets the vote it got first, a retried Finish changes nothing. A decision
 * never changes: a commit after an abort (or the reverse), a commit of a transaction that never voted YES, or a
 * Prepare that disagrees with the one that held the money, means the coordinator broke the protocol. Those are
 * refused whole (DecisionConflict), before anything in their batch is applied.
 */

export type TxState = 'held' | 'captured' | 'voided' | 'declined' | 'aborted';
export type Vote = 'YES' | 'DECLINED' | 'UNKNOWN_TOKEN' | 'ABORTED' | 'STALE_TERM';

export interface TokenRecord {
  token: string;
  /** "**** 4242": all that is ever kept of the card. */
  maskedCard: string;
  /** The card was on the decline list when it was tokenized. */
  declined: boolean;
  createdAtMs: number;
}

export interface TxRecord {
  txId: string;
  state: TxState;
  /** The amount held (and captured or voided); 0 for a transaction aborted before any Prepare. */
  amountCents: number;
  token: string;
  maskedCard: string;
  /** The term of the Prepare that decided the vote (0: unfenced). */
  term: number;
  preparedAtMs: number;
  updatedAtMs: number;
}

/** What an operation changed, for the store to write in one transaction. */
export type Change = { kind: 'tx'; tx: TxRecord } | { kind: 'fence'; term: number };

export interface PrepareRequest {
  txId: string;
  token: string;
  amountCents: number;
  /** The coordinator's term; 0 for none (as the books database's fence). */
  term: number;
}

export interface PrepareAnswer {
  vote: Vote;
  message: string;
}

export interface FinishRequest {
  txId: string;
  commit: boolean;
}

/** The coordinator asked for something that contradicts what was decided: refused, nothing applied. */
export class DecisionConflict extends Error {
  constructor(
    readonly txId: string,
    message: string,
  ) {
    super(`transaction ${txId}: ${message}`);
    this.name = 'DecisionConflict';
  }
}

export interface PaymentSnapshot {
  tokens: readonly TokenRecord[];
  txs: readonly TxRecord[];
  fence: number;
}

export interface PaymentCounts {
  captured: number;
  voided: number;
  declined: number;
  capturedCents: number;
  held: number;
  heldCents: number;
}

const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;

/** Why a request cannot be read at all (INVALID_ARGUMENT), or undefined. */
export function prepareProblem(r: PrepareRequest): string | undefined {
  if (r.txId.trim() === '') return 'tx_id is required';
  if (r.token.trim() === '') return 'token is required';
  if (!isCount(r.amountCents)) return 'amount_cents must be a non-negative integer';
  if (!isCount(r.term)) return 'term must be a non-negative integer';
  return undefined;
}

export function finishProblem(r: FinishRequest): string | undefined {
  return r.txId.trim() === '' ? 'tx_id is required' : undefined;
}

export class PaymentState {
  /** Tokens kept as rows: those issued before tokens were sealed (an older data directory). */
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly txs = new Map<string, TxRecord>();
  private fenceTerm = 0;
  /** When each held transaction may next ask for its decision (not durable: a restart asks again after the timeout). */
  private readonly nextAskAt = new Map<string, number>();
  private readonly counts: PaymentCounts = { captured: 0, voided: 0, declined: 0, capturedCents: 0, held: 0, heldCents: 0 };

  /** `opener` reads sealed tokens (token-seal.ts); without it only stored tokens are known. */
  constructor(
    snapshot?: PaymentSnapshot,
    private readonly opener?: TokenOpener,
  ) {
    if (!snapshot) return;
    for (const t of snapshot.tokens) this.tokens.set(t.token, { ...t });
    for (const tx of snapshot.txs) this.put({ ...tx });
    this.fenceTerm = snapshot.fence;
  }

  get fence(): number {
    return this.fenceTerm;
  }

  stats(): Readonly<PaymentCounts> {
    return { ...this.counts };
  }

  /** What a token stands for: a stored token's row, or a sealed token's record; undefined if neither. */
  token(token: string): TokenRecord | undefined {
    return this.tokens.get(token) ?? this.opener?.open(token);
  }

  tx(txId: string): TxRecord | undefined {
    const tx = this.txs.get(txId);
    return tx && { ...tx };
  }

  /** Transactions held and waiting for their decision, oldest first. */
  held(): TxRecord[] {
    return [...this.txs.values()].filter((t) => t.state === 'held').sort((a, b) => a.preparedAtMs - b.preparedAtMs || a.txId.localeCompare(b.txId));
  }

  /**
   * Votes on each transaction in order. Refused whole (DecisionConflict) if any contradicts what is recorded, or an
   * earlier request of the same batch.
   */
  prepareBatch(requests: readonly PrepareRequest[], nowMs: number): { answers: PrepareAnswer[]; changes: Change[] } {
    const seen = new Map<string, PrepareRequest>();
    for (const r of requests) {
      const first = this.txs.get(r.txId) ?? seen.get(r.txId);
      if (first && first.token !== '' && (first.token !== r.token || first.amountCents !== r.amountCents)) {
        const recorded = 'state' in first ? first.state : 'prepared in this batch';
        throw new DecisionConflict(r.txId, `a Prepare for ${r.amountCents} cents with another token or amount than the one recorded (${first.amountCents} cents, ${recorded})`);
      }
      if (!seen.has(r.txId)) seen.set(r.txId, r);
    }
    const changes: Change[] = [];
    const answers = requests.map((r) => this.prepare(r, nowMs, changes));
    return { answers, changes };
  }

  private prepare(r: PrepareRequest, nowMs: number, changes: Change[]): PrepareAnswer {
    if (r.term !== 0) {
      if (r.term < this.fenceTerm) return { vote: 'STALE_TERM', message: `term ${r.term} is below the highest coordinator term seen, ${this.fenceTerm}` };
      if (r.term > this.fenceTerm) {
        this.fenceTerm = r.term;
        changes.push({ kind: 'fence', term: r.term });
      }
    }
    const existing = this.txs.get(r.txId);
    if (existing) return answerFor(existing);
    const token = this.token(r.token);
    if (!token) return { vote: 'UNKNOWN_TOKEN', message: 'no card was tokenized with this token' };
    const tx: TxRecord = {
      txId: r.txId,
      state: token.declined ? 'declined' : 'held',
      amountCents: r.amountCents,
      token: r.token,
      maskedCard: token.maskedCard,
      term: r.term,
      preparedAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    this.put(tx);
    changes.push({ kind: 'tx', tx: { ...tx } });
    return answerFor(tx);
  }

  /**
   * Applies each decision in order and answers each transaction's record after it. Refused whole (DecisionConflict)
   * if any contradicts what is recorded or an earlier request of the same batch.
   */
  finishBatch(requests: readonly FinishRequest[], nowMs: number): { records: TxRecord[]; changes: Change[] } {
    const decided = new Map<string, boolean>();
    for (const r of requests) {
      const earlier = decided.get(r.txId);
      if (earlier !== undefined && earlier !== r.commit) throw new DecisionConflict(r.txId, 'both committed and aborted in one batch');
      const conflict = this.conflict(this.txs.get(r.txId), r.commit);
      if (conflict) throw new DecisionConflict(r.txId, conflict);
      decided.set(r.txId, r.commit);
    }
    const changes: Change[] = [];
    const records = requests.map((r) => this.finish(r, nowMs, changes));
    return { records, changes };
  }

  /** Why this decision contradicts the record, or undefined. */
  private conflict(tx: TxRecord | undefined, commit: boolean): string | undefined {
    if (commit) {
      if (!tx) return 'a commit of a transaction never prepared here';
      if (tx.state === 'voided' || tx.state === 'aborted') return 'a commit after an abort';
      if (tx.state === 'declined') return 'a commit of a transaction that voted DECLINED';
      return undefined;
    }
    if (tx?.state === 'captured') return 'an abort after a commit';
    return undefined;
  }

  private finish(r: FinishRequest, nowMs: number, changes: Change[]): TxRecord {
    const tx = this.txs.get(r.txId);
    if (!tx) {
      // Presumed abort reached us before (or instead of) the Prepare: remember it, so a late Prepare holds nothing.
      const aborted: TxRecord = { txId: r.txId, state: 'aborted', amountCents: 0, token: '', maskedCard: '', term: 0, preparedAtMs: 0, updatedAtMs: nowMs };
      this.put(aborted);
      changes.push({ kind: 'tx', tx: { ...aborted } });
      return { ...aborted };
    }
    if (tx.state !== 'held') return { ...tx };
    const next: TxRecord = { ...tx, state: r.commit ? 'captured' : 'voided', updatedAtMs: nowMs };
    this.put(next);
    changes.push({ kind: 'tx', tx: { ...next } });
    return { ...next };
  }

  /**
   * Cooperative termination: the held transactions that have waited `timeoutMs` since their Prepare and have not
   * asked in the last `retryMs`, oldest first. Each returned is marked as asking now.
   */
  dueForDecision(nowMs: number, timeoutMs: number, retryMs: number): string[] {
    const due: string[] = [];
    for (const tx of this.held()) {
      if (nowMs - tx.preparedAtMs < timeoutMs) continue;
      if ((this.nextAskAt.get(tx.txId) ?? 0) > nowMs) continue;
      this.nextAskAt.set(tx.txId, nowMs + retryMs);
      due.push(tx.txId);
    }
    return due;
  }

  /** The records as a snapshot (tests; the store keeps its own copy). */
  snapshot(): PaymentSnapshot {
    return { tokens: [...this.tokens.values()].map((t) => ({ ...t })), txs: [...this.txs.values()].map((t) => ({ ...t })), fence: this.fenceTerm };
  }

  /** Replaces a transaction's record, keeping the counts in step. */
  private put(tx: TxRecord): void {
    const before = this.txs.get(tx.txId);
    if (before) this.count(before, -1);
    this.txs.set(tx.txId, tx);
    this.count(tx, 1);
    if (tx.state !== 'held') this.nextAskAt.delete(tx.txId);
  }

  private count(tx: TxRecord, sign: 1 | -1): void {
    const c = this.counts;
    if (tx.state === 'captured') {
      c.captured += sign;
      c.capturedCents += sign * tx.amountCents;
    } else if (tx.state === 'voided') c.voided += sign;
    else if (tx.state === 'declined') c.declined += sign;
    else if (tx.state === 'held') {
      c.held += sign;
      c.heldCents += sign * tx.amountCents;
    }
  }
}

/** The vote a recorded transaction gets, first time or on every retry. */
function answerFor(tx: TxRecord): PrepareAnswer {
  switch (tx.state) {
    case 'held':
      return { vote: 'YES', message: `held ${tx.amountCents} cents` };
    case 'captured':
      return { vote: 'YES', message: 'already committed' };
    case 'declined':
      return { vote: 'DECLINED', message: 'the card is on the decline list' };
    case 'voided':
    case 'aborted':
      return { vote: 'ABORTED', message: 'this transaction was aborted' };
  }
}
